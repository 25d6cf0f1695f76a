"""Who is talking: signed-in shoppers' tokens, conversation ids the bot issued, client refs.

Three secrets, three jobs:

- `SHOPINTENT_IDENTITY_SECRET` verifies the shop's sign-in tokens (JWT, HS256, claims
  `sub` and `exp`). The verified `sub` becomes the protected slot `customer_id`.
- Conversation ids are issued by the bot (`POST /webhooks/rest/session`) and carry
  an HMAC, so a client cannot take over a conversation by naming its id.
- Client addresses are never stored: failed order lookups are limited per a keyed
  hash of the address (`client_ref`), which cannot be turned back into the address.

Nothing here touches the network or the database.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import jwt

from bot.errors import InvalidCustomerTokenError

TOKEN_ALGORITHM = "HS256"
TOKEN_LEEWAY_S = 30
MAX_TOKEN_CHARS = 4096
_CONVERSATION_PREFIX = "c_"
_SIG_CHARS = 32


def verify_customer_token(token: object, secret: str | None) -> str:
    """Return the customer id (`sub`) of a valid sign-in token.

    Args:
        token: What the client sent as `metadata.customer_token`.
        secret: `SHOPINTENT_IDENTITY_SECRET`; None means sign-in is not configured.

    Returns:
        The verified customer id as the shop knows it.

    Raises:
        InvalidCustomerTokenError: Sign-in is not configured, or the token is not a
            string, is forged, uses another algorithm, has expired, or lacks `sub`/`exp`.
    """
    if secret is None:
        raise InvalidCustomerTokenError(
            "this bot does not accept sign-in tokens (SHOPINTENT_IDENTITY_SECRET is not set); "
            "leave out `metadata.customer_token` or configure the secret"
        )
    if not isinstance(token, str) or not token.strip() or len(token) > MAX_TOKEN_CHARS:
        raise InvalidCustomerTokenError(
            "expected `metadata.customer_token` to be a JWT string from the shop's backend"
        )
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[TOKEN_ALGORITHM],
            options={"require": ["sub", "exp"]},
            leeway=TOKEN_LEEWAY_S,
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidCustomerTokenError(
            "the sign-in token has expired; ask the shop's backend for a fresh one"
        ) from exc
    except jwt.InvalidTokenError as exc:
        raise InvalidCustomerTokenError(
            f"the sign-in token is not valid ({exc.__class__.__name__}); it must be an HS256 "
            "JWT with `sub` and `exp`, signed with SHOPINTENT_IDENTITY_SECRET"
        ) from exc
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip() or len(subject) > 128:
        raise InvalidCustomerTokenError(
            "expected the token's `sub` to be the customer id as a non-empty string"
        )
    return subject.strip()


def issue_customer_token(customer_id: str, secret: str, ttl_s: float = 900) -> str:
    """Sign a token the way a shop's backend does (the demo page and tests use it).

    >>> token = issue_customer_token("42", "s3cret")
    >>> verify_customer_token(token, "s3cret")
    '42'
    """
    claims = {"sub": str(customer_id), "exp": int(time.time() + ttl_s)}
    return jwt.encode(claims, secret, algorithm=TOKEN_ALGORITHM)


def derive_key(secret: str, purpose: str) -> bytes:
    """A key for one purpose, derived from a configured secret (HMAC-SHA256)."""
    return hmac.new(secret.encode(), f"shopintent:{purpose}".encode(), hashlib.sha256).digest()


class ConversationIds:
    """Issues conversation ids and recognises the ones it issued.

    An id is `c_<random>.<hmac>`: random enough not to be guessed, signed so a
    client cannot make one up or take someone else's by editing it.

    Args:
        key: The signing key (see `conversation_key`).

    >>> ids = ConversationIds(b"k" * 32)
    >>> ids.valid(ids.issue())
    True
    >>> ids.valid("c_someone.else")
    False
    """

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _sign(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()
        return digest[:_SIG_CHARS]

    def issue(self) -> str:
        """A new conversation id."""
        body = _CONVERSATION_PREFIX + secrets.token_urlsafe(18)
        return f"{body}.{self._sign(body)}"

    def valid(self, sender: str) -> bool:
        """Whether `sender` is an id this bot (with this key) issued."""
        body, dot, signature = sender.rpartition(".")
        if not dot or not body.startswith(_CONVERSATION_PREFIX):
            return False
        return hmac.compare_digest(signature.encode(), self._sign(body).encode())


def client_ref(key: bytes, address: str | None) -> str | None:
    """A keyed hash of the client's address: enough to rate-limit, useless to identify."""
    if not address:
        return None
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]
