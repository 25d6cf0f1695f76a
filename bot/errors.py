"""Errors raised by the `bot` package. The CLI prints them without a traceback.

Each kind of failure has its own class, which names its HTTP status and its `error`
code in its class line (`class HandoffOffError(BotError, status_code=404,
code="handoff_off")`); `error_response` is the one JSON form of them all (`bot.app`
answers every `BotError` with it), so the webhook answers a clear 4xx instead of a 500.
`bot.handoff.errors`, `bot.review` and the review store declare theirs the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.responses import JSONResponse


class BotError(Exception):
    """Base class of every error the `bot` package raises on bad input or state.

    A subclass gives its HTTP status and its code as class keywords; what it leaves out
    it inherits from its base:

    >>> class TeapotError(BotError, status_code=418, code="teapot"):
    ...     "The server is a teapot."
    >>> TeapotError("short and stout").code, TeapotError.status_code
    ('teapot', 418)
    """

    status_code: int = 500
    code: str = "bot_error"

    def __init_subclass__(
        cls, *, status_code: int | None = None, code: str | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if status_code is not None:
            cls.status_code = status_code
        if code is not None:
            cls.code = code


class DomainError(BotError, code="invalid_domain"):
    """The domain or policy file is missing, unreadable or inconsistent."""


class ModelNotFoundError(BotError, code="model_not_found"):
    """The configured model directory does not hold a trained model."""


class ModelRegistryError(BotError, status_code=503, code="model_registry_unavailable"):
    """The model registry (`registry.json`) is unreadable or points outside its folder."""


class InvalidRequestError(BotError, status_code=400, code="invalid_request"):
    """The request body is not the JSON object the REST channel expects."""


class InvalidMessageError(BotError, status_code=422, code="invalid_message"):
    """A field of the message is empty, too long or holds characters we refuse."""


class PayloadTooLargeError(BotError, status_code=413, code="payload_too_large"):
    """The request body is bigger than `SHOPINTENT_MAX_BODY_BYTES`."""


class UnauthorizedError(BotError, status_code=401, code="unauthorized"):
    """The webhook token is configured and the request did not carry it."""


class MissingSenderError(BotError, status_code=400, code="missing_sender"):
    """A webhook message without `sender`: the bot does not guess whose conversation it is."""


class InvalidSenderError(BotError, status_code=401, code="invalid_sender"):
    """The `sender` is not a conversation id this bot issued (and no webhook token was sent)."""


class InvalidCustomerTokenError(BotError, status_code=401, code="invalid_customer_token"):
    """`metadata.customer_token` is expired, forged, malformed or not accepted here."""


class InsecureSettingsError(BotError, code="insecure_settings"):
    """Production mode without the secrets it needs."""


class ActionServerError(BotError, status_code=502, code="action_server_error"):
    """The action server could not be reached, timed out or failed."""


class ActionRejectedError(ActionServerError, code="action_rejected"):
    """The action server answered 400/404: it rejected or does not know the action."""


class StoreError(BotError, status_code=503, code="store_error"):
    """The tracker/transcript database failed or a conversation lock timed out."""


class RateLimitedError(BotError, status_code=429, code="rate_limited"):
    """A rate limit of the webhook is used up (`bot.ratelimit`); answered 429 with `Retry-After`.

    Args:
        message: What was limited and when to try again.
        retry_after_s: Whole seconds until the next request may pass.
    """

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def error_response(exc: BotError) -> JSONResponse:
    """The HTTP answer to a `BotError`: `{"error": code, "message": ...}` with its status.

    A `RateLimitedError` also says `Retry-After`.
    """
    # Imported here: the CLI imports this module, and Starlette would add ~0.3 s to its start.
    from starlette.responses import JSONResponse

    headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, RateLimitedError) else None
    return JSONResponse(
        {"error": exc.code, "message": str(exc)}, status_code=exc.status_code, headers=headers
    )
