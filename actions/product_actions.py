"""Product actions: info, search, compare, recommendations."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from actions.base import EventList, ShopAction, Turn, slot_events
from actions.models import Product
from actions.parsing import (
    content_terms,
    detect_attribute,
    normalize,
    parse_bounds,
    split_comparison,
)
from actions.personal import history, personal_picks
from actions.query import ParsedQuery, categories_of, parse_query
from actions.ranking import ProductHit
from actions.replies import ask_buttons, money, product_list, truncate
from actions.search import (
    Resolution,
    bought_together,
    get_product,
    resolve_product,
    search_parsed,
    similar_products,
    top_rated,
)
from actions.vocabulary import vocabulary

_TRY_SEARCH = 'Try the product\'s name as it appears in the shop (e.g. "iPhone X"), or ask me to search (e.g. "wireless earphones under $100").'


def resolve_mentioned(turn: Turn, *, from_text: bool = True) -> Resolution:
    """Resolve the product from the `product`/`brand` entities, the slot, or the text."""
    brand = turn.entity("brand")
    entity = turn.entity("product")
    if entity:
        return resolve_product(turn.session, entity, brand=brand)
    if from_text:
        resolution = resolve_product(turn.session, turn.text, brand=brand)
        if resolution.product or resolution.ambiguous or not turn.slot("product"):
            return resolution
    slot = turn.slot("product")
    if slot:
        return resolve_product(turn.session, slot)
    return Resolution(product=None, candidates=[], phrase="")


def _not_found(turn: Turn, resolution: Resolution, question: str) -> None:
    """Reply for an unknown or ambiguous product, offering the closest ones."""
    if resolution.ambiguous and resolution.candidates:
        turn.say(
            f'Several products match "{truncate(resolution.phrase)}". Which one do you mean?',
            buttons=ask_buttons(
                [(c.title, question.format(title=c.title)) for c in resolution.candidates]
            ),
            products=resolution.candidates,
        )
        return
    if not resolution.phrase:
        turn.say(f"Which product do you mean? {_TRY_SEARCH}")
        return
    close = ""
    if resolution.candidates:
        close = " The closest I have: " + ", ".join(c.title for c in resolution.candidates) + "."
    turn.say(
        f'I couldn\'t find a product called "{truncate(resolution.phrase)}".{close} {_TRY_SEARCH}',
        products=resolution.candidates or None,
    )


def _answer_attribute(product: Product, attribute: str | None) -> str:
    title = product.title
    sale = round(product.price * (1 - product.discount_percentage / 100), 2)
    if attribute == "price":
        text = f"The {title} costs {money(product.price)}."
        if product.discount_percentage >= 1:
            text += f" Right now it's {product.discount_percentage:.0f}% off: {money(sale)}."
        if product.minimum_order_quantity > 1:
            text += f" Minimum order: {product.minimum_order_quantity} units."
        return text
    if attribute == "stock":
        if product.availability == "Out of Stock" or product.stock <= 0:
            return f"The {title} is out of stock right now."
        low = " - only a few left" if product.availability == "Low Stock" else ""
        return f"The {title} is {product.availability.lower()}: {product.stock} available{low}."
    if attribute == "warranty":
        return f"The {title} comes with: {product.warranty or 'no warranty information'}."
    if attribute == "shipping":
        return f"The {title}: {product.shipping_info or 'standard shipping'}."
    if attribute == "returns":
        return (
            f"Returns for the {title}: {product.return_policy or 'see our general return policy'}."
        )
    if attribute == "rating":
        reviews = sorted(product.reviews, key=lambda r: r.created_at or datetime.min, reverse=True)
        quote = (
            f' A recent review ({reviews[0].rating}★): "{reviews[0].comment}"' if reviews else ""
        )
        return (
            f"The {title} is rated {product.rating:.1f} out of 5 ({len(reviews)} reviews).{quote}"
        )
    if attribute == "size":
        dims = product.dimensions or {}
        size = " × ".join(f"{dims[k]}" for k in ("width", "height", "depth") if k in dims)
        weight = f", weight {product.weight}" if product.weight is not None else ""
        return f"The {title} measures {size or 'n/a'} cm{weight}."
    brand = f" by {product.brand}" if product.brand else ""
    return (
        f"{title}{brand}: {money(product.price)}, rated {product.rating:.1f}/5, "
        f"{product.availability.lower()}. {product.description}".strip()
    )


class ActionProductInfo(ShopAction):
    """Answer a question about one product: price, stock, warranty, shipping, returns, rating."""

    NAME = "action_product_info"

    def handle(self, turn: Turn) -> EventList:
        """Resolve the product (typos and partial names are fine) and answer the attribute."""
        attribute = turn.entity("attribute") or detect_attribute(turn.text)
        resolution = resolve_mentioned(turn)
        if resolution.product is None:
            asked = {"price": "price", "stock": "availability"}.get(
                attribute or "", attribute or "details"
            )
            _not_found(turn, resolution, f"What is the {asked} of the {{title}}?")
            return []
        product = turn.session.get(Product, resolution.product.id)
        if product is None:
            return []
        follow = [
            (label, f"What is the {word} of the {product.title}?")
            for key, label, word in (
                ("price", "Price", "price"),
                ("stock", "Stock", "availability"),
                ("warranty", "Warranty", "warranty"),
                ("shipping", "Shipping", "shipping time"),
                ("returns", "Returns", "return policy"),
            )
            if key != attribute
        ][:4]
        turn.say(
            _answer_attribute(product, attribute),
            buttons=ask_buttons(follow),
            products=[resolution.product],
        )
        return slot_events(product=product.title)


def with_entity_filters(turn: Turn, parsed: ParsedQuery) -> ParsedQuery:
    """Add the `category` and `price` entities when the text itself did not give them."""
    filters = parsed.filters
    if not filters.categories:
        found = tuple(
            c for v in turn.entities("category") for c in categories_of(v, vocabulary(turn.session))
        )
        if found:
            filters = replace(filters, categories=tuple(sorted(set(found))))
            words = tuple(t for v in turn.entities("category") for t in content_terms(v))
            parsed = replace(parsed, category_words=words)
    price = turn.entity("price")
    if price and filters.min_price is None and filters.max_price is None:
        bounds = parse_bounds(normalize(price))
        filters = replace(filters, min_price=bounds.min_price, max_price=bounds.max_price)
    return replace(parsed, filters=filters)


@dataclass(frozen=True)
class _Asked:
    """How a search reply names the query."""

    read_as: str  # as search read it: "tyres in vehicle up to $50.00 (I read: ...)"
    in_words: str  # in the shopper's words: "car tyres up to $50.00"
    kind: str  # what, in the shopper's words, without the bounds: "car tyres"
    bounds: tuple[str, ...]  # "from $10.00", "up to $50.00", "rated 4+", "in stock"
    corrections: str  # " (I read: mascra → mascara)" or ""


def _asked(parsed: ParsedQuery) -> _Asked:
    f = parsed.filters
    category_names = " / ".join(c.replace("-", " ") for c in f.categories)
    described = " ".join(parsed.terms) or category_names or "products"
    scope = []
    if f.brands:
        scope.append("by " + " or ".join(f.brands))
    if f.categories and parsed.terms:
        scope.append(f"in {category_names}")
    bounds = []
    if f.min_price is not None:
        bounds.append(f"from {money(f.min_price)}")
    if f.max_price is not None:
        bounds.append(f"up to {money(f.max_price)}")
    if f.min_rating is not None:
        bounds.append(f"rated {f.min_rating:g}+")
    if f.in_stock_only:
        bounds.append("in stock")
    read = ""
    if parsed.corrections:
        read = " (I read: " + ", ".join(f"{a} → {b}" for a, b in parsed.corrections.items()) + ")"
    # The brand and category only when the shopper's words do not already name them.
    typed = set(parsed.phrase.split())
    own_scope = [f"by {b}" for b in f.brands if not set(content_terms(b)) <= typed]
    if f.categories and not set(parsed.category_words) <= typed:
        own_scope.append(f"in {category_names}")
    return _Asked(
        read_as=truncate(" ".join([described, *scope, *bounds]), 80) + read,
        in_words=truncate(" ".join([parsed.phrase or described, *own_scope, *bounds]), 80),
        kind=truncate(" ".join([parsed.phrase or described, *own_scope]), 80),
        bounds=tuple(bounds),
        corrections=read,
    )


def _carries_nothing_like(turn: Turn, parsed: ParsedQuery) -> bool:
    """Whether the shop has nothing of what was asked for, whatever the budget.

    Only for real words: an uncorrectable non-word ("xyzzy") may be a typo, and a
    query that finds products without its price, rating or stock bounds is carried.
    """
    vocab = vocabulary(turn.session)
    if not parsed.terms or not all(t.isdigit() or vocab.is_word(t) for t in parsed.terms):
        return False
    f = parsed.filters
    if f.min_price is None and f.max_price is None and f.min_rating is None and not f.in_stock_only:
        return True
    unbounded = replace(f, min_price=None, max_price=None, min_rating=None, in_stock_only=False)
    return not search_parsed(turn.session, replace(parsed, filters=unbounded), limit=1).hits


class ActionProductSearch(ShopAction):
    """Free text to ranked products, with category, brand, price and rating filters."""

    NAME = "action_product_search"

    def handle(self, turn: Turn) -> EventList:
        """Search the catalog and reply with the best products as cards.

        When nothing matches every word, the reply says so and lists the closest products
        only when search found close ones; when nothing is close either, and the words are
        real words, it says the shop does not carry them ("Sorry, we don't carry gift cards.").
        """
        vocab = vocabulary(turn.session)
        in_text = normalize(turn.text)
        extra = [
            v
            for v in turn.entities("product") + turn.entities("brand")
            if normalize(v) not in in_text
        ]
        # A comma keeps entity values out of the text's last noun phrase.
        parsed = with_entity_filters(turn, parse_query(", ".join([turn.text, *extra]), vocab))
        result = search_parsed(turn.session, parsed, limit=5)
        parsed = result.query
        f = parsed.filters
        asked = _asked(parsed)
        if not result.hits:
            if not parsed.terms and not f.brands and not asked.bounds:
                turn.say(
                    "What are you looking for? Tell me a product, brand or category, and a "
                    'budget if you have one (e.g. "laptops under $1500").'
                )
                return []
            categories = ", ".join(c.replace("-", " ") for c in sorted(vocab.categories)[:8])
            if _carries_nothing_like(turn, parsed):
                turn.say(
                    f"Sorry, we don't carry {asked.kind}{asked.corrections}. You can ask "
                    f"me for a product, a brand, or a category such as {categories}."
                )
                return []
            budget = ", a higher budget" if asked.bounds else ""
            turn.say(
                f"Sorry, I couldn't find {asked.in_words}{asked.corrections}. Try fewer or "
                f"different words{budget}, or a category such as {categories}."
            )
            return []
        if result.browsed:
            where = " / ".join(c.replace("-", " ") for c in f.categories)
            where = where or " or ".join(f.brands) + " products"
            words = truncate(" ".join(parsed.terms), 40)
            lead = (
                f"Here are our top-rated {' '.join([where, *asked.bounds])} "
                f'(no exact match for "{words}"){asked.corrections}:'
            )
        elif result.relaxed:
            lead = (
                f"Sorry, nothing matches {asked.in_words} exactly{asked.corrections}. "
                "The closest we have:"
            )
        else:
            lead = f"Best matches for {asked.read_as}:"
        turn.say(f"{lead}\n{product_list(result.hits)}", products=result.hits)
        return slot_events(product=result.hits[0].title) if len(result.hits) == 1 else []


class ActionCompareProducts(ShopAction):
    """Compare two products side by side."""

    NAME = "action_compare_products"

    def handle(self, turn: Turn) -> EventList:
        """Resolve two products from entities or "X vs Y" text and compare them."""
        phrases = turn.entities("product") or split_comparison(turn.text)
        if len(phrases) == 1 and turn.slot("product"):
            phrases = [turn.slot("product") or "", phrases[0]]
        found: list[ProductHit] = []
        missing: list[str] = []
        for phrase in phrases[:4]:
            resolution = resolve_product(turn.session, phrase)
            hit = resolution.product or (resolution.candidates[0] if resolution.ambiguous else None)
            if hit is None:
                missing.append(truncate(phrase, 40))
            elif hit.id not in {h.id for h in found}:
                found.append(hit)
        if len(found) < 2:
            problem = f" I couldn't find: {', '.join(missing)}." if missing else ""
            turn.say(
                f"Which two products should I compare?{problem} For example: "
                '"compare iPhone X and Samsung Galaxy S8".',
                products=found or None,
            )
            return []
        a, b = (turn.session.get(Product, found[0].id), turn.session.get(Product, found[1].id))
        if a is None or b is None:
            return []
        rows = [
            ("Price", money(a.price), money(b.price)),
            ("Rating", f"{a.rating:.1f}★", f"{b.rating:.1f}★"),
            ("Availability", a.availability, b.availability),
            ("Warranty", a.warranty, b.warranty),
            ("Shipping", a.shipping_info, b.shipping_info),
            ("Returns", a.return_policy, b.return_policy),
        ]
        table = "\n".join(f"- {name}: {x} vs {y}" for name, x, y in rows)
        cheaper = a if a.price < b.price else b
        better = a if a.rating > b.rating else b
        verdict = f"The {cheaper.title} is cheaper by {money(abs(a.price - b.price))}"
        verdict += (
            f"; the {better.title} is better rated."
            if a.rating != b.rating
            else "; both are rated the same."
        )
        turn.say(f"{a.title} vs {b.title}:\n{table}\n{verdict}", products=found[:2])
        return []


class ActionRecommendProducts(ShopAction):
    """Recommend products: similar and bought together, personal picks, or top-rated."""

    NAME = "action_recommend_products"

    def _personal(
        self,
        turn: Turn,
        categories: list[str],
        budget: float | None,
        min_price: float | None,
        scope: str,
    ) -> bool:
        """Reply with the recommender's picks for this shopper's history; False: none."""
        shopper = history(turn.session, turn.slot("customer_id"), str(turn.tracker.sender_id))
        picks = personal_picks(
            turn.session,
            shopper,
            categories=categories,
            max_price=budget,
            min_price=min_price,
        )
        hits = [h for h in (get_product(turn.session, p) for p in picks) if h is not None]
        if not hits:
            return False
        anchor_id = shopper.last_viewed or (shopper.items[-1] if shopper.items else None)
        anchor = turn.session.get(Product, anchor_id) if anchor_id is not None else None
        verb = "looked at" if shopper.last_viewed is not None else "bought"
        why = f", because you {verb} the {anchor.title}" if anchor is not None else ""
        turn.say(f"Picked for you{scope}{why}:\n{product_list(hits)}", products=hits)
        return True

    def handle(self, turn: Turn) -> EventList:
        """Pick the recommendation mode from what the shopper gave (product, category, budget)."""
        session = turn.session
        parsed = with_entity_filters(turn, parse_query(turn.text, vocabulary(session)))
        budget, min_price = parsed.filters.max_price, parsed.filters.min_price
        categories = list(parsed.filters.categories)
        anchor: ProductHit | None = None
        entity = turn.entity("product")
        if entity:
            anchor = resolve_product(session, entity, brand=turn.entity("brand")).product
        elif not categories and parsed.terms:
            anchor = resolve_product(session, " ".join(parsed.terms)).product
        if anchor is None and not categories and turn.slot("product"):
            anchor = resolve_product(session, turn.slot("product") or "").product
        within = f" under {money(budget)}" if budget is not None else ""
        if anchor is not None:
            similar = similar_products(session, anchor.id, limit=3, max_price=budget)
            together = [
                h
                for h in bought_together(session, anchor.id, limit=4, max_price=budget)
                if h.id not in {s.id for s in similar}
            ][:3]
            if not similar and not together:
                turn.say(
                    f"I have nothing close to the {anchor.title}{within} right now. Try a higher budget."
                )
                return slot_events(product=anchor.title)
            parts = []
            if similar:
                parts.append(f"Similar to the {anchor.title}{within}:\n{product_list(similar)}")
            if together:
                parts.append(f"Often bought together with it:\n{product_list(together)}")
            turn.say("\n".join(parts), products=[*similar, *together])
            return slot_events(product=anchor.title)
        where = " in " + " / ".join(c.replace("-", " ") for c in categories) if categories else ""
        if self._personal(turn, categories, budget, min_price, where + within):
            return []
        hits = top_rated(
            session, categories=categories, limit=5, max_price=budget, min_price=min_price
        )
        if not hits:
            turn.say(
                f"I have nothing{where}{within} right now. Try a higher budget or another category."
            )
            return []
        intro = (
            f"Our top-rated picks{where}{within}:"
            if categories or budget
            else (
                "Our top-rated products right now (tell me a category, a product you like, or a budget for better picks):"
            )
        )
        turn.say(f"{intro}\n{product_list(hits)}", products=hits)
        return []
