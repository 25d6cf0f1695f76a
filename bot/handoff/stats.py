"""The live handoff's numbers for the analytics page: opened, by reason, answered, waits."""

from __future__ import annotations

import statistics
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from bot.handoff.models import Handoff
from bot.handoff.records import HandoffStats
from bot.handoff.sql import aware


def read_stats(conn: Connection, since: datetime) -> HandoffStats:
    """Handoffs opened since `since`: by reason, answered, time to the first agent reply,
    waiting now, and how many shoppers left an e-mail."""
    window = Handoff.created_at >= since
    stats = HandoffStats()
    stats.by_reason = [
        (str(reason), int(n))
        for reason, n in conn.execute(
            select(Handoff.reason, func.count())
            .where(window)
            .group_by(Handoff.reason)
            .order_by(func.count().desc(), Handoff.reason)
        ).all()
    ]
    stats.opened = sum(n for _r, n in stats.by_reason)
    replies = [
        (b - a).total_seconds()
        for a, b in (
            (aware(created), aware(first))
            for created, first in conn.execute(
                select(Handoff.created_at, Handoff.first_reply_at).where(
                    window, Handoff.first_reply_at.is_not(None)
                )
            ).all()
        )
        if a is not None and b is not None
    ]
    stats.answered = len(replies)
    if replies:
        stats.first_reply_median_s = statistics.median(replies)
        stats.first_reply_mean_s = statistics.fmean(replies)
    stats.waiting_now = int(
        conn.execute(select(func.count()).where(Handoff.state == "waiting")).scalar_one()
    )
    stats.email_left = int(
        conn.execute(
            select(func.count()).where(window, Handoff.email_state == "given")
        ).scalar_one()
    )
    return stats
