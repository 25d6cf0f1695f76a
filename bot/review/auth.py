"""Who may use the review pages and API: holders of `SHOPINTENT_REVIEW_TOKEN`.

Scripts send `Authorization: Bearer <review token>`; people log in once on
`/review/login`, which sets an HttpOnly, SameSite=Strict cookie holding an HMAC of
the token (never the token itself). The webhook token never opens review: if both
secrets are configured to the same value, review stays locked and says why.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Request

from bot.errors import BotError
from bot.review.settings import ReviewSettings, get_review_settings

COOKIE = "shopintent_review"
_SESSION_MESSAGE = b"shopintent-review-session-v1"
_CSRF_MESSAGE = b"shopintent-review-form-v1"


class ReviewAuthError(BotError):
    """The request does not carry the review token (or review is not configured)."""

    status_code = 401
    code = "review_unauthorized"


def _digest(token: str, message: bytes) -> str:
    return hmac.new(token.encode(), message, hashlib.sha256).hexdigest()


def session_value(token: str) -> str:
    """The cookie value that proves a browser logged in with `token`."""
    return _digest(token, _SESSION_MESSAGE)


def csrf_value(token: str) -> str:
    """The hidden form field every review form posts back (a second check beside SameSite)."""
    return _digest(token, _CSRF_MESSAGE)


def configuration_problem(review: ReviewSettings, webhook_token: str | None) -> str | None:
    """Why review cannot be opened at all, or None when it is configured."""
    if review.review_token is None:
        return (
            "review is not configured: set SHOPINTENT_REVIEW_TOKEN on the server to a long "
            "random secret (distinct from the webhook token)"
        )
    if webhook_token is not None and hmac.compare_digest(
        review.review_token.encode(), webhook_token.encode()
    ):
        return (
            "review is locked because SHOPINTENT_REVIEW_TOKEN equals the webhook token; the "
            "widget's token must never open review. Set a different review token."
        )
    return None


def is_authorised(request: Request, review: ReviewSettings, webhook_token: str | None) -> bool:
    """Tell whether the request carries the review token (Bearer header or login cookie)."""
    if configuration_problem(review, webhook_token) is not None:
        return False
    token = review.review_token or ""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return hmac.compare_digest(header[7:].strip().encode(), token.encode())
    cookie = request.cookies.get(COOKIE)
    return cookie is not None and hmac.compare_digest(
        cookie.encode(), session_value(token).encode()
    )


def webhook_token_of(request: Request) -> str | None:
    """The bot's webhook token, from the settings the app was built with."""
    settings = getattr(request.app.state, "bot_settings", None)
    return getattr(settings, "webhook_token", None)


ReviewConfig = Annotated[ReviewSettings, Depends(get_review_settings)]


def require_review(request: Request, review: ReviewConfig) -> ReviewSettings:
    """FastAPI dependency of the JSON API: answer 401 unless the review token is present.

    Raises:
        ReviewAuthError: No or a wrong token, or review is not configured.
    """
    webhook = webhook_token_of(request)
    if not is_authorised(request, review, webhook):
        problem = configuration_problem(review, webhook)
        raise ReviewAuthError(
            problem
            or "the review API needs the review token: send `Authorization: Bearer <token>` "
            "(SHOPINTENT_REVIEW_TOKEN on the server) or log in at /review/login"
        )
    return review


Reviewer = Annotated[ReviewSettings, Depends(require_review)]
