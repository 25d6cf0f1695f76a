"""Calls custom actions on a rasa-sdk action server over HTTP (Rasa's protocol)."""

from __future__ import annotations

import hashlib
import hmac
import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import httpx

from bot.errors import ActionRejectedError, ActionServerError
from bot.types import ActionResult
from privacy import redact


def _rasa_version() -> str:
    # rasa-sdk warns when the caller's Rasa version differs in major.minor from its own.
    try:
        return version("rasa-sdk")
    except PackageNotFoundError:
        return "3.6.21"


RASA_VERSION = _rasa_version()
SIGNATURE_HEADER = "X-Shopintent-Signature"


def sign_body(secret: str, body: bytes) -> str:
    """The signature header's value for a raw request body: `sha256=<hex HMAC-SHA256>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class ActionClient:
    """An HTTP client for one action server.

    Args:
        endpoint: The action server's webhook URL, e.g. `http://127.0.0.1:5055/webhook`.
        timeout_s: Seconds before a call counts as failed.
        secret: `SHOPINTENT_ACTIONS_SECRET`; when set, every call carries
            `X-Shopintent-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.

    >>> client = ActionClient("http://127.0.0.1:5055/webhook", timeout_s=5)
    """

    def __init__(self, endpoint: str, timeout_s: float, secret: str | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._secret = secret
        self.base_url = self.endpoint.removesuffix("/webhook")
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def run(
        self, action_name: str, tracker: dict[str, Any], domain: dict[str, Any]
    ) -> ActionResult:
        """Run one action and return the events and responses it produced.

        Args:
            action_name: The action to run, e.g. `action_order_status`.
            tracker: The conversation in Rasa's tracker shape (`Tracker.to_rasa`).
            domain: The domain in Rasa's shape (`Domain.as_action_server_domain`).

        Returns:
            The action's events and responses.

        Raises:
            ActionRejectedError: The server does not know the action (404) or
                rejected it (400).
            ActionServerError: The server is unreachable, timed out, failed (5xx)
                or answered something that is not the protocol's JSON.
        """
        body = {
            "next_action": action_name,
            "sender_id": tracker["sender_id"],
            "version": RASA_VERSION,
            "tracker": tracker,
            "domain": domain,
        }
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = sign_body(self._secret, raw)
        try:
            response = await self._client.post(self.endpoint, content=raw, headers=headers)
        except httpx.TimeoutException as exc:
            raise ActionServerError(
                f"the action server at {self.endpoint} did not answer {action_name!r} in time; "
                "check that it is running and not overloaded, or raise SHOPINTENT_ACTION_TIMEOUT_S"
            ) from exc
        except httpx.HTTPError as exc:
            raise ActionServerError(
                f"could not reach the action server at {self.endpoint} ({exc.__class__.__name__}); "
                "start it with `shopintent actions` or fix SHOPINTENT_ACTION_ENDPOINT"
            ) from exc
        if response.status_code == 401:
            raise ActionServerError(
                f"the action server refused the call to {action_name!r} (401): the bot's "
                "SHOPINTENT_ACTIONS_SECRET does not match the action server's"
            )
        if response.status_code in (400, 404):
            raise ActionRejectedError(
                f"the action server answered {response.status_code} for {action_name!r}: "
                f"{redact(response.text)[:300]}; check that the action exists and accepts this tracker"
            )
        if response.status_code != 200:
            raise ActionServerError(
                f"the action server failed on {action_name!r} with HTTP {response.status_code}: "
                f"{redact(response.text)[:300]}"
            )
        try:
            payload = response.json()
        except ValueError as exc:
            raise ActionServerError(
                f"expected JSON from the action server for {action_name!r}, found {redact(response.text)[:100]!r}"
            ) from exc
        if not isinstance(payload, dict):
            raise ActionServerError(
                f"expected a JSON object with events and responses, found {type(payload).__name__}"
            )
        events = payload.get("events") or []
        responses = payload.get("responses") or []
        if not isinstance(events, list) or not isinstance(responses, list):
            raise ActionServerError(
                f"expected `events` and `responses` lists from {action_name!r}, found {payload!r:.200}"
            )
        return ActionResult(
            events=[e for e in events if isinstance(e, dict)],
            responses=[r for r in responses if isinstance(r, dict)],
        )

    async def healthy(self) -> bool:
        """Tell whether the action server answers `GET /health`."""
        try:
            response = await self._client.get(f"{self.base_url}/health")
        except httpx.HTTPError:
            return False
        return response.status_code == 200
