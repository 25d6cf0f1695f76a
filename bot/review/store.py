"""Review verdicts on stored turns, in their own table `bot_turn_reviews` (keyed by turn id).

The bot's `bot_turns` rows are never changed: a review is a separate row saying what
the turn's intent should have been. `list_turns` and `get_turn` read both tables;
`review_turns` writes verdicts (one turn or many at once).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, TypedDict

from sqlalchemy import DateTime, ForeignKey, String, and_, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from bot.errors import BotError, StoreError
from bot.store import Base, Turn
from core.wire import FALLBACK_INTENT, OOS_LABEL

# What counts as a fallback turn: the model rejected the message, or it said the message
# is off-topic (the policy answers both with the "did you mean" fallback).
FALLBACK_INTENTS = (FALLBACK_INTENT, OOS_LABEL)
Verdict = Literal["correct", "relabeled", "out_of_scope", "ignored"]
VERDICTS: tuple[Verdict, ...] = ("correct", "relabeled", "out_of_scope", "ignored")
# What a reviewer does to a turn (the API's bulk `action`, the pages' buttons) and the
# verdict it records.
ReviewAction = Literal["correct", "relabel", "out_of_scope", "ignore"]
VERDICT_OF_ACTION: dict[ReviewAction, Verdict] = {
    "correct": "correct",
    "relabel": "relabeled",
    "out_of_scope": "out_of_scope",
    "ignore": "ignored",
}
_INTENT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,99}$")


class TurnNotFoundError(BotError, status_code=404, code="turn_not_found"):
    """A review names a turn id that is not stored."""


class InvalidLabelError(BotError, status_code=422, code="invalid_label"):
    """A relabel names an intent that cannot be trained (bad characters, `nlu_fallback`)."""


class TurnReview(Base):
    """What a reviewer decided about one turn."""

    __tablename__ = "bot_turn_reviews"
    turn_id: Mapped[int] = mapped_column(
        ForeignKey("bot_turns.id", ondelete="CASCADE"), primary_key=True
    )
    # correct | relabeled | out_of_scope | ignored
    verdict: Mapped[str] = mapped_column(String(20), index=True)
    # The intent the turn should have had; None for ignored turns.
    label: Mapped[str | None] = mapped_column(String(100))
    reviewer: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


_created: set[int] = set()


def ensure_tables(engine: Engine) -> None:
    """Create `bot_turn_reviews` (and the bot's tables it refers to) once per engine."""
    if id(engine) in _created:
        return
    try:
        Base.metadata.create_all(engine)
    except SQLAlchemyError as exc:
        raise StoreError(f"could not create the review table: {exc}") from exc
    _created.add(id(engine))


class TurnItem(TypedDict):
    """One turn as the inbox lists it."""

    id: int
    sender: str
    seq: int
    text: str
    intent: str | None
    confidence: float | None
    model_version: str | None
    action: str | None
    created_at: str
    ranking: list[dict[str, Any]]
    verdict: str | None
    label: str | None
    reviewed_at: str | None


class ContextTurn(TypedDict):
    """A turn of the same conversation, shown around the one under review."""

    id: int
    seq: int
    text: str
    intent: str | None
    confidence: float | None
    replies: list[str]  # the bot's reply texts


class TurnDetail(TurnItem):
    """One turn with its entities, replies and the conversation around it."""

    entities: list[dict[str, Any]]
    actions: list[str]
    replies: list[dict[str, Any]]
    context: list[ContextTurn]


@dataclass
class TurnFilter:
    """Which turns the inbox shows.

    Attributes:
        reviewed: True only reviewed, False only unreviewed, None both.
        intent: Only turns predicted as this intent.
        min_confidence: Only turns at or above this confidence.
        max_confidence: Only turns at or below this confidence.
        fallback_only: Only turns the model rejected (`nlu_fallback`) or called off-topic.
        handoff_only: Only turns that ended in a handoff to a person.
        since: Only turns on or after this day (UTC).
        until: Only turns on or before this day (UTC).
        verdict: Only turns with this review verdict.
    """

    reviewed: bool | None = None
    intent: str | None = None
    min_confidence: float | None = None
    max_confidence: float | None = None
    fallback_only: bool = False
    handoff_only: bool = False
    since: date | None = None
    until: date | None = None
    verdict: str | None = None


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive datetimes; they were stored as UTC
        value = value.replace(tzinfo=UTC)
    return value.isoformat(timespec="seconds")


def _columns() -> list[Any]:
    return [
        Turn.id,
        Turn.sender_id,
        Turn.seq,
        Turn.text,
        Turn.intent,
        Turn.confidence,
        Turn.model_version,
        Turn.action,
        Turn.created_at,
        Turn.intent_ranking,
        TurnReview.verdict,
        TurnReview.label,
        TurnReview.reviewed_at,
    ]


def _item(row: Any) -> TurnItem:
    return TurnItem(
        id=int(row.id),
        sender=row.sender_id,
        seq=int(row.seq),
        text=row.text,
        intent=row.intent,
        confidence=None if row.confidence is None else round(float(row.confidence), 4),
        model_version=row.model_version,
        action=row.action,
        created_at=_iso(row.created_at) or "",
        ranking=list(row.intent_ranking or []),
        verdict=row.verdict,
        label=row.label,
        reviewed_at=_iso(row.reviewed_at),
    )


def _conditions(flt: TurnFilter, handoff_action: str) -> list[Any]:
    # Turns answered by a `/intent` payload never met the model: nothing to review.
    where: list[Any] = [Turn.model_version.is_not(None)]
    if flt.reviewed is True:
        where.append(TurnReview.turn_id.is_not(None))
    elif flt.reviewed is False:
        where.append(TurnReview.turn_id.is_(None))
    if flt.intent:
        where.append(Turn.intent == flt.intent)
    if flt.min_confidence is not None:
        where.append(Turn.confidence >= flt.min_confidence)
    if flt.max_confidence is not None:
        where.append(Turn.confidence <= flt.max_confidence)
    if flt.fallback_only:
        where.append(Turn.intent.in_(FALLBACK_INTENTS))
    if flt.handoff_only:
        where.append(Turn.action == handoff_action)
    if flt.since is not None:
        where.append(Turn.created_at >= datetime.combine(flt.since, time(), tzinfo=UTC))
    if flt.until is not None:
        end = datetime.combine(flt.until + timedelta(days=1), time(), tzinfo=UTC)
        where.append(Turn.created_at < end)
    if flt.verdict:
        where.append(TurnReview.verdict == flt.verdict)
    return where


def list_turns(
    engine: Engine,
    flt: TurnFilter,
    *,
    handoff_action: str = "action_handoff",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[TurnItem], int]:
    """Turns matching `flt`, least confident first.

    Args:
        engine: The bot's database.
        flt: The filters.
        handoff_action: The action that hands a conversation to a person.
        limit: At most this many turns.
        offset: Skip this many (paging).

    Returns:
        The page of turns and the number of all matching turns.
    """
    ensure_tables(engine)
    joined = Turn.__table__.outerjoin(TurnReview.__table__, TurnReview.turn_id == Turn.id)
    where = and_(*_conditions(flt, handoff_action))
    query = (
        select(*_columns())
        .select_from(joined)
        .where(where)
        .order_by(Turn.confidence.asc(), Turn.id.asc())
        .limit(limit)
        .offset(offset)
    )
    count = select(func.count()).select_from(joined).where(where)
    try:
        with engine.connect() as conn:
            rows = conn.execute(query).all()
            total = int(conn.execute(count).scalar_one())
    except SQLAlchemyError as exc:
        raise StoreError(f"could not read the turns to review: {exc}") from exc
    return [_item(r) for r in rows], total


def get_turn(engine: Engine, turn_id: int, *, context: int = 3) -> TurnDetail:
    """One turn with its ranking, replies, review and `context` turns either side.

    Raises:
        TurnNotFoundError: No turn has this id.
    """
    ensure_tables(engine)
    joined = Turn.__table__.outerjoin(TurnReview.__table__, TurnReview.turn_id == Turn.id)
    base = select(*_columns(), Turn.entities, Turn.actions, Turn.replies).select_from(joined)
    with engine.connect() as conn:
        row = conn.execute(base.where(Turn.id == turn_id)).one_or_none()
        if row is None:
            raise TurnNotFoundError(
                f"expected the id of a stored turn, found {turn_id}; list them with "
                "GET /api/review/turns"
            )
        around = conn.execute(
            select(Turn.id, Turn.seq, Turn.text, Turn.intent, Turn.confidence, Turn.replies)
            .where(
                Turn.sender_id == row.sender_id,
                Turn.seq.between(row.seq - context, row.seq + context),
            )
            .order_by(Turn.seq)
        ).all()
    ctx = [
        ContextTurn(
            id=int(r.id),
            seq=int(r.seq),
            text=r.text,
            intent=r.intent,
            confidence=None if r.confidence is None else round(float(r.confidence), 4),
            replies=[str(m.get("text", "")) for m in (r.replies or []) if isinstance(m, dict)],
        )
        for r in around
    ]
    return TurnDetail(
        **_item(row),
        entities=list(row.entities or []),
        actions=list(row.actions or []),
        replies=list(row.replies or []),
        context=ctx,
    )


def check_label(intent: str) -> str:
    """Return a trainable intent name or raise `InvalidLabelError` saying why not."""
    name = intent.strip() if isinstance(intent, str) else ""
    if not _INTENT_NAME.match(name):
        raise InvalidLabelError(
            f"expected an intent name of letters, digits, '_' or '-' starting with a letter "
            f"(at most 100 characters), found {intent!r}"
        )
    if name == FALLBACK_INTENT:
        raise InvalidLabelError(
            f"{FALLBACK_INTENT!r} is the model's rejection, not an intent to train; mark the "
            f"turn out-of-scope ({OOS_LABEL!r}) or name the intent it should have had"
        )
    return name


def review_turns(
    engine: Engine,
    turn_ids: Sequence[int],
    verdict: Verdict,
    *,
    intent: str | None = None,
    reviewer: str | None = None,
) -> int:
    """Record one verdict for several turns (a later verdict replaces an earlier one).

    * `correct`: the prediction was right (a correct rejection counts as out-of-scope);
    * `relabeled`: the turn should have been `intent` (which may be a new intent);
    * `out_of_scope`: the message is off-topic for the shop;
    * `ignored`: leave the turn out of training (noise, tests, abuse).

    Args:
        engine: The bot's database.
        turn_ids: The turns.
        verdict: One of `VERDICTS`.
        intent: The new intent, for `relabeled`.
        reviewer: Who decided (kept for audit).

    Returns:
        How many turns were reviewed.

    Raises:
        TurnNotFoundError: An id is not stored.
        InvalidLabelError: `verdict` or `intent` is not valid.
    """
    if verdict not in VERDICTS:
        raise InvalidLabelError(f"expected a verdict in {list(VERDICTS)}, found {verdict!r}")
    if verdict == "relabeled":
        if intent is None:
            raise InvalidLabelError('a relabel needs the intent: send {"intent": "..."}')
        intent = check_label(intent)
    ids = sorted({int(i) for i in turn_ids})
    if not ids:
        return 0
    ensure_tables(engine)
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            predicted = dict(
                conn.execute(select(Turn.id, Turn.intent).where(Turn.id.in_(ids))).all()
            )
            missing = [i for i in ids if i not in predicted]
            if missing:
                raise TurnNotFoundError(
                    f"expected ids of stored turns, found unknown ids {missing[:10]}; list the "
                    "turns with GET /api/review/turns"
                )
            rows = []
            for turn_id in ids:
                label, final = _label_for(verdict, predicted[turn_id], intent)
                rows.append(
                    {
                        "turn_id": turn_id,
                        "verdict": final,
                        "label": label,
                        "reviewer": reviewer,
                        "reviewed_at": now,
                    }
                )
            insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
            stmt = insert(TurnReview).values(rows)
            stmt = stmt.on_conflict_do_update(
                index_elements=["turn_id"],
                set_={
                    "verdict": stmt.excluded.verdict,
                    "label": stmt.excluded.label,
                    "reviewer": stmt.excluded.reviewer,
                    "reviewed_at": stmt.excluded.reviewed_at,
                },
            )
            conn.execute(stmt)
    except SQLAlchemyError as exc:
        raise StoreError(f"could not store the review: {exc}") from exc
    return len(ids)


def _label_for(
    verdict: Verdict, predicted: str | None, intent: str | None
) -> tuple[str | None, str]:
    if verdict == "ignored":
        return None, "ignored"
    if verdict == "out_of_scope":
        return OOS_LABEL, "out_of_scope"
    if verdict == "relabeled":
        if intent == predicted:
            return intent, "correct"
        return intent, "relabeled"
    # correct: a correct rejection means the message is out of scope.
    if predicted in (None, FALLBACK_INTENT):
        return OOS_LABEL, "correct"
    return predicted, "correct"


def clear_reviews(engine: Engine, turn_ids: Sequence[int]) -> int:
    """Forget the reviews of these turns (they go back to the inbox)."""
    ensure_tables(engine)
    with engine.begin() as conn:
        result = conn.execute(delete(TurnReview).where(TurnReview.turn_id.in_(list(turn_ids))))
    return int(result.rowcount or 0)


class Annotation(TypedDict):
    """One reviewed turn to train on."""

    turn_id: int
    text: str
    intent: str
    verdict: str
    predicted: str | None


def reviewed_annotations(engine: Engine) -> list[Annotation]:
    """Every reviewed turn that is not ignored, newest review first."""
    ensure_tables(engine)
    query = (
        select(Turn.id, Turn.text, Turn.intent, TurnReview.label, TurnReview.verdict)
        .join(TurnReview, TurnReview.turn_id == Turn.id)
        .where(TurnReview.verdict != "ignored", TurnReview.label.is_not(None))
        .order_by(TurnReview.reviewed_at.desc(), Turn.id.desc())
    )
    with engine.connect() as conn:
        return [
            Annotation(
                turn_id=int(r.id),
                text=r.text,
                intent=r.label,
                verdict=r.verdict,
                predicted=r.intent,
            )
            for r in conn.execute(query)
        ]


def predicted_intents(engine: Engine) -> list[str]:
    """The intents the model predicted in stored turns (for the inbox's filter)."""
    ensure_tables(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Turn.intent).where(Turn.intent.is_not(None)).distinct().order_by(Turn.intent)
        ).all()
    return [str(r[0]) for r in rows]


__all__ = [
    "Annotation",
    "ContextTurn",
    "InvalidLabelError",
    "TurnDetail",
    "TurnFilter",
    "TurnItem",
    "TurnNotFoundError",
    "TurnReview",
    "check_label",
    "clear_reviews",
    "ensure_tables",
    "get_turn",
    "list_turns",
    "predicted_intents",
    "review_turns",
    "reviewed_annotations",
]
