"""The bot's own small routes: health checks, the widget script, and the demo shop page.

- `GET /health`: the process is up. `GET /ready`: the model, database and action server
  answer (503 when one does not; "degraded" while serving an older model).
- `GET /widget.js`: the embeddable support widget.
- `demo_router` (development only, `settings.serves_demo_page`): `/` a demo shop page
  embedding the widget, its script, and a demo sign-in that issues customer tokens.
"""

from __future__ import annotations

import asyncio
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from bot.deps import MaybeActionClientDep, MaybeChatDep, SettingsDep
from bot.errors import InvalidMessageError
from bot.identity import issue_customer_token
from bot.webhook import read_body, read_json_object

router = APIRouter()
demo_router = APIRouter()


def _static(name: str) -> str:
    return resources.files("bot").joinpath("static", name).read_text(encoding="utf-8")


def _script(name: str, cache_control: str) -> Response:
    """A script from `bot/static`, with how long browsers may keep it."""
    return Response(
        _static(name),
        media_type="application/javascript",
        headers={"Cache-Control": cache_control},
    )


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/ready")
async def ready(service: MaybeChatDep, action_client: MaybeActionClientDep) -> JSONResponse:
    """Ready to chat: the model is loaded and the database and action server answer."""
    checks = {"model": service is not None, "database": False, "action_server": False}
    if service is not None:
        checks["database"] = await asyncio.to_thread(service.store.ping)
        checks["action_server"] = action_client is not None and await action_client.healthy()
    ok = all(checks.values())
    body: dict[str, Any] = {"status": "ok" if ok else "unavailable", "checks": checks}
    if service is not None:
        body["model_version"] = service.model.version
        body["nlu_backend"] = service.model.backend
        # Serving a good older model after a broken promotion: up, but say why.
        degraded = service.model.degraded_reason
        if degraded is not None:
            body["degraded_reason"] = degraded
            if ok:
                body["status"] = "degraded"
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/widget.js")
async def widget() -> Response:
    """The embeddable support widget (one dependency-free script)."""
    return _script("widget.js", "public, max-age=300")


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    return Response(status_code=204)


@demo_router.get("/", response_class=HTMLResponse)
async def demo_page() -> HTMLResponse:
    """A small demo shop page that embeds the widget (development only)."""
    # No webhook token in the page: the widget uses conversation ids the bot issues.
    return HTMLResponse(_static("demo.html"))


@demo_router.get("/demo.js", include_in_schema=False)
async def demo_script() -> Response:
    """The demo page's sign-in script (a file, so the page runs under the CSP)."""
    return _script("demo.js", "no-cache")


@demo_router.post("/demo/customer-token", include_in_schema=False)
async def demo_customer_token(request: Request, settings: SettingsDep) -> JSONResponse:
    """Sign a demo shopper in, as a shop's backend would (development only)."""
    if settings.identity_secret is None:
        return JSONResponse(
            {
                "error": "not_found",
                "message": "sign-in is off: set SHOPINTENT_IDENTITY_SECRET",
            },
            status_code=404,
        )
    payload = read_json_object(
        await read_body(request, settings.max_body_bytes), '{"customer_id": "1"}'
    )
    customer = payload.get("customer_id")
    if not isinstance(customer, str | int) or not str(customer).strip():
        raise InvalidMessageError('expected {"customer_id": "<id>"}, a non-empty id')
    customer_id = str(customer).strip()[:64]
    token = issue_customer_token(customer_id, settings.identity_secret)
    return JSONResponse({"token": token, "customer_id": customer_id})
