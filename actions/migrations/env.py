"""Alembic environment of the action server's store.

rasa-sdk imports every module of the `actions` package to find actions, so this
file only runs migrations when Alembic itself loads it (its context proxy is set).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from actions.models import Base
from core.db import make_engine

VERSION_TABLE = "actions_alembic_version"


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    """Upgrade on the connection passed by `init_db`, or on the configured URL."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from actions.config import get_settings

    url = context.config.get_main_option("sqlalchemy.url") or (get_settings().resolved_database_url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if getattr(context, "_proxy", None) is not None:
    run_migrations()
