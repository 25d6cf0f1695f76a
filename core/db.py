"""The one way to open a database: URL spelling, SQLite pragmas, connection pools.

The bot's store, the action server's store and the recommender's reader all open
their engines here, so a URL means the same thing to each of them:

>>> database_url("postgresql://127.0.0.1:5432/test")
'postgresql+psycopg://127.0.0.1:5432/test'
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event

DEFAULT_SQLITE_BUSY_TIMEOUT_S = 30.0


def database_url(url: str) -> str:
    """Spell a plain `postgresql://` (or `postgres://`) URL with psycopg 3, the driver installed.

    SQLAlchemy 2.0 reads `postgresql://` as psycopg2, which is not installed (2.1 picks
    psycopg); every other URL is returned as it is.
    """
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def is_sqlite(url: str) -> bool:
    """Whether `url` names an SQLite database."""
    return url.startswith("sqlite")


def make_engine(
    url: str, *, sqlite_busy_timeout_s: float = DEFAULT_SQLITE_BUSY_TIMEOUT_S
) -> Engine:
    """Open an engine for `url` with the project's settings.

    SQLite: WAL journal (readers never wait on the writer, so the bot and the action
    server can share one file), `synchronous=NORMAL`, foreign keys on, connections
    usable from worker threads, and a busy wait of `sqlite_busy_timeout_s` instead of
    failing when another thread writes; no pre-ping (a file does not drop connections,
    and a `SELECT 1` per checkout cost a statement per step of each turn).
    Other databases: a pool of 10 (+20 overflow) with pre-ping, so a restarted server's
    dead connections are replaced rather than failing a request.

    Args:
        url: An SQLAlchemy URL; `postgresql://` is spelled with psycopg 3 (`database_url`).
        sqlite_busy_timeout_s: How long an SQLite connection waits on a locked database.

    Raises:
        sqlalchemy.exc.ArgumentError: The URL is malformed.
        ImportError: The URL's driver is not installed.
    """
    url = database_url(url)
    if not is_sqlite(url):
        return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    engine = create_engine(
        url, connect_args={"timeout": sqlite_busy_timeout_s, "check_same_thread": False}
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
