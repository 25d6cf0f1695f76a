"""Build the shop's NLU training data (Rasa 3.x YAML) from `training_data/sources/`.

The build is deterministic: every random choice comes from a seeded RNG and every
selection (caps, the held-out split) from a seeded SHA-256 hash of the normalised
text, so a rerun on the same sources writes byte-identical files. Examples are
`nlu.data.Example` records and the files are written with nlu's writer.

One module per job:

* reading each source: `bitext`, `catalog` (DummyJSON, and the category phrases of
  `actions/data/categories.yml`), `wands`, `clinc` (CLINC150 for `out_of_scope`);
* phrasing: `template_files` reads the hand-written phrasings in `templates/*.yml`,
  `phrasing` fills the catalog templates, `handwritten` makes the small-talk and
  support examples, `segments` holds the pieces an example is built from;
* `split` (de-duplication, caps, the held-out split), `checks`, `lookups`;
* writing: `writing` (the Rasa files), `docs` (the counts in `docs/data.md`);
* `build` runs them in order; `config` holds the seed, caps and paths.

>>> report = build(SOURCES_DIR, DEFAULT_DATA_DIR, DOMAIN_FILE)  # doctest: +SKIP
>>> update_docs(DOCS_FILE, report)  # doctest: +SKIP
"""

from __future__ import annotations

from .bitext import BITEXT_INTENTS
from .build import build
from .catalog import CATEGORIES_FILE, CATEGORY_WORDS
from .clinc import CLINC_EXCLUDED
from .config import DEFAULT_DATA_DIR, DOCS_FILE, DOMAIN_FILE, SOURCES_DIR, TrainingDataError
from .docs import update_docs
from .report import BuildReport
from .segments import clean_text

__all__ = [
    "BITEXT_INTENTS",
    "CATEGORIES_FILE",
    "CATEGORY_WORDS",
    "CLINC_EXCLUDED",
    "DEFAULT_DATA_DIR",
    "DOCS_FILE",
    "DOMAIN_FILE",
    "SOURCES_DIR",
    "BuildReport",
    "TrainingDataError",
    "build",
    "clean_text",
    "update_docs",
]
