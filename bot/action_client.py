"""Calls custom actions on a rasa-sdk action server over HTTP (Rasa's protocol)."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import aiohttp

from bot.errors import ActionRejectedError, ActionServerError
from core.signing import SIGNATURE_HEADER, sign
from core.wire import ActionResult
from privacy import redact


def _rasa_version() -> str:
    # rasa-sdk warns when the caller's Rasa version differs in major.minor from its own.
    try:
        return version("rasa-sdk")
    except PackageNotFoundError:
        return "3.6.21"


RASA_VERSION = _rasa_version()


class ActionClient:
    """An HTTP client for one action server (aiohttp: a call costs the bot a quarter of
    the CPU httpx took, and a third of the turns make one).

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
        self.timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        # Made on first use, inside the event loop that runs the calls.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                # Idle connections are dropped well before the action server's own
                # keep-alive (Sanic: 120 s) closes them under a request.
                connector=aiohttp.TCPConnector(limit=64, keepalive_timeout=10),
            )
        return self._session

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None

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
            headers[SIGNATURE_HEADER] = sign(self._secret, raw)
        try:
            async with self._http().post(self.endpoint, data=raw, headers=headers) as response:
                status = response.status
                text = await response.text(errors="replace")
        except TimeoutError as exc:
            raise ActionServerError(
                f"the action server at {self.endpoint} did not answer {action_name!r} in time; "
                "check that it is running and not overloaded, or raise SHOPINTENT_ACTION_TIMEOUT_S"
            ) from exc
        except aiohttp.ClientError as exc:
            raise ActionServerError(
                f"could not reach the action server at {self.endpoint} ({exc.__class__.__name__}); "
                "start it with `shopintent actions` or fix SHOPINTENT_ACTION_ENDPOINT"
            ) from exc
        if status == 401:
            raise ActionServerError(
                f"the action server refused the call to {action_name!r} (401): the bot's "
                "SHOPINTENT_ACTIONS_SECRET does not match the action server's"
            )
        if status in (400, 404):
            raise ActionRejectedError(
                f"the action server answered {status} for {action_name!r}: "
                f"{redact(text)[:300]}; check that the action exists and accepts this tracker"
            )
        if status != 200:
            raise ActionServerError(
                f"the action server failed on {action_name!r} with HTTP {status}: "
                f"{redact(text)[:300]}"
            )
        try:
            payload = json.loads(text)
        except ValueError as exc:
            raise ActionServerError(
                f"expected JSON from the action server for {action_name!r}, found {redact(text)[:100]!r}"
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
            async with self._http().get(f"{self.base_url}/health") as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False
