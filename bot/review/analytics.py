"""Transcript analytics for the review pages: volume per day, intents, fallback and handoff rates,
and the live handoff (handoffs by reason, time to the first agent reply).

`summarise` aggregates in SQL (GROUP BY), so it stays cheap on a large `bot_turns`
table; `charts` draws the numbers as inline SVG with matplotlib (Agg backend, no
browser-side library, nothing fetched from a CDN).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot.handoff.store import HandoffStats, HandoffStore
from bot.review.store import FALLBACK_INTENTS, TurnReview, ensure_tables
from bot.store import Turn
from core.wire import OOS_LABEL


@dataclass
class Summary:
    """The numbers of the analytics page, for the last `days` days (UTC)."""

    days: int
    since: str
    turns: int = 0
    conversations: int = 0
    per_day: list[tuple[str, int]] = field(default_factory=list)  # (day, turns), every day
    fallback_per_day: list[tuple[str, int]] = field(default_factory=list)
    intents: list[tuple[str, int]] = field(default_factory=list)  # most frequent first
    models: list[tuple[str, int]] = field(default_factory=list)  # (model version, turns)
    fallbacks: int = 0
    handoffs: int = 0
    reviewed: int = 0
    corrected: int = 0  # relabelled, or marked out-of-scope though the model accepted it
    verdicts: dict[str, int] = field(default_factory=dict)
    # The live handoff: opened in the window, by reason, answered, time to the first reply.
    live: HandoffStats = field(default_factory=HandoffStats)

    @property
    def fallback_rate(self) -> float:
        """Share of turns the model rejected."""
        return self.fallbacks / self.turns if self.turns else 0.0

    @property
    def handoff_rate(self) -> float:
        """Share of turns that ended in a handoff to a person."""
        return self.handoffs / self.turns if self.turns else 0.0

    @property
    def reviewed_share(self) -> float:
        """Share of turns reviewed."""
        return self.reviewed / self.turns if self.turns else 0.0

    @property
    def corrected_share(self) -> float:
        """Share of reviewed turns whose prediction was wrong."""
        return self.corrected / self.reviewed if self.reviewed else 0.0


def _day(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    return str(value)[:10]


def summarise(
    engine: Engine,
    *,
    days: int = 30,
    handoff_action: str = "action_handoff",
    today: date | None = None,
) -> Summary:
    """Aggregate the turns of the last `days` days.

    Args:
        engine: The bot's database.
        days: Length of the window, ending today (UTC).
        handoff_action: The action that hands a conversation to a person.
        today: The window's last day (tests pin it).

    Returns:
        The summary; days without turns appear with 0 in `per_day`.
    """
    ensure_tables(engine)
    last = today or datetime.now(UTC).date()
    first = last - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    window = Turn.created_at >= since
    day = func.date(Turn.created_at)
    summary = Summary(days=days, since=first.isoformat())
    with engine.connect() as conn:
        per_day = dict(
            (_day(d), int(n))
            for d, n in conn.execute(select(day, func.count()).where(window).group_by(day)).all()
        )
        fallback_day = dict(
            (_day(d), int(n))
            for d, n in conn.execute(
                select(day, func.count())
                .where(window, Turn.intent.in_(FALLBACK_INTENTS))
                .group_by(day)
            ).all()
        )
        summary.intents = [
            (str(intent), int(n))
            for intent, n in conn.execute(
                select(Turn.intent, func.count())
                .where(window, Turn.intent.is_not(None))
                .group_by(Turn.intent)
                .order_by(func.count().desc(), Turn.intent)
            ).all()
        ]
        summary.models = [
            (str(version), int(n))
            for version, n in conn.execute(
                select(Turn.model_version, func.count())
                .where(window, Turn.model_version.is_not(None))
                .group_by(Turn.model_version)
                .order_by(Turn.model_version)
            ).all()
        ]
        summary.conversations = int(
            conn.execute(
                select(func.count(func.distinct(Turn.sender_id))).where(window)
            ).scalar_one()
        )
        summary.handoffs = int(
            conn.execute(
                select(func.count()).where(window, Turn.action == handoff_action)
            ).scalar_one()
        )
        reviewed = conn.execute(
            select(TurnReview.verdict, Turn.intent, func.count())
            .join(Turn, Turn.id == TurnReview.turn_id)
            .where(window)
            .group_by(TurnReview.verdict, Turn.intent)
        ).all()
    summary.live = HandoffStore(engine).stats(since)
    summary.turns = sum(per_day.values())
    summary.fallbacks = sum(fallback_day.values())
    for offset in range(days):
        key = (first + timedelta(days=offset)).isoformat()
        summary.per_day.append((key, per_day.get(key, 0)))
        summary.fallback_per_day.append((key, fallback_day.get(key, 0)))
    for verdict, predicted, n in reviewed:
        summary.verdicts[verdict] = summary.verdicts.get(verdict, 0) + int(n)
        summary.reviewed += int(n)
        wrong_accept = verdict == OOS_LABEL and predicted not in FALLBACK_INTENTS
        if verdict == "relabeled" or wrong_accept:
            summary.corrected += int(n)
    return summary


def _svg(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    # Inline <svg> only: drop the XML prolog and DOCTYPE matplotlib writes first.
    return text[text.index("<svg") :]


def charts(summary: Summary) -> dict[str, str]:
    """Draw the summary as inline SVG charts: `volume`, `intents`, `review`.

    Returns:
        Chart name -> an `<svg>` element.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "none"  # text stays text: smaller, searchable
    out: dict[str, str] = {}

    fig, ax = plt.subplots(figsize=(8, 2.6))
    days = [d[5:] for d, _ in summary.per_day]
    totals = [n for _, n in summary.per_day]
    fallbacks = [n for _, n in summary.fallback_per_day]
    ax.bar(days, totals, color="#4c78a8", label="turns")
    ax.bar(days, fallbacks, color="#e45756", label="fallback")
    ax.set_ylabel("turns per day")
    ax.legend(loc="upper left", frameon=False)
    step = max(1, len(days) // 10)
    ax.set_xticks(range(0, len(days), step), [days[i] for i in range(0, len(days), step)])
    ax.spines[["top", "right"]].set_visible(False)
    out["volume"] = _svg(fig)

    top = summary.intents[:15][::-1]
    fig, ax = plt.subplots(figsize=(8, max(1.5, 0.3 * len(top) + 0.6)))
    colors = ["#e45756" if name in FALLBACK_INTENTS else "#4c78a8" for name, _ in top]
    ax.barh([name for name, _ in top], [n for _, n in top], color=colors)
    ax.set_xlabel("turns")
    ax.spines[["top", "right"]].set_visible(False)
    out["intents"] = _svg(fig)

    labels = ["correct", "relabeled", "out_of_scope", "ignored", "unreviewed"]
    values = [summary.verdicts.get(v, 0) for v in labels[:-1]]
    values.append(max(summary.turns - summary.reviewed, 0))
    fig, ax = plt.subplots(figsize=(8, 1.6))
    palette = ["#54a24b", "#f58518", "#b279a2", "#9d9d9d", "#dddddd"]
    left = 0
    for label, value, color in zip(labels, values, palette, strict=True):
        ax.barh([0], [value], left=left, color=color, label=f"{label} ({value})")
        left += value
    ax.set_yticks([])
    ax.set_xlabel("turns")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.6), ncol=5, frameon=False)
    ax.spines[["top", "right", "left"]].set_visible(False)
    out["review"] = _svg(fig)
    return out
