"""Failed order lookups, counted per conversation and per client to stop guessing.

`actions.access` refuses order lookups once a conversation or a client address has
failed too often in a window; the retention job purges old failures.

Every function takes an open session and leaves the commit to the caller.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from actions.models import OrderLookupFailure
from actions.orders import fit_key, utcnow

LOOKUP_SCOPES = ("conversation", "client")


def _check_scope(scope: str) -> None:
    if scope not in LOOKUP_SCOPES:
        raise ValueError(
            f"expected scope to be one of {', '.join(LOOKUP_SCOPES)}, but found {scope!r}."
        )


def record_lookup_failure(session: Session, scope: str, key: str) -> None:
    """Note one failed order lookup by a conversation or a client.

    Args:
        session: Open session (committed by the caller).
        scope: `conversation` (the sender id) or `client` (e.g. the client address).
        key: The conversation or client; longer than 128 characters is stored as a digest.

    Raises:
        ValueError: `scope` is not one of `LOOKUP_SCOPES`.
    """
    _check_scope(scope)
    session.add(OrderLookupFailure(scope=scope, key=fit_key(key, 128), at=utcnow()))


def lookup_failures(session: Session, scope: str, key: str, window: timedelta) -> int:
    """How many lookups failed for `scope`/`key` in the last `window`.

    Raises:
        ValueError: `scope` is not one of `LOOKUP_SCOPES`.
    """
    _check_scope(scope)
    since = utcnow() - window
    count = session.scalar(
        select(func.count())
        .select_from(OrderLookupFailure)
        .where(
            OrderLookupFailure.scope == scope,
            OrderLookupFailure.key == fit_key(key, 128),
            OrderLookupFailure.at >= since,
        )
    )
    return int(count or 0)


def purge_lookup_failures(session: Session, older_than: timedelta) -> int:
    """Delete failures recorded more than `older_than` ago; returns how many went."""
    cutoff = utcnow() - older_than
    result = session.execute(
        delete(OrderLookupFailure)
        .where(OrderLookupFailure.at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
