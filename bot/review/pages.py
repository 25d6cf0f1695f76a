"""The review pages under `/review`: login, inbox, one turn in context, analytics.

Plain server-rendered HTML (Jinja2 templates, one stylesheet, no JavaScript needed).
Without the review token or a login session a page answers 401 with the login form in
its body, so a browser shows the form and a script sees the status. A login opens a
server-side session (`bot.review.sessions`); its cookie is HttpOnly, SameSite=Strict and,
in production, Secure. Forms post `application/x-www-form-urlencoded` bodies with the
session's CSRF token. Repeated failed logins from one address get 429 and `Retry-After`.
"""

from __future__ import annotations

import asyncio
import hmac
from datetime import date
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.engine import Engine

from bot.deps import EngineDep, MaybeChatDep, SettingsDep
from bot.errors import BotError, error_response
from bot.review import sessions, store
from bot.review.auth import (
    COOKIE,
    ReviewAccess,
    ReviewAuthError,
    configuration_problem,
    login_client,
    session_cookie,
)
from bot.review.deps import (
    HandoffActionDep,
    MaybeReviewerDep,
    ReviewConfigDep,
    ReviewerDep,
)
from bot.service import ChatService

router = APIRouter(prefix="/review", include_in_schema=False)
_MAX_FORM_BYTES = 64_000

_env = Environment(
    loader=PackageLoader("bot.review", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


class FormError(BotError, status_code=400, code="invalid_form"):
    """A review form was posted with a bad or missing field."""


def render(
    name: str, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> HTMLResponse:
    """Render a template of `bot/review/templates` into an HTML response."""
    html = _env.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status_code, headers={**_NO_STORE, **(headers or {})})


_NO_STORE = {"Cache-Control": "no-store", "X-Frame-Options": "DENY"}


def login_required(request: Request, exc: ReviewAuthError) -> Response:
    """The answer to a request without review access (`ReviewerDep` failed): on the API
    (`/api/...`) the JSON 401 of every `BotError`; on a page (the review pages, the agent
    console) the 401 login form, which returns to the page after logging in."""
    if request.url.path.startswith("/api/"):
        return error_response(exc)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return render(
        "login.html",
        status_code=401,
        error=None,
        problem=exc.problem,
        next=_safe_next(target),
    )


def _safe_next(target: str | None) -> str:
    """Only follow redirects back into the review pages or the agent console (never to
    another site)."""
    if target and target.startswith(("/review", "/agent")) and not target.startswith("//"):
        return target
    return "/review"


async def _form(request: Request) -> dict[str, list[str]]:
    body = await request.body()
    if len(body) > _MAX_FORM_BYTES:
        raise FormError(f"expected a form of at most {_MAX_FORM_BYTES} bytes, found {len(body)}")
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError as exc:
        raise FormError("expected a UTF-8 form body") from exc


def _first(form: dict[str, list[str]], key: str) -> str:
    values = form.get(key) or [""]
    return values[0].strip()


def _check_csrf(form: dict[str, list[str]], access: ReviewAccess) -> None:
    """A form of a login session must carry that session's CSRF token.

    Bearer callers need none: a browser never sends the Authorization header on its own.
    """
    if access.session is None:
        return
    if not hmac.compare_digest(_first(form, "csrf").encode(), access.session.csrf.encode()):
        raise FormError(
            "the form's security field is missing or stale; reload the page and try again"
        )


@router.get("/static/review.css")
def stylesheet() -> Response:
    """The review pages' stylesheet (public: it holds no data)."""
    css = resources.files("bot.review").joinpath("static", "review.css").read_text("utf-8")
    return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=300"})


@router.get("/login", response_class=HTMLResponse)
def login_form(
    review: ReviewConfigDep,
    settings: SettingsDep,
    access: MaybeReviewerDep,
    next: str = "/review",
) -> Response:
    """The login form (it says so when review is locked by the server's settings)."""
    if access is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    problem = configuration_problem(review, settings.webhook_token)
    return render("login.html", error=None, problem=problem, next=_safe_next(next))


@router.post("/login")
async def login(
    request: Request, review: ReviewConfigDep, settings: SettingsDep, engine: EngineDep
) -> Response:
    """Check the token; on success open a session, set its cookie and go to the inbox.

    An address with too many failed logins gets 429 and `Retry-After`, whatever it sends.
    """
    form = await _form(request)
    token = _first(form, "token")
    target = _safe_next(_first(form, "next"))
    problem = configuration_problem(review, settings.webhook_token)
    if problem:
        return render("login.html", status_code=401, error=None, problem=problem, next=target)
    client = login_client(request, review)
    wait = await asyncio.to_thread(sessions.retry_after, engine, client)
    if wait:
        return render(
            "login.html",
            status_code=429,
            headers={"Retry-After": str(wait)},
            error=f"Too many failed logins from your address: try again in {wait} s.",
            problem=None,
            next=target,
        )
    if not hmac.compare_digest(token.encode(), (review.review_token or "").encode()):
        wait = await asyncio.to_thread(
            sessions.record_failure,
            engine,
            client,
            review.review_login_max_failures,
            review.review_login_window_s,
        )
        error = "That is not the review token."
        if wait:
            error += f" Too many failed logins: wait {wait} s before the next try."
        return render("login.html", status_code=401, error=error, problem=None, next=target)
    await asyncio.to_thread(sessions.clear_failures, engine, client)
    previous = session_cookie(request)
    if previous is not None:
        await asyncio.to_thread(sessions.close_session, engine, previous)
    session_id, _session = await asyncio.to_thread(
        sessions.open_session, engine, review.review_token or "", review.review_session_idle_s
    )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        session_id,
        httponly=True,
        samesite="strict",
        secure=settings.production or request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
async def logout(request: Request, engine: EngineDep, access: MaybeReviewerDep) -> Response:
    """End the session (revoked in the database, so the cookie opens nothing any more)."""
    cookie = session_cookie(request)
    if access is not None and access.session is not None:
        _check_csrf(await _form(request), access)
    if cookie is not None:
        await asyncio.to_thread(sessions.close_session, engine, cookie)
    response = RedirectResponse("/review/login", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


def _filters(request: Request) -> tuple[store.TurnFilter, dict[str, str]]:
    """Read the inbox filters from the query string, ignoring values that do not parse."""
    q = request.query_params
    raw = {k: q.get(k, "").strip() for k in _FILTER_KEYS}

    def number(key: str) -> float | None:
        try:
            value = float(raw[key])
        except ValueError:
            raw[key] = ""
            return None
        return min(max(value, 0.0), 1.0)

    def day(key: str) -> date | None:
        try:
            return date.fromisoformat(raw[key])
        except ValueError:
            raw[key] = ""
            return None

    reviewed = {"no": False, "yes": True}.get(raw["reviewed"])
    if reviewed is None and raw["reviewed"] != "all":
        raw["reviewed"] = "no"
        reviewed = False
    flt = store.TurnFilter(
        reviewed=reviewed,
        intent=raw["intent"] or None,
        min_confidence=number("min_confidence"),
        max_confidence=number("max_confidence"),
        fallback_only=raw["only"] == "fallback",
        handoff_only=raw["only"] == "handoff",
        since=day("since"),
        until=day("until"),
        verdict=raw["verdict"] if raw["verdict"] in store.VERDICTS else None,
    )
    return flt, raw


_FILTER_KEYS = (
    "reviewed",
    "intent",
    "min_confidence",
    "max_confidence",
    "only",
    "since",
    "until",
    "verdict",
    "page",
)


def _intent_choices(chat: ChatService | None, engine: Engine) -> list[str]:
    known = set(chat.domain.intents if chat is not None else [])
    known |= set(store.predicted_intents(engine))
    known.discard(store.FALLBACK_INTENT)
    return sorted(known)


@router.get("", response_class=HTMLResponse)
def inbox(
    request: Request,
    review: ReviewConfigDep,
    access: ReviewerDep,
    engine: EngineDep,
    chat: MaybeChatDep,
    handoff: HandoffActionDep,
) -> Response:
    """The inbox: turns to review, least confident first, with filters and bulk actions."""
    flt, raw = _filters(request)
    try:
        page = max(1, int(raw["page"] or 1))
    except ValueError:
        page = 1
    size = review.review_page_size
    items, total = store.list_turns(
        engine, flt, handoff_action=handoff, limit=size, offset=(page - 1) * size
    )
    here = "/review" + (f"?{request.url.query}" if request.url.query else "")
    query = {k: v for k, v in raw.items() if v and k != "page"}
    return render(
        "inbox.html",
        items=items,
        total=total,
        page=page,
        pages=max(1, -(-total // size)),
        filters=raw,
        intents=_intent_choices(chat, engine),
        predicted=store.predicted_intents(engine),
        verdicts=store.VERDICTS,
        csrf=access.csrf,
        here=here,
        page_url=lambda n: "/review?" + urlencode({**query, "page": n}),
        model_version=_serving_version(chat),
    )


def _serving_version(chat: ChatService | None) -> str | None:
    return str(chat.model.version) if chat is not None else None


@router.get("/turns/{turn_id}", response_class=HTMLResponse)
def turn_page(
    turn_id: int, request: Request, access: ReviewerDep, engine: EngineDep, chat: MaybeChatDep
) -> Response:
    """One turn: its ranking, the bot's replies, the conversation around it, the actions."""
    turn = store.get_turn(engine, turn_id)
    return render(
        "turn.html",
        turn=turn,
        intents=_intent_choices(chat, engine),
        csrf=access.csrf,
        here=f"/review/turns/{turn_id}",
        back=_safe_next(request.query_params.get("next")),
        model_version=_serving_version(chat),
    )


def _apply(engine: Engine, ids: list[int], form: dict[str, list[str]], intent_key: str) -> None:
    action = _first(form, "action")
    if action == "undo":
        store.clear_reviews(engine, ids)
        return
    if action not in store.VERDICT_OF_ACTION:
        raise FormError(
            f"expected an action in {[*store.VERDICT_OF_ACTION, 'undo']}, found {action!r}"
        )
    intent = _first(form, intent_key) or _first(form, "intent") or None
    store.review_turns(engine, ids, store.VERDICT_OF_ACTION[action], intent=intent)


@router.post("/turns/{turn_id}")
async def review_one(
    turn_id: int, request: Request, access: ReviewerDep, engine: EngineDep
) -> Response:
    """Apply the posted action (correct, relabel, out_of_scope, ignore, undo) to one turn."""
    form = await _form(request)
    _check_csrf(form, access)
    await asyncio.to_thread(_apply, engine, [turn_id], form, f"intent_{turn_id}")
    return RedirectResponse(_safe_next(_first(form, "next")), status_code=303)


@router.post("/bulk")
async def review_many(request: Request, access: ReviewerDep, engine: EngineDep) -> Response:
    """Apply one action to every checked turn."""
    form = await _form(request)
    _check_csrf(form, access)
    try:
        ids = [int(v) for v in form.get("ids", [])]
    except ValueError as exc:
        raise FormError("expected turn ids to be whole numbers") from exc
    if not ids:
        raise FormError("select at least one turn (the boxes on the left) for a bulk action")
    form["action"] = [_first(form, "bulk_action")]
    await asyncio.to_thread(_apply, engine, ids, form, "bulk_intent")
    return RedirectResponse(_safe_next(_first(form, "next")), status_code=303)


@router.get("/analytics", response_class=HTMLResponse)
def analytics_page(
    access: ReviewerDep,
    engine: EngineDep,
    chat: MaybeChatDep,
    handoff: HandoffActionDep,
    days: int = 30,
) -> Response:
    """Volume per day, intent distribution, fallback and handoff rates, review progress."""
    from bot.handoff.service import REASON_LABELS
    from bot.review.analytics import charts, summarise

    days = min(max(days, 1), 366)
    summary = summarise(engine, days=days, handoff_action=handoff)
    return render(
        "analytics.html",
        summary=summary,
        reason_labels=REASON_LABELS,
        charts=charts(summary),
        days=days,
        csrf=access.csrf,
        model_version=_serving_version(chat),
    )
