"""What the bot's routes need, as FastAPI dependencies: the app's typed state and its aliases.

`create_app` puts one `BotState` on `app.state` and its lifespan fills in what it builds
(the chat service, the model, the rate limiter, the action client, the handoff service).
Routes declare what they need as `Annotated` aliases (`ChatDep`, `SettingsDep`,
`ServerCallerDep`, ...) instead of reading `request.app.state`; tests override the getters
with `app.dependency_overrides`. The handoff's and the review's own dependencies live in
`bot.handoff.deps` and `bot.review.deps`, built on these.

The getters are `async def` so FastAPI calls them on the event loop: a plain `def` would
cost the webhook a trip through the thread pool for each.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from starlette.datastructures import State

from bot.action_client import ActionClient
from bot.errors import UnauthorizedError
from bot.handoff.service import HandoffService
from bot.identity import ConversationIds, client_ref
from bot.model import ModelProvider
from bot.ratelimit import RateLimiter
from bot.service import ChatService
from bot.settings import BotSettings


class BotState(State):
    """The bot app's `app.state`: what `create_app` made, and what its lifespan built.

    Attributes:
        settings: The settings the app was built with.
        conversations: Issues and recognises the conversation ids the bot signs.
        client_key: Key of the hash that names a client address in stored turns.
        rate_key: Key of the hash that rate limits count under.
        chat: The chat service (None until the lifespan ran).
        model: The NLU model provider (None until the lifespan ran).
        action_client: The action server's client (None until the lifespan ran).
        limiter: The webhook's rate limiter (None until the lifespan ran).
        handoffs: The live handoff service (None until the lifespan ran, or when
            `SHOPINTENT_HANDOFF_LIVE` is off).
    """

    settings: BotSettings
    conversations: ConversationIds
    client_key: bytes
    rate_key: bytes
    chat: ChatService | None
    model: ModelProvider | None
    action_client: ActionClient | None
    limiter: RateLimiter | None
    handoffs: HandoffService | None

    def __init__(
        self,
        settings: BotSettings,
        conversations: ConversationIds,
        *,
        client_key: bytes,
        rate_key: bytes,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.conversations = conversations
        self.client_key = client_key
        self.rate_key = rate_key
        self.chat = None
        self.model = None
        self.action_client = None
        self.limiter = None
        self.handoffs = None

    def rate_ref(self, value: str | None) -> str | None:
        """What rate limits count under: a keyed hash, never the address or sender id itself."""
        return client_ref(self.rate_key, value)


def _not_started(what: str) -> RuntimeError:
    return RuntimeError(
        f"expected the app's {what} to be built by its lifespan, found none: run the app "
        "with uvicorn, or use `with TestClient(app) as client` so the lifespan runs"
    )


async def get_state(request: Request) -> BotState:
    """The app's typed state (`create_app` puts it on `app.state`)."""
    state: BotState = request.app.state
    return state


StateDep = Annotated[BotState, Depends(get_state)]


async def get_app_settings(state: StateDep) -> BotSettings:
    """The settings the app was built with."""
    return state.settings


SettingsDep = Annotated[BotSettings, Depends(get_app_settings)]


async def get_conversations(state: StateDep) -> ConversationIds:
    """What issues and recognises the bot's signed conversation ids."""
    return state.conversations


ConversationsDep = Annotated[ConversationIds, Depends(get_conversations)]


async def get_chat_or_none(state: StateDep) -> ChatService | None:
    """The chat service, or None before the lifespan ran (for pages that say so)."""
    return state.chat


MaybeChatDep = Annotated[ChatService | None, Depends(get_chat_or_none)]


async def get_chat(chat: MaybeChatDep) -> ChatService:
    """The app's chat service.

    Raises:
        RuntimeError: The lifespan has not run.
    """
    if chat is None:
        raise _not_started("chat service")
    return chat


ChatDep = Annotated[ChatService, Depends(get_chat)]


async def get_engine(chat: ChatDep) -> Engine:
    """The bot's database engine (the transcript store's)."""
    return chat.store.engine


EngineDep = Annotated[Engine, Depends(get_engine)]


async def get_model_or_none(state: StateDep) -> ModelProvider | None:
    """The NLU model provider, or None before the lifespan ran."""
    return state.model


MaybeModelDep = Annotated[ModelProvider | None, Depends(get_model_or_none)]


async def get_action_client_or_none(state: StateDep) -> ActionClient | None:
    """The action server's client, or None before the lifespan ran."""
    return state.action_client


MaybeActionClientDep = Annotated[ActionClient | None, Depends(get_action_client_or_none)]


async def get_limiter(state: StateDep) -> RateLimiter:
    """The webhook's rate limiter.

    Raises:
        RuntimeError: The lifespan has not run.
    """
    if state.limiter is None:
        raise _not_started("rate limiter")
    return state.limiter


LimiterDep = Annotated[RateLimiter, Depends(get_limiter)]


def bearer_token(request: Request) -> str | None:
    """The credentials of an `Authorization: Bearer <token>` header as sent, or None."""
    header = request.headers.get("authorization", "")
    return header[7:] if header[:7].lower() == "bearer " else None


async def server_caller(request: Request, settings: SettingsDep) -> bool:
    """Whether the caller holds the webhook token (a server, which may name sender ids).

    The token comes as `Authorization: Bearer <token>`, or as `?token=` where a header
    cannot be set. No token sent: a browser, which must use a conversation id the bot
    issued.

    Raises:
        UnauthorizedError: A token was sent and it is not the webhook token.
    """
    given = bearer_token(request)
    if given is None:
        given = request.query_params.get("token", "")
    if not given:
        return False
    if settings.webhook_token is None or not hmac.compare_digest(
        given.encode(), settings.webhook_token.encode()
    ):
        raise UnauthorizedError(
            "the webhook token is wrong: send the shared token as `Authorization: Bearer "
            "<token>` (SHOPINTENT_WEBHOOK_TOKEN on the server), or no token and a "
            "conversation id from POST /webhooks/rest/session"
        )
    return True


ServerCallerDep = Annotated[bool, Depends(server_caller)]


async def get_client_address(request: Request) -> str | None:
    """The client's address as the server sees it (None when unknown)."""
    return request.client.host if request.client else None


ClientAddressDep = Annotated[str | None, Depends(get_client_address)]
