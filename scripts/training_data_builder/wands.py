"""Read the WANDS product-search queries (Wayfair): every one becomes `product_search`."""

from __future__ import annotations

import csv
from pathlib import Path

from .config import require_source
from .segments import clean_text


def load_wands(sources: Path) -> list[str]:
    """Read every query text from the WANDS `query.csv` (tab-separated)."""
    path = sources / "wands-queries" / "query.csv"
    require_source(path, "the WANDS queries")
    with path.open(encoding="utf-8", newline="") as handle:
        return [clean_text(row["query"]) for row in csv.DictReader(handle, delimiter="\t")]
