"""Benchmark catalog search, product resolution and recommendations on a 100k-product catalog.

Generates a deterministic synthetic catalog from the DummyJSON products (titles, brands,
categories and tags recombined, prices and ratings drawn at random) plus synthetic carts
for the "bought together" signal, loads it into a fresh SQLite store (the default
backend, WAL, FTS5), and times each operation per call. Prints a table and rewrites the
`search` section of docs/benchmarks.md.

    .venv/bin/python benchmarks/search.py                 # 100,000 products
    .venv/bin/python benchmarks/search.py --products 20000 --no-docs
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session
from tqdm import tqdm

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from actions import store  # noqa: E402
from actions.catalog_source import ProductRow, load_products  # noqa: E402
from actions.config import get_settings  # noqa: E402
from actions.models import Cart, CartLine, Customer  # noqa: E402
from actions.search import (  # noqa: E402
    bought_together,
    resolve_product,
    search_products,
    similar_products,
    top_rated,
)
from actions.vocabulary import vocabulary  # noqa: E402

DOC = REPO / "docs" / "benchmarks.md"
BEGIN, END = "<!-- begin:search -->", "<!-- end:search -->"
_ADJECTIVES = [
    "Classic",
    "Premium",
    "Eco",
    "Smart",
    "Compact",
    "Deluxe",
    "Ultra",
    "Vintage",
    "Modern",
    "Portable",
    "Wireless",
    "Organic",
    "Sport",
    "Travel",
    "Essential",
    "Pro",
    "Slim",
    "Heavy Duty",
]
_VARIANTS = [
    "Black",
    "White",
    "Silver",
    "Rose Gold",
    "Blue",
    "Red",
    "Green",
    "Mini",
    "Max",
    "Lite",
    "Plus",
    "XL",
    "2-Pack",
    "Gen 2",
    "Gen 3",
    "Edition",
    "Set",
    "Refill",
]
_SYLLABLES = [
    "no",
    "va",
    "tek",
    "lu",
    "mi",
    "ra",
    "zen",
    "ko",
    "bel",
    "dor",
    "fin",
    "ix",
    "sol",
    "ter",
    "qua",
]
_QUERY_NOUNS = [
    "earphones",
    "laptop",
    "phone case",
    "mascara",
    "perfume",
    "sunglasses",
    "watch",
    "dress",
    "chair",
    "knife",
    "charger",
    "shoes",
    "lamp",
    "bag",
    "tablet",
    "shirt",
    "lipstick",
    "blender",
]
_QUERY_FILTERS = [
    "",
    "",
    " under 50",
    " under $100",
    " rated 4+",
    " between 20 and 200",
    " in stock",
]


@dataclass(frozen=True)
class Timing:
    """Per-call latencies of one operation, in milliseconds."""

    name: str
    samples: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples)


def synthetic_catalog(base: list[ProductRow], n: int, rng: random.Random) -> list[ProductRow]:
    """`n` products recombined from the real catalog (same categories and vocabulary)."""
    brands = sorted({p["brand"] for p in base if p["brand"]})
    brands += [
        "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).title()
        for _ in range(400)
    ]
    rows: list[ProductRow] = []
    for i in range(n):
        src = base[i % len(base)]
        title = f"{rng.choice(_ADJECTIVES)} {src['title']} {rng.choice(_VARIANTS)}"
        availability = rng.choices(["In Stock", "Low Stock", "Out of Stock"], weights=[88, 8, 4])[0]
        rows.append(
            ProductRow(
                id=i + 1,
                sku=f"SYN-{i + 1:07d}",
                title=title,
                description=src["description"],
                brand=rng.choice(brands),
                category=src["category"],
                price=round(src["price"] * rng.uniform(0.4, 1.8), 2),
                discount_percentage=round(rng.uniform(0, 20), 2),
                rating=round(rng.uniform(1, 5), 2),
                stock=0 if availability == "Out of Stock" else rng.randint(1, 200),
                availability=availability,
                tags=list(src["tags"]),
                warranty=src["warranty"],
                shipping_info=src["shipping_info"],
                return_policy=src["return_policy"],
                weight=src["weight"],
                dimensions=src["dimensions"],
                minimum_order_quantity=src["minimum_order_quantity"],
                thumbnail=None,
            )
        )
    return rows


def load_store(url: str, products: list[ProductRow], carts: int, rng: random.Random) -> float:
    """Create the schema and bulk-load products and carts; returns seconds taken."""
    start = time.perf_counter()
    store.init_db(url)
    with store.session_scope(url) as session:
        for begin in tqdm(range(0, len(products), 5000), desc="loading products", unit="batch"):
            store.insert_products(session, products[begin : begin + 5000])
        store.refresh_search_terms(session)
        session.execute(
            insert(Customer),
            [
                {"id": c, "name": f"Customer {c}", "email": f"c{c}@example.com", "address": ""}
                for c in range(1, 1001)
            ],
        )
        session.execute(
            insert(Cart),
            [{"id": c, "customer_id": rng.randint(1, 1000)} for c in range(1, carts + 1)],
        )
        lines = [
            {"cart_id": c, "product_id": rng.randint(1, len(products)), "quantity": 1}
            for c in range(1, carts + 1)
            for _ in range(rng.randint(2, 5))
        ]
        session.execute(insert(CartLine), lines)
    return time.perf_counter() - start


def resolved_titles(session: Session, phrase: str) -> list[str]:
    """The product title a phrase resolves to, or the choices offered when it is ambiguous."""
    resolution = resolve_product(session, phrase)
    if resolution.product is not None:
        return [resolution.product.title]
    return [c.title for c in resolution.candidates] if resolution.ambiguous else []


def misspell(title: str, rng: random.Random) -> str:
    """The title in lower case with one longer word mistyped."""
    words = title.lower().split()
    long_words = [i for i, w in enumerate(words) if len(w) >= 5]
    if long_words:
        i = rng.choice(long_words)
        words[i] = typo(words[i], rng)
    return " ".join(words)


def typo(word: str, rng: random.Random) -> str:
    """Drop or swap one letter of a longer word, the way shoppers mistype."""
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    return (
        word[:i] + word[i + 1 :]
        if rng.random() < 0.5
        else word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    )


def time_calls(name: str, calls: list[Callable[[], object]]) -> Timing:
    samples = []
    for fn in tqdm(calls, desc=name, unit="call", leave=False):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return Timing(name, samples)


def run(
    n_products: int, n_queries: int, db: Path | None, seed: int
) -> tuple[list[Timing], dict[str, str]]:
    rng = random.Random(seed)
    base = load_products(get_settings().catalog_dir)
    products = synthetic_catalog(base, n_products, rng)
    with tempfile.TemporaryDirectory() as tmp:
        path = db or Path(tmp) / "bench.db"
        if path.exists():
            path.unlink()
        url = f"sqlite:///{path}"
        load_s = load_store(url, products, carts=max(1000, n_products // 5), rng=rng)
        size_mb = path.stat().st_size / 1e6
        with store.session_factory(url)() as session:
            start = time.perf_counter()
            vocab = vocabulary(session, refresh=True)
            vocab_ms = (time.perf_counter() - start) * 1000
            queries = [
                f"{rng.choice(_QUERY_NOUNS)}{rng.choice(_QUERY_FILTERS)}" for _ in range(n_queries)
            ]
            queries[:3] = [
                "wireless earphones under 100",
                "laptops under $1500",
                "red lipstick rated 4+",
            ]
            picks = rng.sample(products, n_queries)
            phrases = [misspell(p["title"], rng) for p in picks]
            picked_categories = [rng.choice(sorted(vocab.categories)) for _ in range(n_queries)]
            timings = [
                time_calls("search", [lambda q=q: search_products(session, q) for q in queries]),
                time_calls(
                    "resolve (typos)", [lambda p=p: resolve_product(session, p) for p in phrases]
                ),
                time_calls(
                    "recommend similar",
                    [
                        lambda p=p: similar_products(session, p["id"], limit=4, max_price=500)
                        for p in picks
                    ],
                ),
                time_calls(
                    "recommend bought together",
                    [lambda p=p: bought_together(session, p["id"], limit=4) for p in picks],
                ),
                time_calls(
                    "recommend top-rated in category",
                    [
                        lambda c=c: top_rated(session, categories=[c], limit=5, max_price=200)
                        for c in picked_categories
                    ],
                ),
            ]
            resolved = sum(
                1
                for p, phrase in zip(picks[:100], phrases[:100], strict=True)
                if p["title"] in resolved_titles(session, phrase)
            )
    info = {
        "products": f"{n_products:,}",
        "queries per operation": str(n_queries),
        "load (insert + FTS index + vocabulary)": f"{load_s:.1f} s",
        "database file": f"{size_mb:.0f} MB",
        "vocabulary load (once per process)": f"{vocab_ms:.0f} ms, {len(vocab.terms):,} words",
        "misspelled titles resolved to the product (or offered among the choices), of 100": str(
            resolved
        ),
    }
    return timings, info


def render(timings: list[Timing], info: dict[str, str]) -> str:
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    lines = [
        "## search",
        "",
        f"`benchmarks/search.py`, run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine}; "
        "SQLite (WAL, FTS5 BM25), one process, warm caches.",
        "",
        "| operation | p50 ms | p99 ms | mean ms |",
        "|---|---:|---:|---:|",
        *(f"| {t.name} | {t.p50:.1f} | {t.p99:.1f} | {t.mean:.1f} |" for t in timings),
        "",
        *(f"- {k}: {v}" for k, v in info.items()),
    ]
    return "\n".join(lines)


def write_section(section: str, doc: Path = DOC) -> None:
    """Replace the text between the search markers, creating the file or markers if missing."""
    block = f"{BEGIN}\n{section}\n{END}"
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = f"{head}{block}{tail}"
    else:
        text = text.rstrip("\n") + f"\n\n{block}\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--products", type=int, default=100_000, help="catalog size (default 100000)"
    )
    parser.add_argument(
        "--queries", type=int, default=300, help="calls per operation (default 300)"
    )
    parser.add_argument("--db", type=Path, help="keep the SQLite file here (default: a temp dir)")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args(argv)
    timings, info = run(args.products, args.queries, args.db, args.seed)
    section = render(timings, info)
    print(section)
    if not args.no_docs:
        write_section(section)
        print(f"\nwrote the search section of {DOC.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
