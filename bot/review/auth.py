"""Who may use the review pages and API: holders of `SHOPINTENT_REVIEW_TOKEN`.

Scripts send `Authorization: Bearer <review token>`. People log in on `/review/login`:
each login opens a server-side session (`bot.review.sessions`) whose random id goes into
an HttpOnly, SameSite=Strict cookie (`Secure` in production), expires after 8 idle
hours and ends on logout; every form of the session posts its own CSRF token. Failed
logins are counted per client address, which must wait after 5 of them.

Review stays locked, and says why, when the token is unset, shorter than 32 characters
or equal to the webhook token (the widget's token must never open review).

These are the rules; the routes declare them as dependencies from `bot.review.deps`.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Literal

from fastapi import Request
from sqlalchemy.engine import Engine

from bot.deps import bearer_token
from bot.errors import BotError
from bot.identity import client_ref, derive_key
from bot.review import sessions
from bot.review.settings import ReviewSettings
from bot.settings import MIN_REVIEW_TOKEN_CHARS

COOKIE = "shopintent_review"


class ReviewAuthError(BotError, status_code=401, code="review_unauthorized"):
    """The request does not carry the review token (or review is not configured).

    The API answers it as JSON; the pages answer with the login form (`bot.review.pages`).

    Args:
        message: What the caller must send.
        problem: Why review is locked by the server's settings, if it is.
    """

    def __init__(self, message: str, *, problem: str | None = None) -> None:
        super().__init__(message)
        self.problem = problem


def configuration_problem(review: ReviewSettings, webhook_token: str | None) -> str | None:
    """Why review cannot be opened at all, or None when it is configured."""
    token = review.review_token
    if token is None:
        return (
            "review is not configured: set SHOPINTENT_REVIEW_TOKEN on the server to a long "
            "random secret (distinct from the webhook token), e.g. `openssl rand -hex 32`"
        )
    if webhook_token is not None and hmac.compare_digest(token.encode(), webhook_token.encode()):
        return (
            "review is locked because SHOPINTENT_REVIEW_TOKEN equals the webhook token; the "
            "widget's token must never open review. Set a different review token."
        )
    if len(token) < MIN_REVIEW_TOKEN_CHARS:
        return (
            f"review is locked because SHOPINTENT_REVIEW_TOKEN has {len(token)} characters, "
            f"expected at least {MIN_REVIEW_TOKEN_CHARS}; set a longer one, e.g. "
            "`openssl rand -hex 32`"
        )
    return None


@dataclass(frozen=True)
class ReviewAccess:
    """How a request proved it may review: the Bearer token, or a login session.

    Attributes:
        via: `bearer` (scripts) or `session` (a logged-in browser).
        session: The login session, for `session`; its CSRF token goes into every form.
    """

    via: Literal["bearer", "session"]
    session: sessions.Session | None = None

    @property
    def csrf(self) -> str:
        """The CSRF token forms must post back ("" for Bearer callers, who need none)."""
        return self.session.csrf if self.session is not None else ""


def session_cookie(request: Request) -> str | None:
    """The session id the browser sent, if any."""
    return request.cookies.get(COOKIE) or None


def check_access(
    request: Request, review: ReviewSettings, webhook_token: str | None, engine: Engine
) -> ReviewAccess | None:
    """How the request may review, or None (no, wrong or stale proof, or review locked).

    A Bearer header decides alone (a wrong token is not saved by a cookie); without
    one, the session cookie. Blocking: a session lookup in the database.
    """
    if configuration_problem(review, webhook_token) is not None:
        return None
    token = review.review_token or ""
    given = bearer_token(request)
    if given is not None:
        if hmac.compare_digest(given.strip().encode(), token.encode()):
            return ReviewAccess("bearer")
        return None
    cookie = session_cookie(request)
    if cookie is None:
        return None
    session = sessions.find_session(engine, cookie, token, review.review_session_idle_s)
    return ReviewAccess("session", session) if session is not None else None


def login_client(request: Request, review: ReviewSettings) -> str:
    """What failed logins are counted under: a keyed hash of the client's address."""
    address = request.client.host if request.client else "unknown"
    return client_ref(derive_key(review.review_token or "", "review-login-client"), address) or ""
