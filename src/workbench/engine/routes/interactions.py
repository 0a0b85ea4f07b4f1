"""``/{v}/interactions``: create, get (JSON or SSE replay/tail), cancel, delete (protocol.md §2)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from ..attach import time_limited
from ..create_request import CreateRequest
from ..errors import bad_request, not_found
from ..eventlog import LoggedEvent
from ..parsing import parse_create
from ..runner import Runner
from ..sse import SSEResponse
from ..status import DISCONNECTED
from .openapi import (
    CREATE_BODY_SCHEMA,
    ERROR_RESPONSES,
    INTERACTION_RESPONSE,
    STREAM_OR_INTERACTION_RESPONSE,
)

router = APIRouter()


def _runner(request: Request) -> Runner:
    runner: Runner = request.app.state.runner
    return runner


def _keepalive(request: Request) -> float:
    return float(request.app.state.config.keepalive_seconds)


def _flag(request: Request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return False
    lowered = raw.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise bad_request(f"query parameter {name!r} must be true or false")


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise bad_request("the request body is empty; send a JSON object")
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise bad_request(f"the request body is not valid JSON: {exc}") from exc
    if b"\\u" in raw:
        # JSON escapes can smuggle in lone surrogates, which no UTF-8 response can carry.
        try:
            json.dumps(body, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise bad_request(
                "the request body contains an invalid \\u escape (a lone "
                "surrogate); send valid Unicode"
            ) from exc
    return body


def _reject_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not allowed in JSON", name, 0)


@router.post(
    "/interactions",
    summary="Create an interaction",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": CREATE_BODY_SCHEMA}},
        }
    },
    responses={200: STREAM_OR_INTERACTION_RESPONSE, **ERROR_RESPONSES},
)
async def create_interaction(request: Request) -> Response:
    runner = _runner(request)
    req = parse_create(await json_body(request))
    if request.query_params.get("alt") == "sse":
        req.stream = True
    position = runner.checkpoint_position(req)
    if position is not None:
        return await _from_checkpoint(request, runner, req, position)
    run = await runner.create(req)
    if req.stream:
        if req.background:
            return SSEResponse(run.channel.follow(0), keepalive_seconds=_keepalive(request))
        runner.reader_came(run.id)

        async def on_disconnect() -> None:
            if run.store:
                runner.reader_left(run)  # detached: keeps running, resumable (attach.py)
            else:
                await runner.cancel_run(run, [dict(DISCONNECTED)])

        return SSEResponse(
            _limited(request, runner, run.id, run.channel.follow(0)),
            keepalive_seconds=_keepalive(request),
            on_disconnect=on_disconnect,
        )
    if not req.background:
        await run.done.wait()
    return JSONResponse(run.snapshot())


async def _from_checkpoint(
    request: Request, runner: Runner, req: CreateRequest, position: int
) -> Response:
    """The SDK reconnecting after a drop: the same interaction from its checkpoint on."""
    interaction_id = req.previous_interaction_id or ""
    if await runner.record(interaction_id) is None:
        raise not_found(f"previous interaction {interaction_id!r} not found")
    if not req.stream:
        live = runner.runs.get(interaction_id)
        if live is not None:
            await live.done.wait()
        return JSONResponse(await runner.view(interaction_id))
    return _follow(request, runner, interaction_id, position)


def _follow(request: Request, runner: Runner, interaction_id: str, after: int) -> Response:
    """Replay after ``after`` and tail; a live foreground run counts this reader."""
    run = runner.reader_came(interaction_id)

    async def on_disconnect() -> None:
        if run is not None:
            runner.reader_left(run)

    return SSEResponse(
        _limited(request, runner, interaction_id, runner.events.follow(interaction_id, after)),
        keepalive_seconds=_keepalive(request),
        on_disconnect=on_disconnect if run is not None and not run.background else None,
    )


def _limited(
    request: Request, runner: Runner, interaction_id: str, events: AsyncIterator[LoggedEvent]
) -> AsyncIterator[LoggedEvent]:
    """The events, cut at ``--stream-time-limit`` when that fault is on."""
    limit = request.app.state.config.stream_time_limit
    if not limit:
        return events

    def checkpoint() -> int | None:
        run = runner.runs.get(interaction_id)
        return runner.checkpoint_now(run) if run is not None else None

    return time_limited(events, float(limit), checkpoint)


@router.get(
    "/interactions/{interaction_id}",
    summary="Get an interaction, or stream its events",
    responses={200: STREAM_OR_INTERACTION_RESPONSE, **ERROR_RESPONSES},
)
async def get_interaction(
    request: Request,
    interaction_id: str,
    stream: str | None = None,
    last_event_id: str | None = None,
    include_input: str | None = None,
) -> Response:
    runner = _runner(request)
    want_stream = _flag(request, "stream") or request.query_params.get("alt") == "sse"
    include = _flag(request, "include_input")
    if not want_stream:
        return JSONResponse(await runner.view(interaction_id, include_input=include))
    if await runner.record(interaction_id) is None:
        await runner.view(interaction_id)  # raises the 404
    marker = (
        last_event_id
        or request.query_params.get("lastEventId")
        or request.headers.get("last-event-id")
    )
    after = 0
    if marker:
        last = await runner.events.last_seq(interaction_id)
        text = marker.strip()
        if not text.isdigit() or not 1 <= int(text) <= last:
            raise bad_request(
                f"last_event_id {marker!r} is not an event of interaction {interaction_id!r}"
            )
        after = int(text)
    return _follow(request, runner, interaction_id, after)


async def _cancel(request: Request, interaction_id: str) -> Response:
    return JSONResponse(await _runner(request).cancel(interaction_id))


@router.post(
    "/interactions/{interaction_id}/cancel",
    summary="Cancel a running interaction",
    responses={200: INTERACTION_RESPONSE, **ERROR_RESPONSES},
)
async def cancel_interaction(request: Request, interaction_id: str) -> Response:
    return await _cancel(request, interaction_id)


@router.post(
    "/interactions/{interaction_id}:cancel",
    summary="Cancel a running interaction (colon form)",
    responses={200: INTERACTION_RESPONSE, **ERROR_RESPONSES},
)
async def cancel_interaction_colon(request: Request, interaction_id: str) -> Response:
    return await _cancel(request, interaction_id)


@router.delete(
    "/interactions/{interaction_id}",
    summary="Delete an interaction and its event log",
    responses={
        200: {
            "description": "Deleted",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **ERROR_RESPONSES,
    },
)
async def delete_interaction(request: Request, interaction_id: str) -> Response:
    await _runner(request).delete(interaction_id)
    return JSONResponse({})
