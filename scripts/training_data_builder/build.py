"""The whole build: read every source, de-duplicate, split, check, write."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from nlu.data import Example

from .bitext import load_bitext
from .catalog import load_catalog
from .checks import check, read_domain_intents
from .clinc import load_out_of_scope
from .config import GENERATED_PER_INTENT, SEED
from .handwritten import generate_smalltalk, generate_support
from .lookups import build_lookups
from .phrasing import generate_product_examples
from .report import BuildReport
from .split import deduplicate, split_and_cap
from .wands import load_wands
from .writing import write_files


def build_examples(sources: Path, report: BuildReport) -> list[Example]:
    """All de-duplicated examples from every source, before the split.

    Earlier groups win a text that two sources share: Bitext, then the support
    phrasings, WANDS, the catalog phrasings, small talk and CLINC150.
    """
    bitext = load_bitext(sources, report)
    products = load_catalog(sources)
    wands = [Example(q, "product_search", source="wands") for q in load_wands(sources)]
    generated = generate_product_examples(products, per_intent=GENERATED_PER_INTENT, rng_seed=SEED)
    support = generate_support(SEED)
    smalltalk = generate_smalltalk(SEED)
    oos = load_out_of_scope(sources, report)
    groups = [bitext, support, wands, generated, smalltalk, oos]
    for group in groups:
        for ex in group:
            report.sources.setdefault(ex.intent, Counter())[ex.source] += 1
    return deduplicate(groups, report)


def build(sources: Path, out: Path, domain_path: Path) -> BuildReport:
    """Build all training and test YAML from `sources` into `out`.

    Args:
        sources: The directory holding the source copies (`training_data/sources`).
        out: Where `nlu/*.yml` and `test/nlu.yml` are written (created if missing).
        domain_path: The Rasa domain whose intents must equal the data's intents.

    Returns:
        Counts per intent and of everything dropped, for the documentation.

    Raises:
        TrainingDataError: A source is missing or the data breaks a requirement.

    >>> report = build(Path("training_data/sources"), Path("/tmp/td"), Path("training_data/domain.yml"))
    >>> report.train_counts["greet"] >= 60
    True
    """
    report = BuildReport()
    examples = build_examples(sources, report)
    train, test = split_and_cap(examples)
    check(train, test, read_domain_intents(domain_path))
    write_files(out, train, test, build_lookups(load_catalog(sources)))
    report.train_counts = dict(Counter(e.intent for e in train))
    report.test_counts = dict(Counter(e.intent for e in test))
    return report
