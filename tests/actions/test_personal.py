"""Personal recommendations from a recommender trained on the seeded store (seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from actions.config import get_settings
from actions.models import Order, OrderLine, Product
from actions.personal import history, personal_picks
from actions.product_actions import ActionRecommendProducts
from actions.store import session_scope
from bot.events import BehaviourEvent, EventIn, store_events
from bot.store import TranscriptStore
from tests.actions.conftest import call, point_settings_at, seed_store


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A seeded store and a recommender trained from its orders."""
    from recs import RecsConfig, load_interactions, train

    folder = tmp_path_factory.mktemp("personal")
    url = seed_store(f"sqlite:///{folder / 'shop.db'}")
    model = folder / "recs"
    train(load_interactions(database_url=url), RecsConfig(), model)
    return url, model


@pytest.fixture
def shop(trained: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url, model = trained
    monkeypatch.setenv("SHOPINTENT_RECS_DIR", str(model))
    point_settings_at(monkeypatch, url)
    yield url
    store = TranscriptStore(url)
    store.create_tables()
    with store.engine.begin() as conn:
        conn.execute(delete(BehaviourEvent))
    store.dispose()
    get_settings.cache_clear()


def bought(url: str, customer: str) -> set[int]:
    with session_scope(url) as session:
        return set(
            session.scalars(
                select(OrderLine.product_id)
                .join(Order, Order.id == OrderLine.order_id)
                .where(Order.customer_id == int(customer))
            )
        )


def picks(url: str, customer: str) -> list[int]:
    with session_scope(url) as session:
        return personal_picks(session, history(session, customer, "c_test"), limit=5)


def test_two_shoppers_with_different_histories_get_different_picks_never_bought(
    shop: str,
) -> None:
    first, second = picks(shop, "10"), picks(shop, "92")
    assert len(first) == len(second) == 5 and first != second
    assert not set(first) & bought(shop, "10") and not set(second) & bought(shop, "92")


def test_views_in_one_category_move_the_picks_toward_it(shop: str) -> None:
    with session_scope(shop) as session:
        phones = list(
            session.scalars(select(Product.id).where(Product.category == "smartphones").limit(4))
        )
    category = {p: "smartphones" for p in phones}

    def share(products: list[int]) -> int:
        with session_scope(shop) as session:
            found = dict(
                session.execute(
                    select(Product.id, Product.category).where(Product.id.in_(products))
                ).all()
            )
        return sum(found[p] == "smartphones" for p in products)

    before = share(picks(shop, "10"))
    store = TranscriptStore(shop)
    store.create_tables()
    store_events(
        store.engine, "customer:10", "c_test", [EventIn("product_view", p, None) for p in category]
    )
    after_picks = picks(shop, "10")
    assert share(after_picks) > before and share(after_picks) >= 3
    assert not set(after_picks) & set(phones)  # something new, not what they just saw


def test_the_action_says_why_and_falls_back_without_a_history(shop: str) -> None:
    personal = call(
        ActionRecommendProducts(), "what should I buy next?", slots={"customer_id": "10"}
    )
    assert personal.text.startswith("Picked for you, because you bought the ")
    guest = call(ActionRecommendProducts(), "anything for me?")
    assert guest.text.startswith("Our top-rated products")
