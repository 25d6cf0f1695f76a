"""Build the shop's NLU training data (Rasa 3.x YAML) from `training_data/sources/`.

The script is deterministic: every random choice comes from a seeded RNG and every
selection (caps, the held-out split) from a seeded SHA-256 hash of the normalised
text, so a rerun on the same sources writes byte-identical files.

Outputs (under the output directory, `training_data/` by default):

* `nlu/bitext.yml`, `nlu/products.yml`, `nlu/smalltalk.yml`, `nlu/out_of_scope.yml`:
  the training examples, one file per origin (each keeps its licence notice);
* `nlu/lookups.yml`: lookup tables (catalog products, brands, categories) and synonyms;
* `test/nlu.yml`: the stratified held-out split (about 15 % of each intent).

Run it with `make data` or `python scripts/build_training_data.py [--out DIR]`.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = ROOT / "training_data"

SEED = "shopintent-data-v1"
TEST_FRACTION = 0.15
TRAIN_CAP = 250
OUT_OF_SCOPE_POOL = 760
MIN_TRAIN_EXAMPLES = 60
MIN_INTENTS = 36
# product_search keeps every WANDS query; the catalog phrasings on top are capped here.
GENERATED_SEARCH_TRAIN_CAP = 170

BITEXT_INTENTS = (
    "cancel_order",
    "change_order",
    "change_shipping_address",
    "check_cancellation_fee",
    "check_invoice",
    "check_payment_methods",
    "check_refund_policy",
    "complaint",
    "contact_customer_service",
    "contact_human_agent",
    "create_account",
    "delete_account",
    "delivery_options",
    "delivery_period",
    "edit_account",
    "get_invoice",
    "get_refund",
    "newsletter_subscription",
    "payment_issue",
    "place_order",
    "recover_password",
    "registration_problems",
    "review",
    "set_up_shipping_address",
    "switch_account",
    "track_order",
    "track_refund",
)

# CLINC150 intents that overlap what a shop-support bot does (orders, payments, cards,
# accounts, small talk it answers itself, product facts), so they must not be labelled
# out_of_scope. Everything else in CLINC150's in-scope set may feed out_of_scope.
CLINC_EXCLUDED = {
    # banking: payments, bills and transactions look like payment_issue / refunds
    "account_blocked": "banking: blocked account looks like an account / payment problem",
    "balance": "banking: balance questions look like refund tracking",
    "bill_balance": "banking: bills overlap invoices",
    "bill_due": "banking: bills overlap invoices",
    "freeze_account": "banking: account freezing overlaps account intents",
    "order_checks": "banking: 'order' wording overlaps place_order",
    "pay_bill": "banking: paying overlaps payment intents",
    "spending_history": "banking: purchase history overlaps orders / invoices",
    "transactions": "banking: charges overlap payment_issue / invoices",
    "transfer": "banking: money transfer overlaps payment methods",
    "routing": "banking: bank details overlap payment methods",
    "direct_deposit": "banking: deposits overlap refunds",
    "interest_rate": "banking: close to payment questions",
    "min_payment": "credit cards: payments",
    # credit cards: declined / lost cards are exactly payment_issue
    "card_declined": "credit cards: declined card is a payment_issue",
    "damaged_card": "credit cards: payment_issue",
    "expiration_date": "credit cards: card details overlap payment methods",
    "new_card": "credit cards: card questions overlap payment methods",
    "replacement_card_duration": "credit cards: card questions",
    "report_lost_card": "credit cards: payment_issue",
    "report_fraud": "credit cards: fraudulent charges are a complaint / payment_issue",
    "pin_change": "credit cards: card questions",
    "credit_limit": "credit cards: payment_issue",
    "credit_limit_change": "credit cards: payment_issue",
    "apr": "credit cards: payment questions",
    "international_fees": "credit cards: fees overlap payment and delivery costs",
    "redeem_rewards": "credit cards: rewards overlap shop loyalty / discounts",
    "rewards_balance": "credit cards: rewards overlap shop loyalty / discounts",
    "credit_score": "credit cards: finance, close to payment questions",
    "application_status": "credit cards: 'status of my application' reads like track_order",
    "improve_credit_score": "credit cards: finance, close to payment questions",
    # shopping and orders: these are shop intents
    "order": "shopping: 'order X' is place_order / product_search",
    "order_status": "shopping: this is track_order",
    "shopping_list": "shopping: shopping lists overlap product_search",
    "shopping_list_update": "shopping: shopping lists overlap product_search",
    "cancel_reservation": "travel: 'cancel my ...' overlaps cancel_order",
    "confirm_reservation": "travel: 'confirm my ...' overlaps order status",
    # product facts for groceries and vehicles the catalog sells
    "ingredients_list": "kitchen: ingredients overlap product_info for groceries",
    "nutrition_info": "kitchen: nutrition overlaps product_info for groceries",
    "calories": "kitchen: calories overlap product_info for groceries",
    "food_last": "kitchen: shelf life overlaps product_info for groceries",
    "mpg": "auto: fuel use overlaps product_info for the catalog's vehicles",
    "find_phone": "utility: 'find my phone' reads like product_search for phones",
    # meta and small talk the bot answers with its own intents
    "greeting": "small talk: this is greet",
    "goodbye": "small talk: this is goodbye",
    "thank_you": "small talk: this is thank_you",
    "yes": "meta: this is affirm",
    "no": "meta: this is deny",
    "maybe": "meta: an answer to the bot's yes/no questions",
    "cancel": "meta: 'cancel that' overlaps deny / cancel_order",
    "repeat": "meta: a request to the bot itself",
    "what_can_i_ask_you": "meta: the bot answers what it can do",
    "are_you_a_bot": "meta: often precedes contact_human_agent",
    "user_name": "meta: account name overlaps edit_account",
    "change_user_name": "meta: account name overlaps edit_account",
}

# CLINC texts that mention these words read like shop requests even when their CLINC
# intent does not; labelling them out_of_scope would contradict the shop intents.
SHOP_WORDS = re.compile(
    r"\b(orders?|ordered|refunds?|returns?|returned|deliver\w*|ship\w*|package|parcel|"
    r"purchase\w*|buy|bought|shop\w*|store|stores|price|prices|priced|cost|costs|cheap\w*|"
    r"discount\w*|coupon\w*|invoice\w*|receipt\w*|accounts?|password|cart|checkout|"
    r"amazon|products?|sale|sells?|warranty|recommend\w*|gift\w*|payments?|pay|paid|"
    r"charged?|card|subscri\w*|newsletter|complain\w*|customer)\b",
    re.IGNORECASE,
)

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

BITEXT_HEADER = """\
# Derived from the Bitext Customer Support LLM Chatbot Training Dataset
# (bitext/customer-support-llm-chatbot-training-dataset, v1 and v2 CSVs).
# Licensed under the Community Data License Agreement - Sharing, Version 1.0
# (CDLA-Sharing-1.0); see training_data/sources/bitext-customer-support/LICENSE.txt.
# This file is data under CDLA-Sharing-1.0: redistributions must keep this notice
# and make the data available under the same licence.
"""
CLINC_HEADER = """\
# Contains examples from CLINC150 / OOS-eval (clinc/oos-eval, data/data_full.json) by
# Larson et al. 2019, "An Evaluation Dataset for Intent Classification and
# Out-of-Scope Prediction", licensed under Creative Commons Attribution 3.0 (CC BY 3.0);
# see training_data/sources/clinc150/LICENSE. Changes: selected and filtered examples,
# all relabelled as out_of_scope.
"""
PRODUCTS_HEADER = """\
# Catalog phrasings written for this project (MIT), filled with product titles, brands
# and categories from the DummyJSON catalog (MIT, DummyJSON - Muhammad Ovi (Owais)), plus
# every query from the WANDS dataset (MIT, Copyright (c) 2021 ecir2022; wayfair/WANDS).
"""
SMALLTALK_HEADER = "# Small-talk phrasings written for this project (MIT).\n"
LOOKUPS_HEADER = """\
# Lookup tables and synonyms built from the DummyJSON catalog (MIT, DummyJSON -
# Muhammad Ovi (Owais)): product titles, brands and categories, plus aliases people type.
"""
GENERATED_NOTE = "# Generated by scripts/build_training_data.py; do not edit by hand.\n"


class TrainingDataError(Exception):
    """The sources or the built data break one of the data requirements."""


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Segment:
    """A piece of an example: plain text, or the text of one entity mention."""

    text: str
    entity: str | None = None


@dataclass(frozen=True)
class Example:
    """One training example for one intent, as segments so annotations stay exact."""

    intent: str
    segments: tuple[Segment, ...]
    source: str

    @property
    def plain(self) -> str:
        """The message as the user typed it, without annotation markup."""
        return "".join(s.text for s in self.segments)

    @property
    def annotated(self) -> str:
        """The message in Rasa's inline annotation syntax: `[text](entity)`."""
        return "".join(f"[{s.text}]({s.entity})" if s.entity else s.text for s in self.segments)


@dataclass
class BuildReport:
    """Counts gathered while building, written into docs/data.md."""

    train_counts: dict[str, int] = field(default_factory=dict)
    test_counts: dict[str, int] = field(default_factory=dict)
    sources: dict[str, Counter[str]] = field(default_factory=dict)
    bitext: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    clinc_intents_used: list[str] = field(default_factory=list)


def normalise(text: str) -> str:
    """Lowercase and collapse whitespace: the key for de-duplication and overlap checks."""
    return " ".join(text.lower().split())


def stable_hash(*parts: str) -> int:
    """A seeded, platform-independent hash used for every deterministic selection."""
    digest = hashlib.sha256("\x1f".join((SEED, *parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def tidy(segments: Iterable[Segment]) -> tuple[Segment, ...]:
    """Apply `clean_text` across segments: collapse whitespace, keep entities exact.

    Entity mentions lose surrounding spaces (moved into the plain text beside them) so
    every annotation is token-bounded; plain text is trimmed only at the message ends.
    """
    spaced: list[Segment] = []
    for seg in segments:
        text = seg.text.replace("[", "(").replace("]", ")").replace("{", "(").replace("}", ")")
        if seg.entity:
            core = text.strip()
            if text[: len(text) - len(text.lstrip())]:
                spaced.append(Segment(" "))
            spaced.append(Segment(core, seg.entity))
            if text[len(text.rstrip()) :]:
                spaced.append(Segment(" "))
        else:
            spaced.append(Segment(text))
    merged = _merge(spaced)
    out: list[Segment] = []
    for j, seg in enumerate(merged):
        text = seg.text
        if not seg.entity:
            text = re.sub(r"\s+", " ", text)
            if j == 0:
                text = text.lstrip()
            if j == len(merged) - 1:
                text = text.rstrip()
        else:
            text = " ".join(text.split())
        if text:
            out.append(Segment(text, seg.entity))
    return tuple(out)


def clean_text(text: str) -> str:
    """Collapse whitespace and neutralise characters that break Rasa annotation syntax.

    Square brackets start an inline annotation (`[text](entity)`), so they become
    parentheses in plain text; parentheses alone cannot form an annotation.
    """
    text = text.replace("[", "(").replace("]", ")").replace("{", "(").replace("}", ")")
    return " ".join(text.split())


# --------------------------------------------------------------------------- bitext

TOKEN_CHARS = re.compile(r"[0-9A-Za-z]")


def _is_token_bounded(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not TOKEN_CHARS.match(before) and not TOKEN_CHARS.match(after)


def _locate_bitext_entity(
    text: str, value: str, start: int, end: int
) -> tuple[tuple[int, int] | None, str]:
    """Find where a Bitext entity really is, and say how the given span was judged."""
    span = text[start:end]
    if span == value and _is_token_bounded(text, start, end):
        return (start, end), "exact"
    if span.isdigit() and value.isdigit() and span.lstrip("0") == value.lstrip("0"):
        return (start, end), "fixed_leading_zeros"
    if span.lower() == value.lower() and span.strip() == span:
        return (start, end), "fixed_case"
    hits = [
        m.start()
        for m in re.finditer(re.escape(value), text)
        if _is_token_bounded(text, m.start(), m.start() + len(value))
    ]
    if len(hits) == 1:
        return (hits[0], hits[0] + len(value)), "fixed_offsets"
    return None, "dropped_annotation"


# When a text appears in several rows, the row whose span checks out best wins.
VERDICT_RANK = {
    "exact": 0,
    "fixed_leading_zeros": 1,
    "fixed_case": 1,
    "fixed_offsets": 2,
    "no_entity": 3,
    "dropped_annotation": 4,
}


def _require_source(path: Path, what: str) -> None:
    """Raise `TrainingDataError` naming `what` when the source copy at `path` is missing."""
    if not path.is_file():
        raise TrainingDataError(
            f"expected {what} at {path}, but it was not found; "
            "restore training_data/sources/ from git"
        )


def load_bitext(sources: Path, report: BuildReport) -> list[Example]:
    """Read both Bitext CSVs, de-duplicate on the text, and keep checked entity spans.

    Args:
        sources: The `training_data/sources` directory.
        report: Collects how many annotations were exact, fixed or dropped.

    Returns:
        One example per distinct instruction text, with its entity annotation inline.

    Raises:
        TrainingDataError: A CSV is missing, or a text is labelled with two intents.
    """
    folder = sources / "bitext-customer-support"
    # Per normalised text: (rank of its best annotation verdict, verdict, example).
    best: dict[str, tuple[int, str, Example]] = {}
    for name in ("bitext_v1.csv", "bitext_v2.csv"):
        path = folder / name
        _require_source(path, "the Bitext copy")
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                report.bitext["rows read"] += 1
                raw = row["instruction"]
                intent = row["intent"].strip()
                text = clean_text(raw)
                key = normalise(text)
                if not key:
                    report.dropped["bitext: empty text"] += 1
                    continue
                if key in best and best[key][2].intent != intent:
                    raise TrainingDataError(
                        f"expected one intent per Bitext text, but {raw!r} is labelled "
                        f"{best[key][2].intent!r} and {intent!r}; fix the source copy"
                    )
                segments: tuple[Segment, ...] = (Segment(text),)
                verdict = "no_entity"
                entity = row["entity_type"].strip()
                if entity:
                    where, verdict = _locate_bitext_entity(
                        raw, row["entity_value"], int(row["start_offset"]), int(row["end_offset"])
                    )
                    report.bitext[f"all rows: span {verdict}"] += 1
                    if where is not None:
                        s, e = where
                        segments = tidy(
                            (Segment(raw[:s]), Segment(raw[s:e], entity), Segment(raw[e:]))
                        )
                rank = VERDICT_RANK[verdict]
                if key in best:
                    report.bitext["rows repeating a text already read"] += 1
                    if rank >= best[key][0]:
                        continue
                best[key] = (rank, verdict, Example(intent, segments, "bitext"))
    for _, verdict, _ in best.values():
        if verdict != "no_entity":
            report.bitext[f"kept texts: span {verdict}"] += 1
    report.bitext["kept texts"] = len(best)
    return [example for _, _, example in best.values()]


# --------------------------------------------------------------------------- catalog


@dataclass(frozen=True)
class Product:
    """The catalog fields the phrasings need."""

    title: str
    brand: str | None
    category: str
    price: float
    aliases: tuple[str, ...]
    nouns: tuple[str, ...]


# Shared with search: each category's phrases live in `actions/data/categories.yml`
# (its header says which keys each reader uses). The builder samples `phrases`, then
# `training_only`, by position, so their order is part of the output.
CATEGORIES_FILE = ROOT / "actions" / "data" / "categories.yml"


def load_category_words(path: Path = CATEGORIES_FILE) -> dict[str, list[str]]:
    """The phrases the builder uses for each category slug, in file order.

    Args:
        path: The category phrases file shared with search.

    Returns:
        Per slug, its `phrases` followed by its `training_only` phrases.

    Raises:
        TrainingDataError: The file is missing or a category has no `phrases` list.
    """
    if not path.is_file():
        raise TrainingDataError(
            f"expected the category phrases (shared with search) at {path}, but it was not "
            "found; restore actions/data/categories.yml from git"
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    categories = data.get("categories") if isinstance(data, dict) else None
    if not isinstance(categories, dict) or not categories:
        raise TrainingDataError(
            f"expected a `categories:` mapping of slug to phrases in {path}, but found "
            f"{type(categories).__name__}; restore the file from git"
        )
    words: dict[str, list[str]] = {}
    for slug, entry in categories.items():
        phrases = entry.get("phrases") if isinstance(entry, dict) else None
        extra = entry.get("training_only", []) if isinstance(entry, dict) else None
        if not isinstance(phrases, list) or not phrases or not isinstance(extra, list):
            raise TrainingDataError(
                f"expected category {slug!r} in {path} to have a non-empty `phrases` list "
                f"(and optionally a `training_only` list), but found {entry!r}; fix that entry"
            )
        words[str(slug)] = [str(w) for w in [*phrases, *extra]]
    return words


CATEGORY_WORDS = load_category_words()


# Words that end a title without naming the thing: colours, sizes, filler.
TRAILING_WORDS = {
    "black", "white", "red", "grey", "gray", "gold", "silver", "plum", "starlight", "yellow",
    "blue", "green", "brown", "cosmic", "space", "with", "and", "de", "eau", "for", "&",
    "inch", "14", "women", "men", "woman", "man", "off",
}  # fmt: skip
# Last words that are model names or filler, not a noun a person would say `the ...` to.
NOT_NOUNS = {
    "touring", "pro", "plus", "max", "rwd", "princess", "dial", "date", "automatic", "steel",
    "collection", "moonphase", "datejust", "cellini", "mini", "case", "bloom", "noir", "shine",
    "pea", "starlight", "colombo", "jadore", "j'adore", "leaves", "cherry", "bathroom",
    "cream", "wash", "magsafe", "iphone", "one", "leather",
}  # fmt: skip
SPORTS = {"tennis", "cricket", "golf", "baseball", "basketball", "football", "volleyball"}


def _strip_trailing(words: list[str]) -> list[str]:
    out = list(words)
    while len(out) > 1 and out[-1].lower() in TRAILING_WORDS:
        out.pop()
    return out


def _singular(word: str) -> str:
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _head_noun(title: str) -> str | None:
    """The noun a title is about, lower-cased: `Silver Pot With Glass Cap` -> `pot`."""
    words = title.split()
    lowered = [w.lower() for w in words]
    if "with" in lowered and lowered.index("with") > 0:
        words = words[: lowered.index("with")]
    head = _strip_trailing(words)[-1].lower()
    if not head.isalpha() or len(head) < 3 or head in NOT_NOUNS:
        return None
    if head in SPORTS and len(words) > 1:
        return None
    return head


def _product_aliases(title: str, brand: str | None, common: set[str]) -> tuple[str, ...]:
    """Shortened forms people type for a product: `annibale sofa`, `homepod mini`, ...

    Args:
        title: The catalog title.
        brand: The catalog brand, if any.
        common: Generic nouns (singular tags); a one-word alias must not be one of them,
            so `sofa` never becomes a name for one particular sofa.
    """
    words = title.split()
    forms = [title]
    if words[0].lower() == "new" and len(words) > 2:
        words = words[1:]
        forms.append(" ".join(words))
    stripped = _strip_trailing(words)
    if len(stripped) >= 2 or _singular(stripped[0].lower()) not in common:
        forms.append(" ".join(stripped))
    lower = " ".join(words).lower()
    if brand and lower.startswith(brand.lower() + " "):
        rest = _strip_trailing(words[len(brand.split()) :])
        if len(rest) >= 2 or (
            rest and _singular(rest[0].lower()) not in common and len(rest[0]) >= 4
        ):
            forms.append(" ".join(rest))
    head = _head_noun(title)
    if brand and brand.lower() in lower and head:
        first = brand.split()[0] if len(brand.split()[0]) > 3 else brand
        if first.lower() != head:
            forms.append(f"{first} {head.title()}")
    out: list[str] = []
    for form in forms:
        if form and form.lower() not in {f.lower() for f in out}:
            out.append(form)
    return tuple(out)


def _product_nouns(title: str, brand: str | None, tags: Sequence[str]) -> tuple[str, ...]:
    """Nouns for `the mascara`-style mentions: the title's head noun and matching tags."""
    lower_words = [w.lower() for w in title.split()]
    brand_words = {w.lower() for w in (brand or "").split()}
    nouns: list[str] = []
    for tag in tags:
        for candidate in (tag.lower(), _singular(tag.lower())):
            if (
                candidate in lower_words
                and len(candidate) > 3
                and candidate not in brand_words
                and candidate not in NOT_NOUNS
                and (candidate not in SPORTS or len(lower_words) == 1)
            ):
                nouns.append(candidate)
                break
    head = _head_noun(title)
    if head and head not in brand_words:
        nouns.append(head)
    return tuple(dict.fromkeys(nouns))


def load_catalog(sources: Path) -> list[Product]:
    """Read the DummyJSON catalog into `Product` records with their typed aliases.

    Args:
        sources: The `training_data/sources` directory.

    Returns:
        The products, de-duplicated on the title, in catalog order.

    Raises:
        TrainingDataError: The catalog copy is missing or has an unknown category.
    """
    path = sources / "dummyjson-catalog" / "products.json"
    _require_source(path, "the DummyJSON catalog")
    raw = json.loads(path.read_text(encoding="utf-8"))
    items = raw["products"] if isinstance(raw, dict) else raw
    products: list[Product] = []
    titles: set[str] = set()
    common = {_singular(w.lower()) for item in items for t in item.get("tags", []) for w in [t]}
    common |= {_singular(t.split()[-1].lower()) for item in items for t in item.get("tags", [])}
    for item in items:
        title = " ".join(str(item["title"]).split())
        if title.lower() in titles:
            continue
        titles.add(title.lower())
        category = str(item["category"])
        if category not in CATEGORY_WORDS:
            raise TrainingDataError(
                f"expected a category from {sorted(CATEGORY_WORDS)}, but product {title!r} "
                f"has {category!r}; add its phrases to {CATEGORIES_FILE.relative_to(ROOT)}"
            )
        brand = item.get("brand") or None
        tags = [str(t) for t in item.get("tags", [])]
        products.append(
            Product(
                title=title,
                brand=brand,
                category=category,
                price=float(item["price"]),
                aliases=_product_aliases(title, brand, common),
                nouns=_product_nouns(title, brand, tags),
            )
        )
    return products


def load_wands(sources: Path) -> list[str]:
    """Read every query text from the WANDS `query.csv` (tab-separated)."""
    path = sources / "wands-queries" / "query.csv"
    _require_source(path, "the WANDS queries")
    with path.open(encoding="utf-8", newline="") as handle:
        return [clean_text(row["query"]) for row in csv.DictReader(handle, delimiter="\t")]


# --------------------------------------------------------------------------- phrasing

SLOT = re.compile(r"\{(\w+)\}")
DETERMINER_BEFORE = re.compile(r"\b(a|an|the|my|your|this|that|these|those)\s+$")


class Phraser:
    """Fills templates with catalog values and adds realistic surface noise.

    Slots: {product} {product2} {brand} {category} {price} {item} {noun} {who} {occasion}
    {aspect}. Entity slots become annotated segments; the rest is plain text.
    """

    ENTITY_SLOTS = ("product", "product2", "brand", "category", "price")

    def __init__(self, products: Sequence[Product], rng: random.Random) -> None:
        self.products = list(products)
        self.rng = rng
        self.brands = sorted({p.brand for p in products if p.brand})
        self.branded = [p for p in products if p.brand]
        self.categories = sorted({p.category for p in products})

    # ----- values
    def product_mention(self, product: Product) -> tuple[str, str]:
        """A product mention: (prefix text such as 'the ', entity text)."""
        roll = self.rng.random()
        if roll < 0.55:
            return "", self.rng.choice(product.aliases)
        if roll < 0.85 and product.nouns:
            return self.rng.choice(["the ", "that ", "this ", "your "]), self.rng.choice(
                product.nouns
            )
        return self.rng.choice(["the ", ""]), product.aliases[0]

    def price_phrase(self, category: str | None = None) -> str:
        """A price bound as people write it: `under $50`, `between 20 and 40 dollars`."""
        base = [5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 80, 100, 150, 200, 250, 300, 500, 1000]
        if category in {"vehicle", "motorcycle"}:
            base = [5000, 10000, 15000, 20000, 30000, 50000]
        elif category in {"laptops", "smartphones", "tablets", "mens-watches", "womens-watches"}:
            base = [100, 200, 300, 400, 500, 800, 1000, 1500, 2000]
        a = self.rng.choice(base)
        b = self.rng.choice([x for x in base if x > a] or [a * 2])
        money = self.rng.choice(
            [f"${a}", f"{a} dollars", f"{a} bucks", f"${a}.00", f"{a}$", f"{a} usd", f"{a}"]
        )
        forms = [
            f"under {money}",
            f"under {money}",
            f"below {money}",
            f"less than {money}",
            f"cheaper than {money}",
            f"max {money}",
            f"up to {money}",
            f"no more than {money}",
            f"for less than {money}",
            f"over {money}",
            f"more than {money}",
            f"between {a} and {b} dollars",
            f"between ${a} and ${b}",
            f"from {a} to {b} dollars",
            f"${a}-${b}",
            f"around {money}",
            f"about {money}",
            f"{money} or less",
            f"under {a}",
        ]
        return self.rng.choice(forms)

    def category_word(self, category: str) -> str:
        return self.rng.choice(CATEGORY_WORDS[category])

    # ----- templates
    def fill(self, intent: str, template: str, source: str) -> Example:
        """Fill a template's slots and return the example as segments."""
        pool = self.branded if "{brand}" in template else self.products
        product = self.rng.choice(pool)
        same_cat = [p for p in self.products if p.category == product.category and p != product]
        product2 = self.rng.choice(same_cat or [p for p in self.products if p != product])
        category = product.category
        brand = product.brand or self.rng.choice(self.brands)
        segments: list[Segment] = []
        mentioned: set[str] = set()
        pos = 0
        for m in SLOT.finditer(template):
            if m.start() > pos:
                segments.append(Segment(template[pos : m.start()]))
            slot = m.group(1)
            if slot in ("product", "product2"):
                target = product if slot == "product" else product2
                prefix, text = self.product_mention(target)
                for _ in range(5):
                    if text.lower() not in mentioned:
                        break
                    prefix, text = self.product_mention(target)
                else:
                    prefix, text = "", target.title
                mentioned.add(text.lower())
                before = segments[-1].text.lower() if segments else ""
                if prefix and not DETERMINER_BEFORE.search(before):
                    segments.append(Segment(prefix))
                segments.append(Segment(text, "product"))
            elif slot == "brand":
                segments.append(Segment(brand, "brand"))
            elif slot == "category":
                segments.append(Segment(self.category_word(category), "category"))
            elif slot == "price":
                segments.append(Segment(self.price_phrase(category), "price"))
            elif slot == "item":
                segments.append(Segment(self.rng.choice(ITEM_WORDS)))
            elif slot == "who":
                segments.append(Segment(self.rng.choice(GIFT_WHO)))
            elif slot == "occasion":
                segments.append(Segment(self.rng.choice(OCCASIONS)))
            elif slot == "aspect":
                segments.append(Segment(self.rng.choice(ASPECTS)))
            else:
                raise TrainingDataError(
                    f"expected a known slot in template {template!r}, but found {{{slot}}}; "
                    f"use one of {sorted(Phraser.ENTITY_SLOTS)} or item/who/occasion/aspect"
                )
            pos = m.end()
        if pos < len(template):
            segments.append(Segment(template[pos:]))
        return Example(intent, self.noise(_merge(segments)), source)

    def noise(self, segments: tuple[Segment, ...]) -> tuple[Segment, ...]:
        """Casing, punctuation and typo variation, never inside an entity's characters
        except for lower-casing (people type `iphone x`)."""
        rng = self.rng
        lower = rng.random() < 0.4
        drop_punct = rng.random() < 0.45
        no_apostrophe = rng.random() < 0.15
        typo = rng.random() < 0.2
        out = [
            Segment(s.text.lower() if lower else s.text, s.entity) if s.entity else s
            for s in segments
        ]
        plain_idx = [i for i, s in enumerate(out) if not s.entity]
        for i in plain_idx:
            t = out[i].text
            if lower:
                t = t.lower()
            if no_apostrophe:
                t = t.replace("'", "")
            out[i] = Segment(t)
        if drop_punct and out and not out[-1].entity:
            out[-1] = Segment(out[-1].text.rstrip("?.!"))
        if typo and plain_idx:
            i = rng.choice(plain_idx)
            out[i] = Segment(_typo(out[i].text, rng))
        if not lower and out and not out[0].entity and rng.random() < 0.7:
            first = out[0].text
            out[0] = Segment(first[:1].upper() + first[1:])
        return tidy(out)


def _merge(segments: Iterable[Segment]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for seg in segments:
        if not seg.text:
            continue
        if out and not seg.entity and not out[-1].entity:
            out[-1] = Segment(out[-1].text + seg.text)
        else:
            out.append(seg)
    return tuple(out)


def _typo(text: str, rng: random.Random) -> str:
    """One realistic typo in a word of four letters or more: swap, drop or double."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    k = rng.randrange(1, len(w) - 1)
    op = rng.choice(["swap", "drop", "double"])
    if op == "swap":
        w = w[:k] + w[k + 1] + w[k] + w[k + 2 :]
    elif op == "drop":
        w = w[:k] + w[k + 1 :]
    else:
        w = w[:k] + w[k] + w[k:]
    words[i] = w
    return " ".join(words)


ITEM_WORDS = [
    "sofa", "desk lamp", "coffee table", "running shoes", "phone case", "wireless earbuds",
    "backpack", "winter jacket", "frying pan", "yoga mat", "office chair", "bookshelf",
    "perfume", "lipstick", "smartwatch", "laptop bag", "kitchen knife", "blender",
    "tennis racket", "sunglasses", "handbag", "dress", "sneakers", "wall clock",
]  # fmt: skip
GIFT_WHO = [
    "my mom", "my dad", "my wife", "my husband", "my girlfriend", "my boyfriend",
    "a 10 year old", "a teenager", "my boss", "a coworker", "my sister", "my brother",
    "my grandma", "a friend who likes cooking", "someone who loves sports", "a gamer",
    "a new dad", "my best friend", "a runner", "a coffee lover",
]  # fmt: skip
OCCASIONS = [
    "a birthday", "christmas", "mother's day", "father's day", "an anniversary",
    "valentine's day", "a housewarming", "graduation", "a wedding", "secret santa",
]  # fmt: skip
ASPECTS = [
    "price", "warranty", "return policy", "shipping time", "rating", "reviews",
    "dimensions", "size", "weight", "stock", "availability", "ingredients", "specs",
    "battery life", "material", "colour options", "discount",
]  # fmt: skip


# --------------------------------------------------------------------------- templates

PRODUCT_SEARCH_TEMPLATES = """
do you sell {category}?
do you have {category} {price}
show me {category}
show me some {category} {price}
i'm looking for {category}
I am looking for a {product}
looking for {brand} stuff
any {brand} products?
find me {category} {price}
{category} {price}
{brand} {category}
cheap {category}
best rated {category}
what {category} do you have
what's your cheapest {category}?
search {category}
search for {product}
do you carry {brand}?
have you got any {category} in stock
I need new {category}, budget {price}
can you find {product} for me
where can i find {category} on your site
is there a {product} in your shop?
list all {brand} items
show {brand} {category} {price}
anything from {brand}?
top rated {category} {price}
do u have {product}
got any {category}
{product}
{product} please
i want to buy {category}
I'd like to buy a {product}
where are the {category}
browse {category}
I'm searching for something in {category}
need {category} asap
what {brand} products do you sell
show me the best rated {category}
any good {category} {price}?
the cheapest {brand} you have
{category} on sale
highest rated {brand} items
looking for {category} around {price}
hi, do you stock {product}?
hello, i'm trying to find {category}
show me everything {price}
what can I get {price}
can I see your {category} please
do you guys sell {brand}
is {brand} available here
find {product}
I want {category} from {brand}
any {category} with good reviews
what's new in {category}
search {brand} {price}
recommend nothing, just show me all {category}
"""

PRODUCT_INFO_TEMPLATES = """
how much is {product}?
what's the price of {product}
how much does {product} cost
is {product} in stock?
do you have {product} in stock
{product} price
{product} stock
what is the warranty on {product}
does {product} come with a warranty
how long is the warranty for {product}?
what's the return policy for {product}
can I return {product} if I don't like it
how fast does {product} ship
when will {product} ship
how long does shipping take for {product}
what are the dimensions of {product}?
how big is {product}
how heavy is {product}
what's the rating of {product}
is {product} any good?
what do people say about {product}
reviews for {product}
tell me about {product}
tell me more about {product}
give me details on {product}
specs of {product}
what are the specs of {product}
what's in {product}? ingredients please
what are the ingredients of {product}
is {product} available
is {product} still available?
{product} {aspect}?
what is the {aspect} of {product}
{aspect} of {product}
can you tell me the {aspect} for {product}
i want to know the {aspect} of {product}
how many {product} do you have left
is {product} on sale
is there a discount on {product}
what brand is {product}
who makes {product}
what's the minimum order for {product}
is {product} from {brand} original?
does {product} come in other colours
more info on {product} please
info about {product}
details {product}
what does {product} look like
how good is {product} rated
any reviews of {product} from customers?
does the {product} have a return policy
is the warranty on {product} international
what's {product} made of
how much is {product} with shipping
when is {product} back in stock
"""

RECOMMEND_TEMPLATES = """
can you recommend {category}?
recommend me some {category}
what {category} would you recommend
something like {product} but cheaper
anything similar to {product}?
do you have something like {product} {price}
what goes well with {product}
what goes with {product}?
what should I buy with {product}
suggest something to go with {product}
gift ideas for {who}
gift ideas for {who} {price}
what should I get {who} for {occasion}
need a present for {who}
any gift suggestions for {occasion}?
help me pick a gift for {who}
what would you suggest for {who}
I need a gift for {occasion} {price}
what's a good {category} for a beginner
which {category} do you recommend {price}
suggest a {category} {price}
your top picks in {category}?
what's popular in {category} right now
what do you recommend from {brand}
best {brand} product you'd recommend?
what do other customers buy with {product}
I liked {product}, what else would I like
alternatives to {product}
a cheaper alternative to {product}
similar products to {product}
people who bought {product} also bought?
what accessories go with {product}
something nice for {who}, any ideas?
I don't know what to buy for {occasion}, help
recommend a {category} for {who}
suggestions please, {category} {price}
pick something for me {price}
what would be a good present {price}
I want something like the {product} but in a different style
any recommendations?
got any recommendations for {category}
what's your best seller in {category}
surprise me with something from {brand}
what's trending in {category}
what should i get with my {product}
what matches {product}
stocking stuffer ideas {price}
I need inspiration for {occasion}
a good gift for {occasion} for {who}
anything you'd recommend instead of {product}?
what else do you have like {product}
im shopping for {who}, any ideas {price}
what's a good birthday present for {who}
i'm after something for {occasion}, not too expensive
if I like {brand}, what else should I look at
what's good in {category} for {who}?
could you suggest a gift {price}
show me stuff that goes with my {product}
any ideas what to pair with {product}
which {brand} item would make a nice gift
"""

COMPARE_TEMPLATES = """
{product} vs {product2}
{product} or {product2}?
{product} versus {product2}
compare {product} and {product2}
compare {product} with {product2}
which is better, {product} or {product2}?
which one is better {product} or {product2}
what's the difference between {product} and {product2}
difference between {product} and {product2}
is {product} better than {product2}?
should I buy {product} or {product2}
should i get {product} or {product2}
{product} or {product2}, which should I pick
help me choose between {product} and {product2}
can you compare {product} to {product2}
how does {product} compare to {product2}
how is {product} different from {product2}
which is cheaper, {product} or {product2}
which has better reviews {product} or {product2}
which is rated higher: {product} or {product2}?
{product} compared to {product2}
pros and cons of {product} vs {product2}
{product} vs {product2} which one
which has the longer warranty, {product} or {product2}
which ships faster {product} or {product2}
is {product2} worth it over {product}?
is the {product} worth the extra money compared to {product2}
{product} and {product2} side by side please
comparison {product} {product2}
I can't decide between {product} and {product2}
torn between {product} and {product2}
which is the better deal, {product} or {product2}
{product} vs {product2} for a beginner?
is {product} or {product2} better value
what's better for the price {product} or {product2}
compare {brand} {category} with others
how do {brand} {category} compare
which {category} is best, {product} or {product2}
which of these is better: {product}, {product2}
does {product} beat {product2}?
{product} or {product2} for {occasion}?
main differences {product} {product2}
which lasts longer {product} or {product2}
compare prices of {product} and {product2}
is there any real difference between {product} and {product2}?
{product} or {product2} - thoughts?
thinking about {product} or maybe {product2}, which one
how do {product} and {product2} stack up
would you pick {product} over {product2}
need to choose: {product} vs {product2}
{product} against {product2}
why is {product} more expensive than {product2}
what does {product} have that {product2} doesn't
which would you recommend, {product} or {product2}?
compare the specs of {product} and {product2}
"""


def _templates(block: str) -> list[str]:
    return [line.strip() for line in block.strip().splitlines() if line.strip()]


def generate_product_examples(
    products: Sequence[Product], per_intent: int, rng_seed: str
) -> list[Example]:
    """Fill each product intent's templates round-robin until it has `per_intent` examples.

    Round-robin over templates (not random draws) keeps every template represented, so
    the data is many phrasings with catalog values, not one phrasing with many values.
    """
    examples: list[Example] = []
    for intent, block in (
        ("product_search", PRODUCT_SEARCH_TEMPLATES),
        ("product_info", PRODUCT_INFO_TEMPLATES),
        ("recommend_product", RECOMMEND_TEMPLATES),
        ("compare_products", COMPARE_TEMPLATES),
    ):
        phraser = Phraser(products, random.Random(f"{rng_seed}:{intent}"))
        templates = _templates(block)
        seen: set[str] = set()
        attempts = 0
        while len(seen) < per_intent and attempts < per_intent * 20:
            template = templates[attempts % len(templates)]
            attempts += 1
            ex = phraser.fill(intent, template, "generated")
            key = normalise(ex.plain)
            if key and key not in seen:
                seen.add(key)
                examples.append(ex)
    return examples


# --------------------------------------------------------------------------- small talk

SMALLTALK: dict[str, dict[str, str]] = {
    "greet": {
        "core": """hi|hello|hey|hey there|hi there|hello there|good morning|good afternoon|
            good evening|morning|evening|hiya|howdy|yo|heya|hey hey|greetings|hi!|hellooo|
            hi bot|hello bot|hey assistant|hi there, anyone here?|is anyone there?|hello?|
            hi, how are you|hey how's it going|hello, good day|good day|hi team|hey folks|
            what's up|sup|hallo|hola|bonjour|hi hi|hey you|hello hello|helo|hii|hiii|
            hey, quick question|hi, I have a question|hello, I need some help|hi can you help me|
            hey, are you there?|hi, is this the support chat?|hello, is this customer support?|
            hey good morning|good morning to you|top of the morning|hi, nice to meet you|
            hey there, hope you're well|hello, how are you doing today?|hey, hi|oh hi|
            well hello|hi again|hello again|hey it's me again|hi, I'm back|heyy|heyyy|
            hello, anybody home?|hi!! :)|hey :)|hello friend|hi there friend""",
        "pre": "|oh |well |ok |",
        "post": "| :)|!|!!| there| everyone",
    },
    "goodbye": {
        "core": """bye|goodbye|bye bye|see you|see ya|see you later|later|cya|talk to you later|
            ttyl|good night|have a nice day|have a good one|catch you later|farewell|
            I'm off|gotta go|got to go now|I have to go|that's all, bye|that's everything, bye|
            bye for now|see you soon|until next time|take care|ok bye|okay bye then|
            bye, thanks anyway|I'm done, bye|nothing else, goodbye|all done, see you|
            that's it for today|have a great day|have a good evening|night|nite|
            laters|peace out|so long|adios|ciao|au revoir|I'll be going now|
            I'm leaving now|signing off|end chat|close the chat|end conversation|
            we're done here|I'm all set, bye|thats all for now|no more questions, bye|
            have a nice weekend|bye now|ok see you|alright, bye|cheerio|toodles|
            I'll come back later|talk soon|goodbye for now|I'm out|bbye|byee|bye!!""",
        "pre": "|ok |okay |alright |well |",
        "post": "|!| :)| then| now",
    },
    "thank_you": {
        "core": """thanks|thank you|thanks a lot|thank you so much|many thanks|thx|ty|tysm|
            thanks!|cheers|much appreciated|appreciate it|I appreciate your help|
            thanks for the help|thank you for your help|thanks for helping|
            thanks, that helps|that was helpful, thanks|great, thanks|perfect, thank you|
            awesome thanks|thanks a bunch|thanks a million|thank you very much|
            thanks so much for your help|you've been very helpful|you're a star|
            thank you kindly|thanks mate|ta|thank u|thanx|thnx|thanks heaps|
            big thanks|super helpful, thanks|very helpful thank you|you're the best|
            I owe you one|grateful for the help|thanks for the quick answer|
            thanks for the info|thanks for the information|thanks for checking|
            thank you for sorting that out|nice one, thanks|brilliant, thank you|
            ok thank you|okay thanks|great, cheers|lovely, thank you|that's great, thanks|
            thanks for your patience|thank you for your time|much obliged|
            thanks, you solved it|that's exactly what I needed, thanks|many thanks for your support""",
        "pre": "|oh |ok |great |",
        "post": "|!|!!| :)| again| so much",
    },
    "affirm": {
        "core": """yes|yes please|yep|yeah|yup|sure|sure thing|ok|okay|okey|correct|
            that's right|that is correct|right|exactly|absolutely|definitely|of course|
            indeed|affirmative|y|ya|yea|yess|yesss|uh huh|mhm|sounds good|sounds great|
            that works|works for me|go ahead|go for it|do it|please do|yes do that|
            yes, that's it|that's the one|yes that's correct|yes it is|yes I do|
            I do|I agree|agreed|fine|fine by me|alright|all right|perfect|
            good idea|let's do it|let's do that|yes, go on|sure, why not|why not|
            yes I want that|yes please do|yes, that would be great|that would be great|
            yes thanks|yes thank you|sure, please|ok sounds good|great, yes|
            you got it|100%|for sure|certainly|true|that's true|yes indeed|
            yeah sure|yeah go ahead|ok go ahead|yes confirm|confirm|confirmed|
            that's correct yes|yes, exactly|yep that's right|right on|k|kk""",
        "pre": "|oh |um |well |",
        "post": "|!| please| :)| thanks",
    },
    "deny": {
        "core": """no|no thanks|no thank you|nope|nah|not really|no way|never|not at all|
            no, that's wrong|that's not right|that is not correct|incorrect|wrong|
            not that one|no it isn't|no it's not|no I don't|I don't think so|
            I don't want that|don't do that|please don't|no don't|negative|
            not now|not today|maybe not|nah I'm good|I'm good thanks|no need|
            no, that's fine|that's not what I meant|not what I asked|
            definitely not|absolutely not|of course not|by no means|no no|nooo|noo|
            n|nay|not interested|I'm not interested|no I'm fine|I'd rather not|
            rather not|not for me|no, leave it|leave it|stop|no stop|
            don't bother|no need, thanks|I'll pass|pass|skip|skip it|
            no, I changed my mind|never mind|nevermind|nvm|no, wrong one|
            that's not it|not quite|no, something else|no sorry|sorry, no|
            no that's all|not this time|nope, not that|hell no|no chance""",
        "pre": "|oh |um |well |hmm |",
        "post": "|!| thanks| sorry|.",
    },
}


def generate_smalltalk(rng_seed: str) -> list[Example]:
    """Every hand-written core phrasing, plus opener/closer and noise variants of them."""
    examples: list[Example] = []
    for intent, parts in SMALLTALK.items():
        rng = random.Random(f"{rng_seed}:{intent}")
        cores = [c.strip() for c in parts["core"].split("|") if c.strip()]
        pres = parts["pre"].split("|")
        posts = parts["post"].split("|")
        seen: set[str] = set()
        for core in cores:
            seen.add(normalise(core))
            examples.append(Example(intent, (Segment(core),), "written"))
        for core in cores:
            for _ in range(2):
                text = f"{rng.choice(pres)}{core}{rng.choice(posts)}"
                if rng.random() < 0.25:
                    text = text[:1].upper() + text[1:]
                if rng.random() < 0.1:
                    text = _typo(text, rng)
                text = clean_text(text)
                key = normalise(text)
                if key and key not in seen:
                    seen.add(key)
                    examples.append(Example(intent, (Segment(text),), "variant"))
    return examples


# --------------------------------------------------------------------------- support phrasings

SUPPORT_HEADER = """\
# Conversational support phrasings written for this project (MIT): short, id-less
# and chatty forms of the Bitext intents ("where is my order?", "can I return it?")
# that shoppers type in a widget before the bot asks for an order number, payment
# questions that name a provider, reports of damaged, broken or wrong items, and the
# project's own intent for parcels marked delivered but not received, lost or stolen.
"""

# Shop support intents with no Bitext counterpart: all their examples are support
# phrasings (so they need at least MIN_TRAIN_EXAMPLES / (1 - TEST_FRACTION) of them).
SUPPORT_ONLY_INTENTS = ("report_missing_package",)

# `{id}` becomes an annotated order number (a seeded 6-digit number).
SUPPORT_PHRASINGS: dict[str, str] = {
    "track_order": """where is my order?|where's my order|where is my package|where is my parcel?|
        has my order shipped yet?|has my package been sent?|when will my order arrive?|
        when is my order coming|when does my stuff get here|my order hasn't arrived|
        my parcel still hasn't come|still waiting for my order|order status please|
        what's the status of my order?|can you tell me where my order is|track my order|
        track my package please|tracking info for my order|I want to know where my order is|
        is my order on its way?|my package is late|my delivery is late, where is it?|
        where is my stuff|any update on my order?|is my order shipped|i need my tracking number|
        what's my tracking number|did you send my order|wheres my order|where is my order??|
        where is order {id}?|where's my order {id}|status of order {id}|track {id}|
        order {id} hasn't arrived|has order #{id} shipped?|any news on order {id}?|
        tracking says out for delivery, when will it get here?|
        it says in transit, what day will it come?|the tracking page says label created, has it left?|
        it's out for delivery today, what time will it come?|
        tracking says it's at the local depot, when do I get it?|
        my tracking shows it left the warehouse, how long now?|it says arriving tomorrow, is that right?""",
    "cancel_order": """cancel my order|I want to cancel my order|can I cancel my order?|
        please cancel my order|i need to cancel an order|how do I cancel my order?|
        cancel the order I just placed|I changed my mind, cancel it|can you cancel my purchase|
        stop my order please|I don't want my order anymore|cancel it please|
        is it too late to cancel my order?|i'd like to cancel|cancel order please|
        cancel my last order|please stop the shipment, I want to cancel|cancel that order|
        cancel order {id}|please cancel {id}|I want to cancel order #{id}|can you cancel {id}?""",
    "check_refund_policy": """can I return it?|can i return this?|what's your return policy?|
        what is the return policy|how many days do I have to return something?|
        can I send it back?|is this returnable?|do you accept returns?|how do returns work?|
        what's the refund policy|return policy please|can I get my money back if I don't like it?|
        is there a return window?|how long is the return period|returns policy?|
        can I return an item after 30 days?|do you take returns on opened items?|
        can things be returned|are returns free?|what are the rules for returns""",
    # A refund asked for without saying anything went wrong with the item. A damaged,
    # broken, faulty or wrong item is a `complaint`, refund wanted or not: the shopper
    # gets an apology and a ticket, not a refund-status lookup.
    "get_refund": """I want a refund|can I get a refund?|refund please|i want my money back|
        give me my money back|how do I get a refund|I'd like a refund for my order|
        please refund me|refund my order|can you refund order {id}?|refund for {id} please""",
    "track_refund": """where is my refund?|has my refund gone through?|when will I get my refund|
        refund status please|I haven't received my refund|still waiting on my refund|
        any update on my refund?|did you process my refund?|my refund hasn't arrived|
        how long until my refund shows up|status of the refund for {id}|refund for order {id}?""",
    "get_invoice": """can I get an invoice?|send me the invoice|I need an invoice|
        invoice please|where can I find my invoice?|can you email me the invoice|
        I need a receipt for my order|receipt please|download my invoice|
        invoice for my last order|invoice for order {id}|receipt for {id} please""",
    "contact_human_agent": """talk to a human|can I talk to a person?|human please|
        let me speak to a real person|I want to talk to someone|get me an agent|
        connect me to a human|real person please|is there a human I can talk to?|
        I need to speak with a person|agent please|transfer me to an agent|
        put me through to someone|can a person help me?|talk to human|speak to a human""",
    # Bitext asks for "the payment methods" in general; shoppers name the one they want.
    "check_payment_methods": """do you take PayPal?|is PayPal accepted?|PayPal ok at checkout?|
        can I check out with PayPal|does your shop support paypal|paypal accepted here?|
        do you accept Apple Pay?|can I pay with Apple Pay on my iphone?|
        is apple pay an option at checkout|apple pay?|does the checkout take Google Pay?|
        can i use google pay|gpay accepted?|can I pay with Klarna?|do you offer Klarna|
        klarna available?|can I split the payment into instalments?|do you do pay in 3?|
        can i pay in installments|is there a buy now pay later option?|
        can I spread the cost over a few months|do you work with Afterpay?|
        can I use afterpay for my order|afterpay or clearpay?|can I pay by bank transfer?|
        do you accept wire transfers|is a direct bank transfer possible|can I pay by SEPA transfer?|
        do you do cash on delivery?|can I pay cash when it arrives|is COD available|
        pay on delivery possible?|do you accept crypto?|can I pay in bitcoin|
        do you take ethereum or other cryptocurrencies|can I pay with a gift card?|
        can I use my gift card at checkout|how do I redeem a gift card when I pay|
        can I combine a gift card and my credit card|do you take Amex?|
        is American Express accepted|can I pay with Visa|do you accept Mastercard|
        can I use a debit card|do you take prepaid cards|can I pay with Venmo?|
        is Cash App an option|can I pay with Shop Pay|do you accept Alipay|
        which cards do you take|what are my options to pay|ways to pay?|
        can I pay later|can I pay over the phone?|can I pay with store credit|
        what forms of payment do you take|is paying with paypal credit possible|
        is it possible to pay with Google Pay|will you take a cheque|do you accept checks|
        any chance I can pay with crypto|is paying by Afterpay allowed|
        which payment providers do you support|does your store accept Samsung Pay|
        are instalment plans available|is there financing available|
        can I pay half now and half later|do you have interest-free payment plans|
        do you accept iDEAL|can I pay via Revolut|is Zelle accepted|paying in cash, is that possible|
        is it possible to check out using Apple Pay|could I use Afterpay on this|
        am I able to pay with Google Pay|are bank transfers an option here|
        is there any way to pay in instalments|can crypto be used here""",
    # Buying a gift card is a catalog question; paying with one is `check_payment_methods`.
    "product_search": """I'd like to buy a gift voucher for my sister|gift cards for sale?|
        can I get an e-gift card for a friend|do you have digital gift cards|
        buy a gift certificate for my mum's birthday|are there store gift cards I can give someone""",
    # Payment trouble that names a provider, so a provider name alone does not mean
    # `check_payment_methods`.
    "payment_issue": """my PayPal payment keeps failing|apple pay isn't working at checkout|
        google pay gives me an error when I try to pay|klarna declined me at checkout|
        my card was charged twice|the payment went through but the order says unpaid|
        i was charged but didn't get an order confirmation|the checkout won't accept my visa|
        my gift card code isn't working at checkout|afterpay won't let me complete the purchase|
        the bank transfer I made hasn't been registered|payment failed but the money left my account|
        why was my credit card declined?|paypal keeps sending me back to the cart""",
    # Something wrong with the item itself: damaged, broken, faulty, wrong, incomplete;
    # with or without a refund demand (see get_refund above).
    "complaint": """the lamp I ordered came broken|my order arrived damaged|
        the box was crushed and the vase inside is shattered|the TV screen is cracked out of the box|
        my new headphones stopped working after two days|the blender is defective, it won't turn on|
        you sent me the wrong item|I got the wrong size|
        received the wrong colour, I ordered black not blue|this isn't what I ordered|
        someone else's stuff was in my package|the sofa has a big tear in the fabric|
        the chair came with a leg snapped off, I'd like a refund|
        the perfume bottle leaked all over the box|the plates were smashed when I opened the parcel|
        one of the glasses in the set was broken|the item is faulty and I want a replacement|
        the phone you sent doesn't charge, it's defective|the laptop has dead pixels|
        the jacket has a hole in it|the shoes in the box are two different sizes|
        the product is not as described|the watch stopped after a week, I want a full refund|
        the table came scratched and dented, refund please|
        everything in the box was wet and ruined|the replacement you sent is broken too|
        the bed frame is missing screws and one panel is split|damaged item received|
        broken on arrival|item arrived defective, please refund me|
        the package was opened and the product inside is damaged|
        i'm really disappointed, the dress arrived torn|the fridge has a dent in the door|
        the speaker crackles and cuts out, it's faulty|the food was past its date when it came|
        half the eggs were cracked|my order came with a part missing|
        one item was missing from the box|I want to complain about a broken product|
        how do I report a damaged item|what do I do if my item arrived broken?|
        I need to report a faulty product|I want compensation for the damaged goods|
        can I get my money back for a defective item?|the desk arrived in pieces, can you refund me|
        refund me, the thing doesn't even work|I need a refund for a broken item|
        the item was damaged, I want a refund|you sent a used item, it's scratched all over|
        the glass top came shattered and I'm so annoyed|the sunglasses are bent and a lens is cracked|
        the zipper broke the first time I used it|my mascara came with the seal broken|
        the wrong model was delivered|I ordered an iPhone case and got a Samsung one|
        the item looks nothing like the picture|it's broken, what now?|
        the product got damaged in shipping, what are my options|
        every time I order from you something arrives broken|order {id} arrived damaged|
        the items in order #{id} are broken|you sent the wrong thing in order {id}|
        the kettle leaks from the bottom|my vacuum won't switch on straight out of the box|
        the heater overheats and smells burnt|the printer jams on every page|
        the earbuds only work on one side|the drawer doesn't close, the wood is warped|
        the toaster sparks when I use it|the battery dies in an hour, it's defective|
        you sent a size 10 but I ordered an 8|I got a medium instead of a large|
        you sent the blue one, I picked green|got two left shoes in the box|
        the pack had 6 instead of 12|this is a cheap knock-off, not the brand I paid for|
        the seal on the bottle was open when it came|the paint is chipped all over|
        the fabric is stained|the screen flickers constantly|the device is dead on arrival|
        it stopped working after a day and I'd like my money back|
        the dishwasher leaks and floods the kitchen|the fan makes a horrible grinding noise|
        my new phone keeps restarting by itself|the lid doesn't fit, it's the wrong part|
        they sent size S, I ordered XL|the coat came in the wrong size|
        the charger melted the first time I plugged it in|the handle snapped off the pan|
        the jeans aren't the size on my order""",
    # Parcels marked delivered but not there, lost by the carrier, stolen or left at the
    # wrong address: not a status question (the status is the problem), but a case for a
    # person, who checks with the carrier and replaces or refunds.
    "report_missing_package": """tracking shows delivered but nothing arrived|
        the tracking says it was delivered yesterday but it's not here|
        it's marked as delivered but I don't have it|order marked delivered, no package anywhere|
        the courier says they dropped it off but there's nothing at my door|
        delivery confirmation came through but the box never showed up|
        the app says my parcel was left at the front door, it isn't there|
        I got a delivered notification but no parcel|status says delivered, so where is it?|
        I think my package was stolen|someone stole my parcel off the porch|
        my package got stolen from outside my flat|my doorbell camera shows someone taking my delivery|
        porch pirates took my order|my parcel was nicked from the doorstep|
        the courier lost my package|my parcel got lost in the post|DHL says my package is lost|
        UPS told me they lost it|I think my order got lost in transit|
        tracking hasn't updated in two weeks, I think it's lost|
        the package has been stuck for 3 weeks, is it lost?|my order was delivered to the wrong address|
        the driver left it at the wrong house|it was given to my neighbour but they don't have it|
        the delivery photo shows a door that isn't mine|proof of delivery photo is not my house|
        the mailroom in my building doesn't have my parcel even though it shows delivered|
        it says it was put in my mailbox but the mailbox is empty|signed for by someone I don't know|
        the tracking says signed for but nobody here signed|lost package|missing parcel|
        stolen package|package missing|report a missing parcel|how do I report a stolen package|
        what do I do if my package was stolen|what happens if the courier loses my parcel|
        my delivery went missing|my order vanished and tracking says delivered|
        the box was never left here despite the delivered status|
        I was home all day and nobody came, yet it says delivered|
        the driver marked it delivered without even knocking and there's no box|my parcel has disappeared|
        i cant find my package anywhere and the site says it arrived|
        it shows as delivered at 2pm but there is no package|order {id} shows delivered but it isn't here|
        order {id} was lost by the courier|my package for order #{id} was stolen|
        tracking for {id} says delivered, nothing arrived|can you resend my order, it got lost|
        the parcel never made it to me, the carrier lost it|
        they say it was left in a safe place, i've looked everywhere|
        the package was left outside and now it's gone|the delivery guy must have handed it to the wrong person|
        my parcel went to a different city|the order got delivered to my old address|
        somebody signed for my parcel and it wasn't me|fedex says delivered, but not to me|
        the carrier claims delivery but i have nothing|delivery marked complete, still no box|
        my package is missing, can you help|help, my parcel is lost|
        the delivery was stolen from my building lobby|my parcel was taken from the communal hallway|
        tracking shows it was delivered to another zip code|
        the website says my order was delivered last week and it still isn't here|
        can I get a replacement for a lost package|will you refund me if the parcel was stolen|
        do I get my money back if the courier lost it|I need to file a claim for a lost shipment|
        my shipment is lost|where is my parcel, tracking says it was delivered but i cant find it|
        my neighbour says the courier never came, but it shows delivered|
        the parcel locker was empty when I opened it|it says left with reception but reception has nothing|
        the item never turned up even though tracking says it did|
        my package was delivered to the wrong apartment|hey my box never turned up and the status is delivered|
        got an email saying my order was delivered, it wasn't|the postman says he delivered it but i dont have it|
        I think the driver kept my parcel|
        the security camera shows the courier walking off with my parcel|
        there's a delivery photo but no parcel|
        it went to a pickup point I never chose and they don't have it|
        the courier said he left it behind the bin, nothing there|
        the delivery man threw it over the fence and now it's gone""",
}


def generate_support(rng_seed: str) -> list[Example]:
    """The hand-written support phrasings, with seeded order numbers where they name one."""
    examples: list[Example] = []
    for intent, block in SUPPORT_PHRASINGS.items():
        rng = random.Random(f"{rng_seed}:support:{intent}")
        for text in (t.strip() for t in block.split("|")):
            if not text:
                continue
            before, sep, after = text.partition("{id}")
            if sep:
                number = str(rng.randint(100000, 999999))
                segments = tidy([Segment(before), Segment(number, "order_id"), Segment(after)])
            else:
                segments = (Segment(text),)
            examples.append(Example(intent, segments, "support"))
    return examples


# --------------------------------------------------------------------------- out of scope


def load_out_of_scope(sources: Path, report: BuildReport) -> list[Example]:
    """CLINC150 `oos` examples plus a sample of its non-shopping in-scope intents.

    The pool is balanced: about half `oos` and half spread evenly over the allowed
    CLINC intents, each group picked by stable hash; shop-sounding texts are dropped.
    """
    path = sources / "clinc150" / "data_full.json"
    _require_source(path, "CLINC150")
    data = json.loads(path.read_text(encoding="utf-8"))
    oos: list[str] = []
    by_intent: dict[str, list[str]] = defaultdict(list)
    for split in ("oos_train", "oos_val", "oos_test"):
        oos.extend(text for text, _ in data[split])
    for split in ("train", "val", "test"):
        for text, label in data[split]:
            by_intent[label].append(text)
    unknown = sorted(set(CLINC_EXCLUDED) - set(by_intent))
    if unknown:
        raise TrainingDataError(
            f"expected every excluded CLINC intent to exist, but {unknown} do not; "
            "fix CLINC_EXCLUDED in this script"
        )

    def keep(text: str, group: str) -> bool:
        if SHOP_WORDS.search(text):
            report.dropped[f"clinc {group}: mentions shop words"] += 1
            return False
        return True

    allowed = sorted(set(by_intent) - set(CLINC_EXCLUDED))
    report.clinc_intents_used = allowed
    for intent in sorted(CLINC_EXCLUDED):
        report.dropped["clinc in-scope: excluded intents (examples)"] += len(by_intent[intent])
    half = OUT_OF_SCOPE_POOL // 2
    per_intent = max(1, (OUT_OF_SCOPE_POOL - half) // len(allowed))
    chosen: list[tuple[str, str]] = []
    oos_sorted = sorted(set(oos), key=lambda t: stable_hash("oos", t))
    chosen.extend(("clinc-oos", t) for t in oos_sorted if keep(t, "oos"))
    chosen = chosen[:half]
    for intent in allowed:
        texts = sorted(set(by_intent[intent]), key=lambda t: stable_hash("clinc", intent, t))
        picked = [t for t in texts[: per_intent * 3] if keep(t, "in-scope")][:per_intent]
        chosen.extend((f"clinc-{intent}", t) for t in picked)
    return [Example("out_of_scope", (Segment(clean_text(t)),), src) for src, t in chosen]


# --------------------------------------------------------------------------- lookups


def build_lookups(products: Sequence[Product]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Lookup tables (product, brand, category) and synonyms (alias -> canonical value).

    A product alias becomes a synonym only when exactly one product has it, so the
    synonym never silently picks one of two products.
    """
    lookups = {
        "product": sorted({p.title for p in products}, key=str.lower),
        "brand": sorted({p.brand for p in products if p.brand}, key=str.lower),
        "category": sorted({w for words in CATEGORY_WORDS.values() for w in words}),
    }
    owners: dict[str, set[str]] = defaultdict(set)
    for p in products:
        for alias in p.aliases[1:]:
            owners[alias.lower()].add(p.title)
    synonyms: dict[str, list[str]] = defaultdict(list)
    all_titles = {p.title.lower() for p in products}
    for alias, titles in sorted(owners.items()):
        if len(titles) == 1 and alias not in all_titles:
            (title,) = titles
            if alias != title.lower():
                synonyms[title].append(alias)
    for slug, words in CATEGORY_WORDS.items():
        synonyms[slug].extend(w for w in words if w != slug)
    return lookups, {k: sorted(set(v)) for k, v in sorted(synonyms.items())}


# --------------------------------------------------------------------------- assembly


def deduplicate(groups: Sequence[Sequence[Example]], report: BuildReport) -> list[Example]:
    """Keep the first example of every normalised text, in priority order of `groups`.

    A text seen again under the same intent is a duplicate; under another intent it is
    a conflict, and the earlier (higher-priority, real) source keeps it.
    """
    owner: dict[str, str] = {}
    kept: list[Example] = []
    for group in groups:
        for ex in group:
            key = normalise(ex.plain)
            if not key:
                report.dropped[f"{ex.source}: empty"] += 1
            elif key not in owner:
                owner[key] = ex.intent
                kept.append(ex)
            elif owner[key] == ex.intent:
                report.dropped[f"{ex.intent}: duplicate text"] += 1
            else:
                report.dropped[f"{ex.intent}: text already under {owner[key]} (kept there)"] += 1
    return kept


# Real queries and hand-written support phrasings always survive the per-intent cap.
PROTECTED_SOURCES = frozenset({"wands", "support"})


def split_and_cap(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """Stratified, hash-based held-out split, with a deterministic cap per intent.

    Per intent: rank examples by a seeded hash of the normalised text; keep a pool of
    at most TRAIN_CAP / (1 - TEST_FRACTION) of them (WANDS queries and the support
    phrasings always stay); the lowest-ranked TEST_FRACTION of the pool (by a second hash)
    is the test set. Out-of-scope keeps its whole pool (sized by OUT_OF_SCOPE_POOL).
    """
    by_intent: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        by_intent[ex.intent].append(ex)
    train: list[Example] = []
    test: list[Example] = []
    for intent in sorted(by_intent):
        items = sorted(by_intent[intent], key=lambda e: stable_hash("cap", normalise(e.plain)))
        protected = [e for e in items if e.source in PROTECTED_SOURCES]
        others = [e for e in items if e.source not in PROTECTED_SOURCES]
        if intent == "out_of_scope":
            pool = items
        elif intent == "product_search":
            limit = round(GENERATED_SEARCH_TRAIN_CAP / (1 - TEST_FRACTION))
            pool = protected + others[:limit]
        else:
            limit = round(TRAIN_CAP / (1 - TEST_FRACTION))
            pool = protected + others[: max(0, limit - len(protected))]
        ranked = sorted(pool, key=lambda e: stable_hash("split", normalise(e.plain)))
        n_test = round(len(ranked) * TEST_FRACTION)
        test.extend(ranked[:n_test])
        train.extend(ranked[n_test:])
    return train, test


def build_examples(sources: Path, report: BuildReport) -> list[Example]:
    """All de-duplicated examples from every source, before the split."""
    bitext = load_bitext(sources, report)
    products = load_catalog(sources)
    wands = [Example("product_search", (Segment(q),), "wands") for q in load_wands(sources)]
    generated = generate_product_examples(products, per_intent=320, rng_seed=SEED)
    support = generate_support(SEED)
    smalltalk = generate_smalltalk(SEED)
    oos = load_out_of_scope(sources, report)
    groups = [bitext, support, wands, generated, smalltalk, oos]
    for group in groups:
        for ex in group:
            report.sources.setdefault(ex.intent, Counter())[ex.source] += 1
    return deduplicate(groups, report)


# --------------------------------------------------------------------------- writing


def _nlu_yaml(header: str, examples: Sequence[Example], intents: Sequence[str]) -> str:
    by_intent: dict[str, list[str]] = defaultdict(list)
    for ex in examples:
        by_intent[ex.intent].append(ex.annotated)
    lines = [header + GENERATED_NOTE, 'version: "3.1"', "", "nlu:"]
    for intent in intents:
        texts = sorted(by_intent.get(intent, []), key=lambda t: (normalise(t), t))
        if not texts:
            continue
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {t}" for t in texts)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _lookups_yaml(lookups: dict[str, list[str]], synonyms: dict[str, list[str]]) -> str:
    lines = [LOOKUPS_HEADER + GENERATED_NOTE, 'version: "3.1"', "", "nlu:"]
    for name, values in lookups.items():
        lines += [f"- lookup: {name}", "  examples: |", *(f"    - {v}" for v in values), ""]
    for canonical, aliases in synonyms.items():
        if aliases:
            lines += [f"- synonym: {_yaml_scalar(canonical)}", "  examples: |"]
            lines += [f"    - {a}" for a in aliases]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _yaml_scalar(value: str) -> str:
    dumped: str = yaml.safe_dump(value, default_style=None, width=1000).strip()
    return dumped.removesuffix("\n...").removesuffix("...").strip()


FILES = {
    "nlu/bitext.yml": (BITEXT_HEADER, BITEXT_INTENTS),
    "nlu/products.yml": (
        PRODUCTS_HEADER,
        ["product_search", "product_info", "recommend_product", "compare_products"],
    ),
    "nlu/smalltalk.yml": (SMALLTALK_HEADER, list(SMALLTALK)),
    "nlu/out_of_scope.yml": (CLINC_HEADER, ["out_of_scope"]),
}
SUPPORT_FILE = "nlu/support.yml"
# Every intent in the order the test file and the docs list them.
ALL_INTENTS = (*(i for _, intents in FILES.values() for i in intents), *SUPPORT_ONLY_INTENTS)
TEST_HEADER = (
    BITEXT_HEADER + "#\n" + CLINC_HEADER + "#\n" + PRODUCTS_HEADER + "#\n" + SUPPORT_HEADER
)


def check(train: Sequence[Example], test: Sequence[Example], domain_intents: Sequence[str]) -> None:
    """Fail loudly when the built data breaks a requirement.

    Raises:
        TrainingDataError: Too few intents or examples, train/test overlap, a text under
            two intents, an unannotatable entity, or intents missing from the domain.
    """
    counts = Counter(ex.intent for ex in train)
    if len(counts) < MIN_INTENTS:
        raise TrainingDataError(
            f"expected at least {MIN_INTENTS} intents, but found {len(counts)}; add intents"
        )
    thin = {i: n for i, n in counts.items() if n < MIN_TRAIN_EXAMPLES}
    if thin:
        raise TrainingDataError(
            f"expected at least {MIN_TRAIN_EXAMPLES} training examples per intent, but "
            f"found {thin}; add templates or phrasings for them"
        )
    overlap = {normalise(e.plain) for e in train} & {normalise(e.plain) for e in test}
    if overlap:
        raise TrainingDataError(
            f"expected no text in both train and test, but found {sorted(overlap)[:5]}"
        )
    for ex in (*train, *test):
        for seg in ex.segments:
            if seg.entity and (
                seg.entity not in ENTITY_NAMES or seg.text != seg.text.strip() or "]" in seg.text
            ):
                raise TrainingDataError(
                    f"expected a clean entity mention of a domain entity, but found "
                    f"{seg.text!r} as {seg.entity!r} in {ex.plain!r}"
                )
    data_intents = set(counts) | {e.intent for e in test}
    missing = sorted(data_intents - set(domain_intents))
    extra = sorted(set(domain_intents) - data_intents)
    if missing or extra:
        raise TrainingDataError(
            f"expected training_data/domain.yml to list exactly the data's intents, but "
            f"{missing} are missing from it and {extra} have no data; edit the domain "
            "(owned by the bot) or the data"
        )


def read_domain_intents(domain_path: Path) -> list[str]:
    """The `intents:` list of a Rasa domain file."""
    if not domain_path.is_file():
        raise TrainingDataError(
            f"expected the Rasa domain at {domain_path}, but it was not found; "
            "restore training_data/domain.yml from git"
        )
    domain = yaml.safe_load(domain_path.read_text(encoding="utf-8")) or {}
    intents = []
    for item in domain.get("intents", []):
        intents.append(next(iter(item)) if isinstance(item, dict) else str(item))
    return intents


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
    products = load_catalog(sources)
    (out / "nlu").mkdir(parents=True, exist_ok=True)
    (out / "test").mkdir(parents=True, exist_ok=True)
    written = [e for e in train if e.source != "support"]
    for rel, (header, intents) in FILES.items():
        (out / rel).write_text(_nlu_yaml(header, written, intents), encoding="utf-8")
    support = [e for e in train if e.source == "support"]
    (out / SUPPORT_FILE).write_text(
        _nlu_yaml(SUPPORT_HEADER, support, list(SUPPORT_PHRASINGS)), encoding="utf-8"
    )
    (out / "nlu" / "lookups.yml").write_text(_lookups_yaml(*build_lookups(products)), "utf-8")
    (out / "test" / "nlu.yml").write_text(_nlu_yaml(TEST_HEADER, test, ALL_INTENTS), "utf-8")
    report.train_counts = dict(Counter(e.intent for e in train))
    report.test_counts = dict(Counter(e.intent for e in test))
    return report


# --------------------------------------------------------------------------- docs

DOC_START = "<!-- generated:counts:start -->"
DOC_END = "<!-- generated:counts:end -->"


def counts_markdown(report: BuildReport) -> str:
    """The generated part of docs/data.md: counts per intent and what was dropped."""
    lines = [
        "| intent | train | test | sources (before split and caps) |",
        "|---|---:|---:|---|",
    ]
    order = ALL_INTENTS
    for intent in order:
        src = ", ".join(f"{k} {v}" for k, v in sorted(report.sources.get(intent, {}).items()))
        lines.append(
            f"| `{intent}` | {report.train_counts.get(intent, 0)} | "
            f"{report.test_counts.get(intent, 0)} | {src} |"
        )
    lines.append(
        f"| **total ({len(order)} intents)** | **{sum(report.train_counts.values())}** | "
        f"**{sum(report.test_counts.values())}** | |"
    )
    lines += ["", "Bitext rows and entity annotations:", ""]
    lines += [f"- {k}: {v}" for k, v in sorted(report.bitext.items())]
    lines += ["", "Dropped before the split (examples):", ""]
    lines += [f"- {k}: {v}" for k, v in sorted(report.dropped.items())]
    lines += [
        "",
        f"CLINC150 intents excluded from out_of_scope ({len(CLINC_EXCLUDED)}):",
        "",
        "| CLINC intent | why it is excluded |",
        "|---|---|",
    ]
    lines += [f"| `{k}` | {v} |" for k, v in sorted(CLINC_EXCLUDED.items())]
    lines += ["", f"CLINC150 intents used for out_of_scope ({len(report.clinc_intents_used)}):", ""]
    lines.append(", ".join(f"`{i}`" for i in report.clinc_intents_used))
    return "\n".join(lines)


def update_docs(doc_path: Path, report: BuildReport) -> None:
    """Replace the generated block between the markers in docs/data.md."""
    if not doc_path.is_file():
        return
    text = doc_path.read_text(encoding="utf-8")
    if DOC_START not in text or DOC_END not in text:
        return
    head, rest = text.split(DOC_START, 1)
    _, tail = rest.split(DOC_END, 1)
    doc_path.write_text(
        f"{head}{DOC_START}\n{counts_markdown(report)}\n{DOC_END}{tail}", encoding="utf-8"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=Path, default=DEFAULT_DATA_DIR / "sources")
    parser.add_argument("--out", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--domain", type=Path, default=DEFAULT_DATA_DIR / "domain.yml")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "data.md")
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
