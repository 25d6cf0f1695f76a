"""Errors raised by the `bot` package. The CLI prints them without a traceback.

Each kind of failure has its own class with its HTTP status; `error_response` is the
one JSON form of them all (`bot.app` answers every `BotError` with it), so the webhook
answers a clear 4xx instead of a 500.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.responses import JSONResponse


class BotError(Exception):
    """Base class of every error the `bot` package raises on bad input or state."""

    status_code: int = 500
    code: str = "bot_error"


class DomainError(BotError):
    """The domain or policy file is missing, unreadable or inconsistent."""

    code = "invalid_domain"


class ModelNotFoundError(BotError):
    """The configured model directory does not hold a trained model."""

    code = "model_not_found"


class ModelRegistryError(BotError):
    """The model registry (`registry.json`) is unreadable or points outside its folder."""

    status_code = 503
    code = "model_registry_unavailable"


class InvalidRequestError(BotError):
    """The request body is not the JSON object the REST channel expects."""

    status_code = 400
    code = "invalid_request"


class InvalidMessageError(BotError):
    """A field of the message is empty, too long or holds characters we refuse."""

    status_code = 422
    code = "invalid_message"


class PayloadTooLargeError(BotError):
    """The request body is bigger than `SHOPINTENT_MAX_BODY_BYTES`."""

    status_code = 413
    code = "payload_too_large"


class UnauthorizedError(BotError):
    """The webhook token is configured and the request did not carry it."""

    status_code = 401
    code = "unauthorized"


class MissingSenderError(BotError):
    """A webhook message without `sender`: the bot does not guess whose conversation it is."""

    status_code = 400
    code = "missing_sender"


class InvalidSenderError(BotError):
    """The `sender` is not a conversation id this bot issued (and no webhook token was sent)."""

    status_code = 401
    code = "invalid_sender"


class InvalidCustomerTokenError(BotError):
    """`metadata.customer_token` is expired, forged, malformed or not accepted here."""

    status_code = 401
    code = "invalid_customer_token"


class InsecureSettingsError(BotError):
    """Production mode without the secrets it needs."""

    code = "insecure_settings"


class ActionServerError(BotError):
    """The action server could not be reached, timed out or failed."""

    status_code = 502
    code = "action_server_error"


class ActionRejectedError(ActionServerError):
    """The action server answered 400/404: it rejected or does not know the action."""

    code = "action_rejected"


class StoreError(BotError):
    """The tracker/transcript database failed or a conversation lock timed out."""

    status_code = 503
    code = "store_error"


class RateLimitedError(BotError):
    """A rate limit of the webhook is used up (`bot.ratelimit`); answered 429 with `Retry-After`.

    Args:
        message: What was limited and when to try again.
        retry_after_s: Whole seconds until the next request may pass.
    """

    status_code = 429
    code = "rate_limited"

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
