"""``/{v}/triggers``: scheduled runs — CRUD, executions (``POST`` runs the trigger now)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from ..ops.triggers import Triggers
from .agents import page_size, page_token
from .interactions import json_body

router = APIRouter()


def _triggers(request: Request) -> Triggers:
    triggers: Triggers = request.app.state.triggers
    return triggers


@router.post("/triggers", summary="Create a trigger")
async def create_trigger(request: Request) -> Response:
    return JSONResponse(await _triggers(request).create(await json_body(request)))


@router.get("/triggers", summary="List triggers")
async def list_triggers(request: Request) -> Response:
    found = await _triggers(request).list(
        page_size(request), page_token(request), request.query_params.get("filter")
    )
    return JSONResponse(found)


@router.get("/triggers/{trigger_id}", summary="Get a trigger")
async def get_trigger(request: Request, trigger_id: str) -> Response:
    return JSONResponse(await _triggers(request).get(trigger_id))


@router.patch("/triggers/{trigger_id}", summary="Update (rename, pause, resume) a trigger")
async def update_trigger(request: Request, trigger_id: str) -> Response:
    mask = request.query_params.get("update_mask") or request.query_params.get("updateMask")
    body = await json_body(request)
    return JSONResponse(await _triggers(request).update(trigger_id, body, mask))


@router.delete("/triggers/{trigger_id}", summary="Delete a trigger")
async def delete_trigger(request: Request, trigger_id: str) -> Response:
    await _triggers(request).delete(trigger_id)
    return JSONResponse({})


@router.get("/triggers/{trigger_id}/executions", summary="List a trigger's executions")
async def list_executions(request: Request, trigger_id: str) -> Response:
    found = await _triggers(request).list_executions(
        trigger_id, page_size(request), page_token(request)
    )
    return JSONResponse(found)


@router.post("/triggers/{trigger_id}/executions", summary="Run a trigger now")
async def run_trigger(request: Request, trigger_id: str) -> Response:
    return JSONResponse(await _triggers(request).run_now(trigger_id))
