"""The builder's fixed inputs: paths, the seed, the caps and the shared helpers.

Every number here is part of the output: changing the seed, a cap or the test fraction
changes which examples are kept and where they go, so the committed data changes too.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = ROOT / "training_data"
SOURCES_DIR = DEFAULT_DATA_DIR / "sources"
DOMAIN_FILE = DEFAULT_DATA_DIR / "domain.yml"
DOCS_FILE = ROOT / "docs" / "data.md"

SEED = "shopintent-data-v1"
TEST_FRACTION = 0.15
TRAIN_CAP = 250
OUT_OF_SCOPE_POOL = 760
MIN_TRAIN_EXAMPLES = 60
MIN_INTENTS = 36
# product_search keeps every WANDS query; the catalog phrasings on top are capped here.
GENERATED_SEARCH_TRAIN_CAP = 170
# How many catalog phrasings are generated per product intent before the caps.
GENERATED_PER_INTENT = 320

ENTITY_NAMES = (
    "order_id",
    "invoice_id",
    "refund_amount",
    "account_type",
    "person_name",
    "delivery_city",
    "delivery_country",
    "product",
    "brand",
    "category",
    "price",
    "email",
)


class TrainingDataError(Exception):
    """The sources or the built data break one of the data requirements."""


def require_source(path: Path, what: str) -> None:
    """Raise `TrainingDataError` naming `what` when the source copy at `path` is missing."""
    if not path.is_file():
        raise TrainingDataError(
            f"expected {what} at {path}, but it was not found; "
            "restore training_data/sources/ from git"
        )


def normalise(text: str) -> str:
    """Lowercase and collapse whitespace: the key for de-duplication and overlap checks."""
    return " ".join(text.lower().split())


def stable_hash(*parts: str) -> int:
    """A seeded, platform-independent hash used for every deterministic selection."""
    digest = hashlib.sha256("\x1f".join((SEED, *parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")
