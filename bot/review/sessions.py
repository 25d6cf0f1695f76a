"""Review login sessions and login back-off, in the bot's database (every worker sees them).

Two tables on the bot's metadata (`bot.store.Base`, created with the bot's tables):

- `bot_review_sessions`: one row per login. The cookie holds a random session id
  (`secrets.token_urlsafe(32)`); the table holds only its SHA-256, the session's CSRF
  token, and when it expires (idle time, renewed on use). Logging out deletes the row.
  Each row also names the review token it was opened with (a keyed hash), so changing
  `SHOPINTENT_REVIEW_TOKEN` ends every session.
- `bot_review_login_failures`: failed logins per client address (a keyed hash of it).
  After `max_failures` failures the address must wait, 30 s and doubling with each
  further failure (at most an hour); the count is forgotten after `window_s` without
  a failure (counted from the end of the last wait) or after a successful login.

Functions are blocking; call them from a worker thread (FastAPI's pool for plain `def`s).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, Integer, String, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from bot.errors import StoreError
from bot.store import Base

BACKOFF_BASE_S = 30.0
BACKOFF_MAX_S = 3600.0
_RENEW_AFTER = timedelta(seconds=60)  # renew an idle expiry at most once a minute


class ReviewSession(Base):
    """One logged-in review browser."""

    __tablename__ = "bot_review_sessions"
    # SHA-256 of the cookie's session id; the id itself is never stored.
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Keyed hash of the review token the session was opened with.
    token_ref: Mapped[str] = mapped_column(String(64))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class LoginFailures(Base):
    """Failed review logins from one client address."""

    __tablename__ = "bot_review_login_failures"
    # Keyed hash of the client address (`bot.identity.client_ref`), never the address.
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


@dataclass(frozen=True)
class Session:
    """A valid review session: its CSRF token goes into every form it renders."""

    id_hash: str
    csrf: str


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were stored as UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def hash_session_id(session_id: str) -> str:
    """The form a session id is stored in (SHA-256 hex)."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def token_ref(review_token: str) -> str:
    """A keyed hash naming the review token a session belongs to (not the token)."""
    return hmac.new(review_token.encode(), b"shopintent:review-session", hashlib.sha256).hexdigest()


def open_session(engine: Engine, review_token: str, idle_s: float) -> tuple[str, Session]:
    """Start a session after a successful login; drop expired ones on the way.

    Returns:
        The session id for the cookie, and the session (with its CSRF token).
    """
    session_id = secrets.token_urlsafe(32)
    session = Session(hash_session_id(session_id), secrets.token_urlsafe(32))
    now = _now()
    try:
        with engine.begin() as conn:
            conn.execute(delete(ReviewSession).where(ReviewSession.expires_at < now))
            conn.execute(
                insert(ReviewSession).values(
                    id_hash=session.id_hash,
                    token_ref=token_ref(review_token),
                    csrf=session.csrf,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + timedelta(seconds=idle_s),
                )
            )
    except SQLAlchemyError as exc:
        raise StoreError(f"could not store the review session: {exc}") from exc
    return session_id, session


def find_session(
    engine: Engine, session_id: str, review_token: str, idle_s: float
) -> Session | None:
    """The session of a cookie, renewing its idle expiry; None when unknown, expired or revoked."""
    if not session_id or len(session_id) > 256:
        return None
    id_hash = hash_session_id(session_id)
    now = _now()
    try:
        with engine.begin() as conn:
            row = conn.execute(
                select(
                    ReviewSession.token_ref,
                    ReviewSession.csrf,
                    ReviewSession.last_seen_at,
                    ReviewSession.expires_at,
                ).where(ReviewSession.id_hash == id_hash)
            ).one_or_none()
            if row is None:
                return None
            if _aware(row.expires_at) <= now or not hmac.compare_digest(
                row.token_ref, token_ref(review_token)
            ):
                conn.execute(delete(ReviewSession).where(ReviewSession.id_hash == id_hash))
                return None
            if now - _aware(row.last_seen_at) >= _RENEW_AFTER:
                conn.execute(
                    update(ReviewSession)
                    .where(ReviewSession.id_hash == id_hash)
                    .values(last_seen_at=now, expires_at=now + timedelta(seconds=idle_s))
                )
    except SQLAlchemyError as exc:
        raise StoreError(f"could not read the review session: {exc}") from exc
    return Session(id_hash, row.csrf)


def close_session(engine: Engine, session_id: str) -> None:
    """Revoke a session (logout): its cookie no longer opens anything, in any worker."""
    try:
        with engine.begin() as conn:
            conn.execute(
                delete(ReviewSession).where(ReviewSession.id_hash == hash_session_id(session_id))
            )
    except SQLAlchemyError as exc:
        raise StoreError(f"could not end the review session: {exc}") from exc


def retry_after(engine: Engine, client: str) -> int:
    """Seconds this client must wait before its next login attempt (0: it may try now)."""
    try:
        with engine.connect() as conn:
            locked_until = conn.execute(
                select(LoginFailures.locked_until).where(LoginFailures.client == client)
            ).scalar_one_or_none()
    except SQLAlchemyError as exc:
        raise StoreError(f"could not read the login failures: {exc}") from exc
    if locked_until is None:
        return 0
    return max(0, math.ceil((_aware(locked_until) - _now()).total_seconds()))


def record_failure(engine: Engine, client: str, max_failures: int, window_s: float) -> int:
    """Count a failed login of `client`.

    Returns:
        Seconds the client must now wait (0 while it has failures left).
    """
    now = _now()
    upsert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    first = upsert(LoginFailures).values(
        client=client, failures=1, last_failure_at=now, locked_until=now
    )
    count = first.on_conflict_do_update(
        index_elements=["client"],
        set_={"failures": LoginFailures.failures + 1, "last_failure_at": now},
    )
    try:
        with engine.begin() as conn:
            stale = now - timedelta(seconds=window_s)
            conn.execute(delete(LoginFailures).where(LoginFailures.locked_until < stale))
            conn.execute(count)
            failures = conn.execute(
                select(LoginFailures.failures).where(LoginFailures.client == client)
            ).scalar_one()
            wait = 0.0
            if failures >= max_failures:
                wait = min(BACKOFF_BASE_S * 2 ** (failures - max_failures), BACKOFF_MAX_S)
                conn.execute(
                    update(LoginFailures)
                    .where(LoginFailures.client == client)
                    .values(locked_until=now + timedelta(seconds=wait))
                )
    except SQLAlchemyError as exc:
        raise StoreError(f"could not count the failed login: {exc}") from exc
    return math.ceil(wait)


def clear_failures(engine: Engine, client: str) -> None:
    """Forget a client's failed logins (after it logged in)."""
    try:
        with engine.begin() as conn:
            conn.execute(delete(LoginFailures).where(LoginFailures.client == client))
    except SQLAlchemyError as exc:
        raise StoreError(f"could not clear the login failures: {exc}") from exc
