"""The agent console page `/agent`: the queue, a conversation, replies, claim/release/close.

A server-rendered shell (the review pages' layout and login) plus one static script,
`/agent/static/agent.js`, which talks to `/api/agent` and listens to its event stream;
no inline script, so the page runs under the bot's Content-Security-Policy.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from bot.deps import MaybeChatDep
from bot.review.deps import ReviewerDep

router = APIRouter(include_in_schema=False)
_STATIC = {"agent.js": "application/javascript", "agent.css": "text/css"}
_NO_STORE = {"Cache-Control": "no-store", "X-Frame-Options": "DENY"}

_env = Environment(
    # The console extends the review pages' base layout (navigation, logout).
    loader=ChoiceLoader(
        [PackageLoader("bot.handoff", "templates"), PackageLoader("bot.review", "templates")]
    ),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@router.get("/agent", response_class=HTMLResponse)
def console(access: ReviewerDep, chat: MaybeChatDep) -> Response:
    """The console (the review login form, 401, without a session or the review token)."""
    html = _env.get_template("agent.html").render(
        csrf=access.csrf,
        active="agent",
        model_version=str(chat.model.version) if chat is not None else None,
    )
    return HTMLResponse(html, headers=_NO_STORE)


@router.get("/agent/static/{name}")
def static_file(name: str) -> Response:
    """The console's script and stylesheet (public: they hold no data)."""
    media_type = _STATIC.get(name)
    if media_type is None:
        return Response("not found", status_code=404, media_type="text/plain")
    body = resources.files("bot.handoff").joinpath("static", name).read_text("utf-8")
    return Response(body, media_type=media_type, headers={"Cache-Control": "no-cache"})
