"""The live handoff's wake-up vocabulary: the channel every worker listens on, and its topics.

A writing transaction names the topics of what it changed (`bot.handoff.store`); the hub
(`bot.handoff.live`) delivers them on `CHANNEL` over PostgreSQL `LISTEN/NOTIFY` or Redis
pub/sub, and each stream wakes on its own topic.
"""

from __future__ import annotations

# The PostgreSQL NOTIFY channel and Redis pub/sub channel every worker listens on.
CHANNEL = "shopintent_handoff"
# The agents' queue: a handoff opened, claimed, ended, or its e-mail fallback moved.
QUEUE_TOPIC = "queue"


def conv_topic(sender_id: str) -> str:
    """The wake-up topic of one conversation's messages and state."""
    return f"conv:{sender_id}"
