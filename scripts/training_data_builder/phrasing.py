"""Fill the catalog templates (`templates/products.yml`) with products, brands and prices.

Each product intent's templates are filled round-robin with seeded catalog values and
given realistic surface noise (casing, punctuation, a typo), never inside an entity's
characters except for lower-casing.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from nlu.data import Example

from .catalog import CATEGORY_WORDS, Product
from .config import TrainingDataError, normalise
from .segments import Segment, merge, tidy, to_example, typo
from .template_files import product_templates, slot_words

SLOT = re.compile(r"\{(\w+)\}")
DETERMINER_BEFORE = re.compile(r"\b(a|an|the|my|your|this|that|these|those)\s+$")


class Phraser:
    """Fills templates with catalog values and adds realistic surface noise.

    Slots: {product} {product2} {brand} {category} {price}, which become annotated
    entity mentions, and the plain slots of `templates/products.yml` ({item} {who}
    {occasion} {aspect}).
    """

    ENTITY_SLOTS = ("product", "product2", "brand", "category", "price")

    def __init__(self, products: Sequence[Product], rng: random.Random) -> None:
        self.products = list(products)
        self.rng = rng
        self.brands = sorted({p.brand for p in products if p.brand})
        self.branded = [p for p in products if p.brand]
        self.categories = sorted({p.category for p in products})
        self.slots = slot_words()

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
        """One of the phrases shoppers use for the category (`categories.yml`)."""
        return self.rng.choice(CATEGORY_WORDS[category])

    # ----- templates
    def fill(self, intent: str, template: str, source: str) -> Example:
        """Fill a template's slots and return the example, its mentions annotated."""
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
            elif slot in self.slots:
                segments.append(Segment(self.rng.choice(self.slots[slot])))
            else:
                raise TrainingDataError(
                    f"expected a known slot in template {template!r}, but found {{{slot}}}; "
                    f"use one of {sorted(Phraser.ENTITY_SLOTS)} or a slot of "
                    f"templates/products.yml ({', '.join(self.slots)})"
                )
            pos = m.end()
        if pos < len(template):
            segments.append(Segment(template[pos:]))
        return to_example(intent, self.noise(merge(segments)), source)

    def noise(self, segments: tuple[Segment, ...]) -> tuple[Segment, ...]:
        """Casing, punctuation and typo variation, never inside an entity's characters
        except for lower-casing (people type `iphone x`)."""
        rng = self.rng
        lower = rng.random() < 0.4
        drop_punct = rng.random() < 0.45
        no_apostrophe = rng.random() < 0.15
        add_typo = rng.random() < 0.2
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
        if add_typo and plain_idx:
            i = rng.choice(plain_idx)
            out[i] = Segment(typo(out[i].text, rng))
        if not lower and out and not out[0].entity and rng.random() < 0.7:
            first = out[0].text
            out[0] = Segment(first[:1].upper() + first[1:])
        return tidy(out)


def generate_product_examples(
    products: Sequence[Product], per_intent: int, rng_seed: str
) -> list[Example]:
    """Fill each product intent's templates round-robin until it has `per_intent` examples.

    Round-robin over templates (not random draws) keeps every template represented, so
    the data is many phrasings with catalog values, not one phrasing with many values.
    """
    examples: list[Example] = []
    for intent, templates in product_templates().items():
        phraser = Phraser(products, random.Random(f"{rng_seed}:{intent}"))
        seen: set[str] = set()
        attempts = 0
        while len(seen) < per_intent and attempts < per_intent * 20:
            template = templates[attempts % len(templates)]
            attempts += 1
            ex = phraser.fill(intent, template, "generated")
            key = normalise(ex.text)
            if key and key not in seen:
                seen.add(key)
                examples.append(ex)
    return examples
