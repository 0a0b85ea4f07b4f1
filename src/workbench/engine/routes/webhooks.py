"""``/{v}/webhooks``: registered webhooks — CRUD, ``:ping``, ``:rotateSigningSecret``.

``GET /{v}/webhooks/{id}/deliveries`` is the engine's own addition (not in the spec): the
delivery log the app shows, newest first, one record per event with its attempts.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from ..errors import bad_request
from ..ops.webhooks import Webhooks
from .agents import page_size, page_token
from .interactions import json_body

router = APIRouter()


def _hooks(request: Request) -> Webhooks:
    hooks: Webhooks = request.app.state.webhooks
    return hooks


async def _optional_body(request: Request) -> object:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise bad_request(f"the request body is not valid JSON: {exc}") from exc


@router.post("/webhooks", summary="Register a webhook")
async def create_webhook(request: Request) -> Response:
    return JSONResponse(await _hooks(request).create(await json_body(request)))


@router.get("/webhooks", summary="List webhooks")
async def list_webhooks(request: Request) -> Response:
    return JSONResponse(await _hooks(request).list(page_size(request), page_token(request)))


@router.get("/webhooks/{webhook_id}/deliveries", summary="A webhook's delivery log")
async def list_deliveries(request: Request, webhook_id: str) -> Response:
    hooks = _hooks(request)
    await hooks.get(webhook_id)  # 404 for an unknown webhook
    limit = min(page_size(request) or 100, 1000)
    if limit < 0:
        raise bad_request("page_size must not be negative")
    return JSONResponse({"deliveries": await hooks.deliverer.deliveries(webhook_id, limit)})


@router.get("/webhooks/{webhook_id}", summary="Get a webhook")
async def get_webhook(request: Request, webhook_id: str) -> Response:
    return JSONResponse(await _hooks(request).get(webhook_id))


@router.patch("/webhooks/{webhook_id}", summary="Update a webhook")
async def update_webhook(request: Request, webhook_id: str) -> Response:
    mask = request.query_params.get("update_mask") or request.query_params.get("updateMask")
    body = await json_body(request)
    return JSONResponse(await _hooks(request).update(webhook_id, body, mask))


@router.delete("/webhooks/{webhook_id}", summary="Delete a webhook")
async def delete_webhook(request: Request, webhook_id: str) -> Response:
    await _hooks(request).delete(webhook_id)
    return JSONResponse({})


@router.post("/webhooks/{webhook_id}:ping", summary="Send a ping event to a webhook")
async def ping_webhook(request: Request, webhook_id: str) -> Response:
    await _optional_body(request)
    return JSONResponse(await _hooks(request).ping(webhook_id))


@router.post("/webhooks/{webhook_id}:rotateSigningSecret", summary="Generate a new signing secret")
async def rotate_signing_secret(request: Request, webhook_id: str) -> Response:
    body = await _optional_body(request)
    return JSONResponse(await _hooks(request).rotate(webhook_id, body))
