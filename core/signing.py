"""How the bot signs its calls to the action server, and how the action server checks them.

Every `/webhook` call carries `X-Shopintent-Signature: sha256=<hex HMAC-SHA256 of the raw
body>` under `SHOPINTENT_ACTIONS_SECRET`; both sides compute it here, so they cannot drift.

>>> signature_ok("s3cret", b"{}", sign("s3cret", b"{}"))
True
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Shopintent-Signature"


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for a raw body: `sha256=<hex HMAC-SHA256>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is the right signature of `body` (constant-time)."""
    if not header:
        return False
    return hmac.compare_digest(header.strip().encode(), sign(secret, body).encode())
