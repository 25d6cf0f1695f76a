"""The review JSON API under `/api/review` (documented in the app's OpenAPI schema).

Every route needs the review token (`Authorization: Bearer ...`) or a login session's
cookie; without either the answer is 401. Routes are plain `def`s: FastAPI runs them in its
thread pool, so the blocking database calls never stall the webhook's event loop.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from bot.deps import EngineDep, MaybeChatDep, MaybeModelDep
from bot.review import store
from bot.review.deps import HandoffActionDep, require_reviewer

router = APIRouter(prefix="/api/review", tags=["review"], dependencies=[Depends(require_reviewer)])
# Row ids and offsets are 64-bit in every database; a larger number is a 422, not a 500.
MAX_ROW_ID = 2**63 - 1
TurnId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


class IntentScoreOut(BaseModel):
    """One intent of the model's ranking."""

    name: str
    confidence: float


class TurnOut(BaseModel):
    """A stored turn as the inbox lists it (the text is already PII-redacted)."""

    id: int = Field(description="turn id, used by the label and verdict routes")
    sender: str = Field(description="conversation (REST channel sender) id")
    seq: int = Field(description="position of the turn in its conversation, from 1")
    text: str = Field(description="the shopper's message, PII redacted")
    intent: str | None = Field(description="predicted intent (`nlu_fallback` when rejected)")
    confidence: float | None = Field(description="the model's confidence in `intent`")
    model_version: str | None = Field(description="the model version that answered")
    action: str | None = Field(description="the last action the bot ran")
    created_at: str
    ranking: list[IntentScoreOut] = Field(description="the model's top intents")
    verdict: str | None = Field(description="correct | relabeled | out_of_scope | ignored")
    label: str | None = Field(description="the reviewed intent (None while unreviewed)")
    reviewed_at: str | None


class TurnPage(BaseModel):
    """A page of turns, least confident first."""

    items: list[TurnOut]
    total: int = Field(description="turns matching the filters, over all pages")
    limit: int
    offset: int


class ContextOut(BaseModel):
    """A neighbouring turn of the same conversation."""

    id: int
    seq: int
    text: str
    intent: str | None
    confidence: float | None
    replies: list[str]


class TurnDetailOut(TurnOut):
    """A turn with its entities, the bot's replies and the conversation around it."""

    entities: list[dict[str, Any]]
    actions: list[str]
    replies: list[dict[str, Any]]
    context: list[ContextOut]


class LabelIn(BaseModel):
    """The intent the turn should have had (an existing or a new intent)."""

    intent: str = Field(min_length=1, max_length=100, examples=["track_order"])


class VerdictIn(BaseModel):
    """A verdict that needs no intent."""

    verdict: Literal["correct", "out_of_scope", "ignored"]


class BulkIn(BaseModel):
    """One action for many turns."""

    ids: list[Annotated[int, Field(ge=1, le=MAX_ROW_ID)]] = Field(min_length=1, max_length=1000)
    action: store.ReviewAction
    intent: str | None = Field(None, max_length=100, description="needed by `relabel`")


class ReviewedOut(BaseModel):
    """How many turns a review call changed."""

    reviewed: int


@router.get("/turns", response_model=TurnPage, summary="List turns, least confident first")
def list_turns(
    engine: EngineDep,
    handoff: HandoffActionDep,
    reviewed: Annotated[bool | None, Query(description="false: only unreviewed")] = None,
    intent: Annotated[str | None, Query(max_length=100)] = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    fallback_only: bool = False,
    handoff_only: bool = False,
    since: date | None = None,
    until: date | None = None,
    verdict: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
) -> dict[str, Any]:
    """Turns matching the filters, least confident first."""
    flt = store.TurnFilter(
        reviewed=reviewed,
        intent=intent,
        min_confidence=min_confidence,
        max_confidence=max_confidence,
        fallback_only=fallback_only,
        handoff_only=handoff_only,
        since=since,
        until=until,
        verdict=verdict,
    )
    items, total = store.list_turns(engine, flt, handoff_action=handoff, limit=limit, offset=offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/turns/{turn_id}", response_model=TurnDetailOut, summary="One turn in context")
def get_turn(turn_id: TurnId, engine: EngineDep) -> store.TurnDetail:
    """A turn with its ranking, replies, review and the conversation around it."""
    return store.get_turn(engine, turn_id)


@router.post(
    "/turns/{turn_id}/label", response_model=ReviewedOut, summary="Relabel a turn's intent"
)
def label_turn(turn_id: TurnId, body: LabelIn, engine: EngineDep) -> dict[str, int]:
    """Set the intent the turn should have had; the predicted intent itself marks it correct."""
    return {"reviewed": store.review_turns(engine, [turn_id], "relabeled", intent=body.intent)}


@router.post(
    "/turns/{turn_id}/verdict",
    response_model=ReviewedOut,
    summary="Mark a turn correct, out-of-scope or ignored",
)
def verdict_turn(turn_id: TurnId, body: VerdictIn, engine: EngineDep) -> dict[str, int]:
    """Record a verdict that needs no intent."""
    return {"reviewed": store.review_turns(engine, [turn_id], body.verdict)}


@router.delete(
    "/turns/{turn_id}/review", response_model=ReviewedOut, summary="Undo a turn's review"
)
def clear_review(turn_id: TurnId, engine: EngineDep) -> dict[str, int]:
    """Forget the review; the turn goes back to the unreviewed inbox."""
    store.get_turn(engine, turn_id, context=0)
    return {"reviewed": store.clear_reviews(engine, [turn_id])}


@router.post("/bulk", response_model=ReviewedOut, summary="One action for many turns")
def bulk_review(body: BulkIn, engine: EngineDep) -> dict[str, int]:
    """Apply `correct`, `relabel` (with `intent`), `out_of_scope` or `ignore` to every id."""
    verdict = store.VERDICT_OF_ACTION[body.action]
    return {"reviewed": store.review_turns(engine, body.ids, verdict, intent=body.intent)}


@router.get("/intents", summary="Intents a turn can be relabelled to")
def intents(chat: MaybeChatDep, engine: EngineDep) -> dict[str, list[str]]:
    """The domain's intents plus any intent already seen in predictions or reviews."""
    known = set(chat.domain.intents if chat is not None else [])
    known |= set(store.predicted_intents(engine))
    known |= {a["intent"] for a in store.reviewed_annotations(engine)}
    known.discard(store.FALLBACK_INTENT)
    return {"intents": sorted(known)}


@router.get(
    "/export",
    response_class=PlainTextResponse,
    summary="The reviewed turns as Rasa NLU YAML",
    responses={200: {"content": {"text/yaml": {}}}},
)
def export_yaml(engine: EngineDep) -> PlainTextResponse:
    """What `shopintent review export` writes (without checking the training data)."""
    from bot.review.export import render_annotations

    return PlainTextResponse(render_annotations(engine), media_type="text/yaml")


@router.get("/analytics", summary="Volume, intents, fallback and handoff rates, review progress")
def analytics(
    engine: EngineDep, handoff: HandoffActionDep, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> Any:
    """The numbers behind /review/analytics."""
    from dataclasses import asdict

    from bot.review.analytics import summarise

    return asdict(summarise(engine, days=days, handoff_action=handoff))


@router.get("/model", summary="The model version answering now")
def model(model: MaybeModelDep) -> dict[str, Any]:
    """The serving model's version, and the registry's pointer when hot-reload is on."""
    return {
        "model_version": model.version if model is not None else None,
        "nlu_backend": model.backend if model is not None else None,
        "registry_current": model.registry_current() if model is not None else None,
        "last_reload_error": model.last_error if model is not None else None,
    }
