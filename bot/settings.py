"""Settings of the bot, read from the environment (prefix `SHOPINTENT_`) or `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings

from bot.ratelimit import parse_limit
from core.paths import DEFAULT_MODEL_DIR
from core.settings import BlankIsNone, CommaList, blank_is, settings_config

DEFAULT_DATABASE_URL = "sqlite:///shopintent.db"
MIN_REVIEW_TOKEN_CHARS = 32


class BotSettings(BaseSettings):
    """Everything the bot can be configured with; `.env.example` lists each one."""

    model_config = settings_config(populate_by_name=True)

    model_dir: Path = Field(
        default=Path(DEFAULT_MODEL_DIR), description="trained model artifact folder"
    )
    domain_path: Path = Field(
        default=Path("training_data/domain.yml"), description="Rasa domain file"
    )
    policy_path: Path = Field(
        default=Path("training_data/policy.yml"), description="intent -> response/action/form rules"
    )
    # Empty means "the default" here as in the action server's settings.
    database_url: Annotated[str, BeforeValidator(blank_is(DEFAULT_DATABASE_URL))] = Field(
        default=DEFAULT_DATABASE_URL, description="SQLAlchemy URL, shared with actions"
    )
    action_endpoint: str = Field(
        default="http://127.0.0.1:5055/webhook", description="rasa-sdk action server webhook URL"
    )
    action_timeout_s: float = Field(
        default=5.0, gt=0, description="seconds before an action call fails"
    )
    env: Literal["development", "production"] = Field(
        default="development",
        description="production refuses to start without its secrets and turns the demo page off",
    )
    webhook_token: BlankIsNone = Field(
        default=None,
        description="shared secret of server-to-server callers, who may name their own sender ids",
    )
    identity_secret: BlankIsNone = Field(
        default=None, description="HS256 secret of the shop's sign-in tokens (JWT `sub`, `exp`)"
    )
    actions_secret: BlankIsNone = Field(
        default=None, description="HMAC secret signing every call to the action server"
    )
    conversation_secret: BlankIsNone = Field(
        default=None,
        description="signs conversation ids; unset: derived from the identity or actions secret",
    )
    cors_origins: CommaList = Field(
        default_factory=lambda: ["http://localhost:5005", "http://127.0.0.1:5005"],
        description="origins allowed to call the webhook from a browser (comma separated)",
    )
    max_body_bytes: int = Field(default=16_384, gt=0, description="largest accepted request body")
    max_message_chars: int = Field(default=1_000, gt=0, description="longest accepted message")
    max_sender_chars: int = Field(default=128, gt=0, description="longest accepted sender id")
    fallback_handoff_after: int = Field(
        default=2, ge=1, description="fallbacks in a row before handoff"
    )
    lock_timeout_s: float = Field(default=30.0, gt=0, description="wait for a conversation's lock")
    max_tracker_events: int = Field(default=60, ge=4, description="events kept per conversation")
    host: str = Field(default="127.0.0.1", description="interface `shopintent serve` binds")
    port: int = Field(default=5005, ge=1, le=65535, description="port `shopintent serve` binds")
    demo_page: bool = Field(default=True, description="serve the demo shop page at /")
    redis_url: BlankIsNone = Field(
        default=None,
        description="Redis holding the rate limit counters, shared by every worker; unset: "
        "each process counts on its own",
    )
    conversation_rate_limit: str = Field(
        default="30/minute",
        description="messages per conversation (limits notation, e.g. 30/minute;500/hour; "
        "empty: no limit)",
    )
    client_rate_limit: str = Field(
        default="120/minute",
        description="messages per client address from browsers (callers without the webhook token)",
    )
    session_rate_limit: str = Field(
        default="20/minute",
        description="new conversation ids per client address from browsers",
    )
    events_rate_limit: str = Field(
        default="60/minute",
        description="behaviour event batches (POST /events) per conversation",
    )
    handoff_live: bool = Field(
        default=True,
        description="a handoff puts the conversation in the support team's live queue "
        "(/agent); false: handoffs only open a ticket and the bot keeps answering",
    )
    handoff_offer_email_after_s: float = Field(
        default=120.0,
        ge=0,
        description="seconds a handoff waits unclaimed before the shopper is offered a reply "
        "by e-mail (0: never)",
    )
    handoff_notify: Literal["auto", "postgres", "redis", "poll"] = Field(
        default="auto",
        description="how workers wake each other's streams: auto (Redis when "
        "SHOPINTENT_REDIS_URL is set, else LISTEN/NOTIFY on PostgreSQL, else poll), "
        "postgres, redis or poll (read the database every SHOPINTENT_HANDOFF_POLL_S)",
    )
    handoff_poll_s: float = Field(
        default=1.0,
        gt=0,
        le=30,
        description="seconds between two database reads of a stream when no broker wakes it",
    )
    retention_days: int = Field(
        default=90,
        ge=1,
        description="days turns, conversations and behaviour events are kept (purged daily)",
    )

    @field_validator(
        "conversation_rate_limit", "client_rate_limit", "session_rate_limit", "events_rate_limit"
    )
    @classmethod
    def _check_rate_limit(cls, value: str, info: ValidationInfo) -> str:
        parse_limit(value, f"SHOPINTENT_{(info.field_name or '').upper()}")
        return value.strip()

    @property
    def production(self) -> bool:
        """Whether `SHOPINTENT_ENV=production`."""
        return self.env == "production"

    @property
    def serves_demo_page(self) -> bool:
        """The demo shop page is for development only."""
        return self.demo_page and not self.production

    def production_problems(self, review_token: str | None) -> list[str]:
        """What production mode misses: each missing or short secret, as a fix to apply.

        Args:
            review_token: `SHOPINTENT_REVIEW_TOKEN` (held by the review settings).

        Returns:
            An empty list when the settings are fit for production (or in development).
        """
        if not self.production:
            return []
        needed = {
            "SHOPINTENT_WEBHOOK_TOKEN": self.webhook_token,
            "SHOPINTENT_IDENTITY_SECRET": self.identity_secret,
            "SHOPINTENT_ACTIONS_SECRET": self.actions_secret,
            "SHOPINTENT_REVIEW_TOKEN": review_token,
        }
        problems = []
        for name, value in needed.items():
            if value is None:
                problems.append(f"{name} is not set")
            elif name == "SHOPINTENT_REVIEW_TOKEN" and len(value) < MIN_REVIEW_TOKEN_CHARS:
                problems.append(
                    f"{name} has {len(value)} characters, expected at least "
                    f"{MIN_REVIEW_TOKEN_CHARS}"
                )
        return problems


@lru_cache(maxsize=1)
def get_settings() -> BotSettings:
    """Return the process-wide settings, read once from the environment.

    Returns:
        The cached `BotSettings`; call `get_settings.cache_clear()` after changing
        the environment (tests do).
    """
    return BotSettings()
