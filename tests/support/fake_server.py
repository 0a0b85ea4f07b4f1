"""A small but real HTTP server that speaks the Interactions protocol, for client tests.

It is a test double of the *protocol* (protocol.md), not of the engine: a Starlette app
served by uvicorn on ``127.0.0.1:<free port>`` in a background thread. It implements

* interactions: create (unary, ``stream``, ``background``), get (``stream``, ``last_event_id``
  / ``lastEventId`` replay byte-identical to the original events, ``include_input``), cancel
  (``/cancel`` and ``:cancel``), delete; continuation hops (``continuation_token`` checked
  against ``previous_interaction_id``); a foreground stream whose client disconnects while the
  work still runs is cancelled (§7.2);
* agents and environments (list/create/get/delete, paging), environment files (list with
  ``recursive`` and paging, ``alt=media``), the resumable upload of §9.7 (offset checks,
  ``x-goog-upload-status`` on every reply, ``overwrite``, ``extract``), the tar download;
* ``GET /{v}/models`` in the camelCase Gemini shape with ``pageSize``/``pageToken``;
* scriptable faults (:class:`Fault`): N× any status with ``Retry-After``/``retry-after-ms``,
  HTML error pages, malformed JSON, hangs — checked before any work is done, like the engine
  must (§10.4).

Everything a test wants to observe (requests received, objects stored) is readable from the
test thread. Usage::

    with FakeServer() as server:
        client = Client(server.url, api_key="k")
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .fake_common import HTTPFail, error_response, json_body, now, page
from .fake_sandbox import SandboxRoutes

VERSION_RE = re.compile(r"^/(v1|v1beta|v1alpha|v1beta1/projects/[^/]+/locations/[^/]+)/(.*)$")
TERMINAL = {"completed", "failed", "cancelled", "requires_action", "requires_continuation",
            "incomplete", "budget_exceeded"}  # fmt: skip
RESERVED_PREFIXES = ("antigravity-", "veo-", "omni-", "lyria-", "imagen-", "gemma-", "gemini-",
                     "google-", "youtube-", "android-", "chrome-", "pixel-", "waze-", "fitbit-",
                     "nest-", "kaggle-")  # fmt: skip

__all__ = ["FakeServer", "Fault", "HTTPFail", "Recorded", "Settings", "running"]


@dataclass
class Fault:
    """A scripted failure for requests whose method and (version-less) path match.

    ``kind``: ``"status"`` (JSON error body with ``status``), ``"html"`` (an HTML page with
    ``status``), ``"malformed"`` (``status`` with a body that is not JSON but claims to be),
    ``"hang"`` (wait ``hang_seconds`` before handling the request normally) or
    ``"bad_stream"`` (a 200 event stream whose data line is not JSON).
    """

    method: str
    path: str  # a regex, matched with re.fullmatch against e.g. "interactions" or "agents/x"
    status: int = 503
    kind: str = "status"
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    hang_seconds: float = 0.0
    message: str = "scripted fault"
    body_contains: bytes | None = None  # only requests whose body contains this
    used: int = 0

    def matches(self, method: str, path: str, body: bytes = b"") -> bool:
        return (
            self.used < self.times
            and method == self.method
            and re.fullmatch(self.path, path) is not None
            and (self.body_contains is None or self.body_contains in body)
        )


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    time: float


@dataclass
class Settings:
    """Knobs a test may change at any time (read by the server on each request)."""

    api_key: str | None = None
    deltas: int = 3  # text deltas per model_output step
    event_delay: float = 0.0  # seconds between generated events (0: all at once)
    continuation_hops: int = 0  # foreground model creates end requires_continuation this often
    emit_event_ids: bool = True
    comments: bool = False  # put ": keep-alive" comments between events
    keepalive: float = 15.0
    json_reply_to_stream: bool = False  # answer streaming requests with plain JSON
    upload_missing_status_times: int = 0  # chunk replies without x-goog-upload-status
    models: list[str] = field(default_factory=lambda: [
        "gemini-3-flash-preview", "gemini-3.1-pro-preview", "gemini-3.5-flash",
        "gemma-4-31b-it", "gemini-2.5-flash"])  # fmt: skip
    unknown_event_every: int = 0  # add an unknown event type every N deltas
    # steps appended after the answer, streamed whole (step.start + step.stop): wire shapes
    # wider than the client's models, as the real service sends them
    extra_steps: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FakeInteraction:
    id: str
    body: dict[str, Any]
    status: str
    created: str
    steps: list[dict[str, Any]]
    background: bool
    store: bool
    hop: int = 0
    token: str | None = None
    log: list[tuple[str, bytes]] = field(default_factory=list)  # (event_id, rendered block)
    index_of: dict[str, int] = field(default_factory=dict)
    done: bool = False
    usage: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    updated: str = ""
    cond: asyncio.Condition | None = None
    task: asyncio.Task[None] | None = None

    def to_json(self, include_input: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "object": "interaction", "status": self.status,
                               "created": self.created, "updated": self.updated or self.created,
                               "steps": self.steps}  # fmt: skip
        for key in ("model", "agent", "previous_interaction_id"):
            if self.body.get(key) is not None:
                out[key] = self.body[key]
        if self.usage:
            out["usage"] = self.usage
        if self.token and self.status == "requires_continuation":
            out["continuation_token"] = self.token
        if self.errors:
            out["errors"] = self.errors
        if include_input and "input" in self.body:
            out["input"] = self.body["input"]
        return out


def _input_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if isinstance(value.get("text"), str):
            return str(value["text"])
        return _input_text(value.get("content"))
    if isinstance(value, list):
        return " ".join(t for t in (_input_text(v) for v in value) if t)
    return ""


def _user_steps(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):
        return [{"type": "user_input", "content": [{"type": "text", "text": value}]}]
    items = value if isinstance(value, list) else [value]
    content_tags = {"text", "image", "audio", "video", "document"}
    if all(isinstance(i, dict) and i.get("type") in content_tags for i in items):
        return [{"type": "user_input", "content": items}]
    return [i for i in items if isinstance(i, dict)]


class FakeServer(SandboxRoutes):
    """Start with ``with FakeServer() as s`` (or ``start()``/``stop()``)."""

    def __init__(self, *, prefix: str = "", settings: Settings | None = None) -> None:
        self.prefix = prefix.rstrip("/")
        self.settings = settings or Settings()
        self.interactions: dict[str, FakeInteraction] = {}
        self.agents: dict[str, dict[str, Any]] = {}
        self.environments: dict[str, dict[str, Any]] = {}
        self.env_files: dict[str, dict[str, tuple[bytes, str, str]]] = {}  # env -> path -> data
        self.uploads: dict[str, dict[str, Any]] = {}
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._counter = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port = 0
        self.app = Starlette(routes=[
            Route("/{path:path}", self._handle,
                  methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
        ])  # fmt: skip

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeServer:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=0, log_level="warning",
                                lifespan="off", timeout_graceful_shutdown=1,
                                access_log=False)  # fmt: skip
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="fake-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake server did not start")
            time.sleep(0.005)
        sockets = self._server.servers[0].sockets
        self.port = sockets[0].getsockname()[1]
        return self

    def _serve(self) -> None:
        assert self._server is not None
        loop = asyncio.new_event_loop()
        self.loop = loop
        try:
            loop.run_until_complete(self._server.serve())
        finally:
            loop.close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            if self._thread.is_alive():  # pragma: no cover - diagnostic
                raise RuntimeError("fake server thread did not stop")
        self._thread = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The base URL to give a client (with the mount prefix, without the version)."""
        return self.origin + self.prefix

    # -- test-side helpers ----------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything (objects, requests, faults) and restore default settings.

        Lets one running server serve many tests; ids keep counting up, so an id from an
        earlier test never names an object of a later one.
        """
        with self._lock:
            self.settings = Settings()
            self.interactions.clear()
            self.agents.clear()
            self.environments.clear()
            self.env_files.clear()
            self.uploads.clear()
            self.requests.clear()
            self.faults.clear()

    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def count(self, method: str, path: str) -> int:
        """How many requests matched ``method`` and the regex ``path`` (version-less)."""
        with self._lock:
            return sum(1 for r in self.requests
                       if r.method == method and re.fullmatch(path, r.path))  # fmt: skip

    def requests_to(self, method: str, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests
                    if r.method == method and re.fullmatch(path, r.path)]  # fmt: skip

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def event_log(self, interaction_id: str) -> list[bytes]:
        return [block for _, block in self.interactions[interaction_id].log]

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}{self._counter}"

    # -- dispatch -------------------------------------------------------------------------

    async def _handle(self, request: Request) -> Response:
        raw_path = request.url.path
        if self.prefix:
            if not raw_path.startswith(self.prefix + "/"):
                return error_response(404, "unknown path")
            raw_path = raw_path[len(self.prefix) :]
        upload = raw_path.startswith("/upload/")
        if upload:
            raw_path = raw_path[len("/upload") :]
        match = VERSION_RE.match(raw_path)
        if not match:
            return error_response(404, f"unknown version in {raw_path}")
        version, rest = match.group(1), match.group(2)
        body = await request.body()
        query = dict(request.query_params)
        method = request.method
        with self._lock:
            self.requests.append(Recorded(method, rest, query,
                                          {k.lower(): v for k, v in request.headers.items()},
                                          body, time.monotonic()))  # fmt: skip
            fault = next((f for f in self.faults if f.matches(method, rest, body)), None)
            if fault is not None:
                fault.used += 1
        if fault is not None:
            reply = await self._fault(fault)
            if reply is not None:
                return reply
        auth = self._check_auth(request)
        if auth is not None:
            return auth
        try:
            return await self._route(request, method, version, rest, upload, query, body)
        except HTTPFail as fail:
            return error_response(fail.status, fail.message, fail.headers)

    async def _fault(self, fault: Fault) -> Response | None:
        if fault.kind == "hang":
            await asyncio.sleep(fault.hang_seconds)
            return None
        if fault.kind == "html":
            page = ("<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
                    "<body><h1>Bad Gateway</h1></body></html>")  # fmt: skip
            return Response(page, status_code=fault.status, media_type="text/html",
                            headers=fault.headers)  # fmt: skip
        if fault.kind == "malformed":
            return Response('{"error": {"code": "internal", "mess', status_code=fault.status,
                            media_type="application/json", headers=fault.headers)  # fmt: skip
        if fault.kind == "bad_stream":

            async def gen() -> AsyncIterator[bytes]:
                yield (
                    b'event: interaction.created\ndata: {"event_type":"interaction.created",'
                    b'"event_id":"1","interaction":{"id":"v1_bad","status":"in_progress"}}\n\n'
                )
                yield b"event: step.delta\ndata: this is not json\n\n"

            return StreamingResponse(gen(), media_type="text/event-stream")
        return error_response(fault.status, fault.message, fault.headers)

    def _check_auth(self, request: Request) -> Response | None:
        key = self.settings.api_key
        if key is None:
            return None
        given = request.headers.get("x-goog-api-key") or request.query_params.get("key")
        bearer = request.headers.get("authorization", "")
        if bearer.lower().startswith("bearer "):
            given = given or bearer[7:]
        if given == key:
            return None
        # Deliberately echoes what it got: the client must redact it from its errors.
        return error_response(401, f"API key {given!r} not valid. Please pass a valid API key.")

    async def _route(self, request: Request, method: str, version: str, rest: str,
                     upload: bool, query: dict[str, str], body: bytes) -> Response:  # fmt: skip
        parts = rest.split("/")
        if upload:
            if method == "PUT" and len(parts) >= 3 and parts[0] == "environments" \
                    and parts[2] == "files":  # fmt: skip
                return self._upload_start(request, version, parts[1], "/".join(parts[3:]), query)
            if method == "POST" and "upload_id" in query:
                return self._upload_chunk(request, query["upload_id"], body)
            raise HTTPFail(404, "unknown upload path")
        head = parts[0]
        if head == "interactions":
            return await self._interactions(request, method, parts[1:], query, body)
        if head == "agents":
            return self._agents(method, parts[1:], query, body)
        if head == "environments":
            return self._environments(method, parts[1:], query, body)
        if head == "files" and len(parts) == 2 and method == "GET":
            m = re.fullmatch(r"environment-(.+):download", parts[1])
            if m and query.get("alt") == "media":
                return self._tar(m.group(1))
        if head == "models" and method == "GET" and len(parts) == 1:
            return self._models(query)
        raise HTTPFail(404, f"no route for {method} {rest}")

    # -- interactions ---------------------------------------------------------------------

    async def _interactions(self, request: Request, method: str, parts: list[str],
                            query: dict[str, str], body: bytes) -> Response:  # fmt: skip
        if not parts or parts == [""]:
            if method == "POST":
                return await self._create(request, json_body(body))
            raise HTTPFail(404, "interactions cannot be listed")
        ident = parts[0]
        if method == "POST" and (ident.endswith(":cancel") or parts[1:] == ["cancel"]):
            return self._cancel(ident.removesuffix(":cancel"))
        if len(parts) != 1:
            raise HTTPFail(404, "unknown interactions path")
        inter = self.interactions.get(ident)
        if inter is None:
            raise HTTPFail(404, f"interaction {ident} not found")
        if method == "DELETE":
            if not inter.done:
                self._finish(inter, "cancelled")
            del self.interactions[ident]
            return JSONResponse({})
        if method != "GET":
            raise HTTPFail(404, "method not allowed")
        if query.get("stream") == "true" or query.get("alt") == "sse":
            if self.settings.json_reply_to_stream:
                return JSONResponse(inter.to_json())
            last = query.get("last_event_id") or query.get("lastEventId")
            start = 0
            if last is not None:
                if last not in inter.index_of:
                    raise HTTPFail(400, f"unknown last_event_id {last!r}")
                start = inter.index_of[last] + 1
            return self._stream_response(request, inter, start, foreground=False)
        return JSONResponse(inter.to_json(include_input=query.get("include_input") == "true"))

    async def _create(self, request: Request, body: Any) -> Response:
        if not isinstance(body, dict):
            raise HTTPFail(400, "body must be a JSON object")
        is_agent = body.get("agent") is not None or body.get("agent_config") is not None
        if is_agent and (body.get("model") is not None or body.get("generation_config")):
            raise HTTPFail(400, "model and agent cannot be combined")
        if not is_agent and body.get("model") is None:
            raise HTTPFail(400, "model or agent is required")
        if body.get("model") is not None and body["model"] not in self.settings.models \
                and not str(body["model"]).startswith("fake"):  # fmt: skip
            raise HTTPFail(404, f"model {body['model']} not found")
        if body.get("agent") is not None and body["agent"] not in self.agents:
            raise HTTPFail(404, f"agent {body['agent']} not found")
        background = body.get("background") is True
        store = body.get("store") is not False
        if background and not store:
            raise HTTPFail(400, "background requires store")
        hop = 0
        token = body.get("continuation_token")
        if token is not None:
            owner = self.interactions.get(str(body.get("previous_interaction_id")))
            if owner is None or owner.token != token:
                raise HTTPFail(400, "continuation_token was not issued by previous_interaction_id")
            hop = owner.hop + 1
        elif body.get("input") is None:
            raise HTTPFail(400, "input is required")
        prev = body.get("previous_interaction_id")
        if token is None and prev is not None and prev not in self.interactions:
            raise HTTPFail(404, f"previous interaction {prev} not found")
        inter = FakeInteraction(
            id=self._next_id("v1_fake"), body=body,
            status="queued" if background else "in_progress", created=now(),
            steps=_user_steps(body.get("input")), background=background, store=store, hop=hop,
            cond=asyncio.Condition(),
        )  # fmt: skip
        self.interactions[inter.id] = inter
        self._emit(inter, {"event_type": "interaction.created",
                           "interaction": {"id": inter.id, "object": "interaction",
                                           "status": inter.status, "created": inter.created,
                                           **({"model": body["model"]} if body.get("model")
                                              else {"agent": body["agent"]})}})  # fmt: skip
        if self.settings.event_delay > 0:
            inter.task = asyncio.create_task(self._run(inter))
        else:
            await self._run(inter)
        stream = body.get("stream") is True
        if stream and not self.settings.json_reply_to_stream:
            return self._stream_response(request, inter, 0, foreground=not background)
        if not background and inter.task is not None:
            await inter.task
        reply = inter.to_json()
        if not store:
            self.interactions.pop(inter.id, None)
        return JSONResponse(reply)

    async def _run(self, inter: FakeInteraction) -> None:
        delay = self.settings.event_delay
        settings = self.settings

        async def pause() -> None:
            if delay > 0:
                await asyncio.sleep(delay)

        try:
            if inter.status == "queued":
                await pause()
                self._set_status(inter, "in_progress")
            text_in = _input_text(inter.body.get("input"))
            continuing = (not inter.background and inter.body.get("agent") is None
                          and inter.hop < settings.continuation_hops)  # fmt: skip
            index = len(inter.steps)
            step: dict[str, Any] = {"type": "model_output", "content": []}
            await pause()
            if inter.done:
                return
            self._emit(inter, {"event_type": "step.start", "index": index,
                               "step": {"type": "model_output"}})  # fmt: skip
            inter.steps.append(step)
            text = ""
            for n in range(settings.deltas):
                await pause()
                if inter.done:
                    return
                piece = f"[hop {inter.hop} part {n}] " if n else f"Echo: {text_in} "
                text += piece
                step["content"] = [{"type": "text", "text": text}]
                self._emit(inter, {"event_type": "step.delta", "index": index,
                                   "delta": {"type": "text", "text": piece}})  # fmt: skip
                every = settings.unknown_event_every
                if every and (n + 1) % every == 0:
                    self._emit(inter, {"event_type": "interaction.future_thing", "n": n})
            self._emit(inter, {"event_type": "step.stop", "index": index})
            for extra in settings.extra_steps:
                at = len(inter.steps)
                inter.steps.append(json.loads(json.dumps(extra)))
                self._emit(inter, {"event_type": "step.start", "index": at, "step": extra})
                self._emit(inter, {"event_type": "step.stop", "index": at})
            inter.usage = {"total_input_tokens": 3, "total_output_tokens": settings.deltas,
                           "total_tokens": 3 + settings.deltas,
                           "output_tokens_by_modality": [{"modality": "text",
                                                          "tokens": settings.deltas}]}  # fmt: skip
            if continuing:
                inter.token = f"tok-{inter.id}"
                self._finish(inter, "requires_continuation")
            else:
                self._finish(inter, "completed")
        except asyncio.CancelledError:
            if not inter.done:
                self._finish(inter, "cancelled")
            raise

    def _set_status(self, inter: FakeInteraction, status: str) -> None:
        inter.status = status
        inter.updated = now()
        event: dict[str, Any] = {"event_type": "interaction.status_update",
                                 "interaction_id": inter.id, "status": status}  # fmt: skip
        if status == "requires_continuation" and inter.token:
            event["continuation_token"] = inter.token
        self._emit(inter, event)

    def _finish(self, inter: FakeInteraction, status: str, reason: str | None = None) -> None:
        if inter.done:
            return
        if status == "cancelled":
            inter.errors = [{"code": "cancelled", "message": reason or "cancelled"}]
        self._set_status(inter, status)
        final: dict[str, Any] = {"id": inter.id, "object": "interaction", "status": status,
                                 "updated": inter.updated}  # fmt: skip
        if inter.usage:
            final["usage"] = inter.usage
        if status == "requires_continuation" and inter.token:
            final["continuation_token"] = inter.token
        self._emit(inter, {"event_type": "interaction.completed", "interaction": final})
        inter.done = True
        self._notify(inter)

    def _emit(self, inter: FakeInteraction, event: dict[str, Any]) -> None:
        eid = str(len(inter.log) + 1)
        if self.settings.emit_event_ids:
            event = {"event_type": event["event_type"], "event_id": eid,
                     **{k: v for k, v in event.items() if k != "event_type"}}  # fmt: skip
            head = f"event: {event['event_type']}\nid: {eid}\n"
        else:
            head = f"event: {event['event_type']}\n"
        data = json.dumps(event, separators=(",", ":"))
        block = f"{head}data: {data}\n\n".encode()
        inter.index_of[eid] = len(inter.log)
        inter.log.append((eid, block))
        self._notify(inter)

    def _notify(self, inter: FakeInteraction) -> None:
        cond = inter.cond
        if cond is None:
            return

        async def wake() -> None:
            async with cond:
                cond.notify_all()

        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().create_task(wake())

    def _stream_response(self, request: Request, inter: FakeInteraction, start: int,
                         *, foreground: bool) -> Response:  # fmt: skip
        settings = self.settings

        async def gen() -> AsyncIterator[bytes]:
            position = start
            finished = False
            try:
                while True:
                    while position < len(inter.log):
                        block = inter.log[position][1]
                        position += 1
                        if settings.comments:
                            yield b": keep-alive\n\n" + block
                        else:
                            yield block
                    if inter.done:
                        break
                    assert inter.cond is not None
                    async with inter.cond:
                        if position >= len(inter.log) and not inter.done:
                            with contextlib.suppress(TimeoutError):
                                await asyncio.wait_for(inter.cond.wait(), settings.keepalive)
                    if position >= len(inter.log) and not inter.done:
                        yield b": keep-alive\n\n"
                yield b"event: done\ndata: [DONE]\n\n"
                finished = True
            finally:
                # §7.2: a foreground stream whose client went away stops the work.
                if not finished and foreground and not inter.done:
                    if inter.task is not None:
                        inter.task.cancel()
                    self._finish(inter, "cancelled", "client disconnected")

        return StreamingResponse(gen(), media_type="text/event-stream",
                                 headers={"cache-control": "no-cache"})  # fmt: skip

    def _cancel(self, ident: str) -> Response:
        inter = self.interactions.get(ident)
        if inter is None:
            raise HTTPFail(404, f"interaction {ident} not found")
        if not inter.done:
            if inter.task is not None:
                inter.task.cancel()
            self._finish(inter, "cancelled", "cancelled by the user")
        return JSONResponse(inter.to_json())

    # -- agents ---------------------------------------------------------------------------

    def _agents(self, method: str, parts: list[str], query: dict[str, str],
                body: bytes) -> Response:  # fmt: skip
        if not parts or parts == [""]:
            if method == "GET":
                return page(list(self.agents.values()), "agents", query)
            if method == "POST":
                agent = json_body(body)
                if not isinstance(agent, dict) or not isinstance(agent.get("id"), str):
                    raise HTTPFail(400, "agent id is required")
                agent_id = agent["id"]
                if agent_id.lower().startswith(RESERVED_PREFIXES):
                    raise HTTPFail(400, f"agent id {agent_id!r} uses a reserved prefix")
                if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", agent_id):
                    raise HTTPFail(400, f"invalid agent id {agent_id!r}")
                if agent_id in self.agents:
                    raise HTTPFail(409, f"agent {agent_id} already exists")
                stored = {"base_agent": "antigravity-preview-05-2026", **agent,
                          "created": now()}  # fmt: skip
                self.agents[agent_id] = stored
                return JSONResponse(stored)
            raise HTTPFail(404, "method not allowed")
        agent_id = parts[0]
        if agent_id not in self.agents:
            raise HTTPFail(404, f"agent {agent_id} not found")
        if method == "GET":
            return JSONResponse(self.agents[agent_id])
        if method == "DELETE":
            del self.agents[agent_id]
            return JSONResponse({})
        raise HTTPFail(404, "method not allowed")

    # -- models ---------------------------------------------------------------------------

    def _models(self, query: dict[str, str]) -> Response:
        size = int(query.get("pageSize") or 50)
        start = int(query.get("pageToken") or 0)
        names = self.settings.models
        page = names[start : start + size]
        body: dict[str, Any] = {"models": [
            {"name": f"models/{n}", "baseModelId": n, "version": "001",
             "displayName": n.replace("-", " ").title(), "inputTokenLimit": 1048576,
             "outputTokenLimit": 65536, "supportedGenerationMethods": ["generateContent"],
             "thinking": True}
            for n in page]}  # fmt: skip
        if start + size < len(names):
            body["nextPageToken"] = str(start + size)
        return JSONResponse(body)


@contextlib.contextmanager
def running(**kwargs: Any) -> Iterator[FakeServer]:
    server = FakeServer(**kwargs)
    server.start()
    try:
        yield server
    finally:
        server.stop()
