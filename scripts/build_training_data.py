"""Build the shop's NLU training data (Rasa 3.x YAML) from `training_data/sources/`.

The build is deterministic: every random choice comes from a seeded RNG and every
selection (caps, the held-out split) from a seeded SHA-256 hash of the normalised
text, so a rerun on the same sources writes byte-identical files.

Outputs (under the output directory, `training_data/` by default):

* `nlu/bitext.yml`, `nlu/products.yml`, `nlu/smalltalk.yml`, `nlu/out_of_scope.yml`,
  `nlu/support.yml`: the training examples, one file per origin (each keeps its
  licence notice);
* `nlu/lookups.yml`: lookup tables (catalog products, brands, categories) and synonyms;
* `test/nlu.yml`: the stratified held-out split (about 15 % of each intent);
* the counts block of `docs/data.md`.

The builder is the package `scripts/training_data_builder/` (its hand-written
phrasings are the YAML files in its `templates/`); this script is its command line.
Run it with `make data` or `python scripts/build_training_data.py [--out DIR]`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.training_data_builder import (
    DEFAULT_DATA_DIR,
    DOCS_FILE,
    DOMAIN_FILE,
    SOURCES_DIR,
    TrainingDataError,
    build,
    update_docs,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sources", type=Path, default=SOURCES_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--domain", type=Path, default=DOMAIN_FILE)
    parser.add_argument("--docs", type=Path, default=DOCS_FILE)
    args = parser.parse_args(argv)
    try:
        report = build(args.sources, args.out, args.domain)
    except TrainingDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    update_docs(args.docs, report)
    total = sum(report.train_counts.values())
    print(
        f"wrote {len(report.train_counts)} intents, {total} training and "
        f"{sum(report.test_counts.values())} test examples to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
