"""``/{v}/agents``: saved custom agents — create, list, get, delete (protocol.md §8)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from ..agent.definitions import AgentDefinitions
from ..errors import bad_request
from .interactions import json_body

router = APIRouter()


def _agents(request: Request) -> AgentDefinitions:
    agents: AgentDefinitions = request.app.state.agents
    return agents


def page_size(request: Request) -> int | None:
    """``page_size`` (or ``pageSize``) from the query, as an int; 400 when not a number."""
    raw = request.query_params.get("page_size") or request.query_params.get("pageSize")
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise bad_request("page_size must be an integer") from exc


def page_token(request: Request) -> str | None:
    """``page_token`` (or ``pageToken``) from the query."""
    return request.query_params.get("page_token") or request.query_params.get("pageToken")


@router.post("/agents", summary="Create a saved agent")
async def create_agent(request: Request) -> Response:
    return JSONResponse(await _agents(request).create(await json_body(request)))


@router.get("/agents", summary="List saved agents")
async def list_agents(request: Request) -> Response:
    return JSONResponse(await _agents(request).list(page_size(request), page_token(request)))


@router.get("/agents/{agent_id}", summary="Get a saved agent")
async def get_agent(request: Request, agent_id: str) -> Response:
    return JSONResponse(await _agents(request).get(agent_id))


@router.delete("/agents/{agent_id}", summary="Delete a saved agent")
async def delete_agent(request: Request, agent_id: str) -> Response:
    await _agents(request).delete(agent_id)
    return JSONResponse({})
