"""The ``openai`` backend: any OpenAI-compatible chat-completions server as the model.

Ollama, LM Studio, the llama.cpp server and llama-cpp-python's server all speak it. Requests
go only to the configured base URL (no redirects followed, no proxy taken from the
environment): ``POST {base}/chat/completions`` with ``stream: true`` and ``GET {base}/models``.

Mapping: functions → ``tools``; ``tool_choice`` ``any`` → ``"required"``, or the named
function when exactly one may be called; ``none`` → no tools sent. ``response_schema`` →
``response_format: {"type": "json_schema", …}``; a server that rejects that form with a 4xx
(llama-cpp-python's) is asked once more with ``{"type": "json_object", "schema": …}``.
Streamed ``tool_calls`` deltas are accumulated per index and sent as ``ToolCallChunk``s at
the end; servers that leave calls in the text (``<tool_call>{…}</tool_call>`` or bare JSON)
are parsed like the ``llama`` backend does. Usage comes from ``stream_options.include_usage``
when the server supports it, else it is estimated (about 4 characters a token).

Errors become ``BackendError``s with plain messages: ``unavailable`` (cannot connect, dropped
connection, timeout), ``unauthenticated`` (401/403), ``not_found`` (404, unknown model),
``resource_exhausted`` (429), ``invalid_request`` (other 4xx), ``internal`` (garbage answers,
5xx).

This module holds the connection and the streaming loop; the request body is built in
``openai_request``, streamed tool calls are put together in ``openai_tool_calls`` and the
error messages are written in ``openai_errors``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any, Literal

import httpx
from httpx_sse import EventSource, SSEError

from workbench.engine.backends.base import (
    BackendError,
    Chunk,
    FinishChunk,
    GenerationRequest,
    ModelInfo,
    TextChunk,
    ThoughtChunk,
    ToolCallChunk,
    UsageChunk,
)
from workbench.engine.backends.openai_errors import garbage_error, status_error, transport_error
from workbench.engine.backends.openai_request import chat_payload, schema_format
from workbench.engine.backends.openai_tool_calls import StreamedToolCalls
from workbench.engine.backends.schemas import callable_functions
from workbench.engine.backends.toolcall import (
    CallPart,
    ParsedPart,
    TextPart,
    ThoughtPart,
    ToolCallParser,
)


class OpenAICompatBackend:
    """Generation through an OpenAI-compatible chat-completions server.

    Args:
        base_url: the server's API root, e.g. ``http://127.0.0.1:11434/v1``.
        model: the default model id (when a request names none); the first listed model
            when ``None``.
        api_key: sent as ``Authorization: Bearer …`` when set.
        vision: whether user images are sent (as data URLs) and ``image`` is advertised.
        timeout: seconds to wait for a connection / for the next piece of the answer.
        transport: an httpx transport to use instead of the network (tests).
    """

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        api_key: str | None = None,
        *,
        vision: bool = False,
        timeout: float = 600.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        url = httpx.URL(base_url.rstrip("/"))
        if url.scheme not in ("http", "https") or not url.host:
            raise BackendError(
                f"The OpenAI-compatible server URL {base_url!r} is not an http(s) URL.",
                code="invalid_request",
            )
        self.base_url = str(url)
        self._default = model
        self._vision = vision
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            trust_env=False,
            transport=transport,
        )
        self._ids: list[str] = [model] if model else []
        self._loaded = False
        self._json_schema_format = True  # flips off after a server rejects it once

    # ----------------------------------------------------------------------------- public API

    def models(self) -> list[ModelInfo]:
        """The server's models (as of ``load``), the default first."""
        modalities = ("text", "image") if self._vision else ("text",)
        ids = sorted(self._ids, key=lambda i: i != self._default)
        return [
            ModelInfo(
                id=ident,
                display_name=ident,
                description=f"served by {self.base_url}",
                modalities=modalities,
            )
            for ident in ids
        ]

    async def load(self) -> None:
        """Check the server answers and read its model list; idempotent."""
        if self._loaded:
            return
        try:
            response = await self._client.get(f"{self.base_url}/models")
        except httpx.HTTPError as exc:
            raise transport_error(self.base_url, exc) from None
        if response.status_code == 404:
            ids: list[str] = []  # some servers have no model list; use the configured model
        else:
            if response.status_code != 200:
                raise status_error(self.base_url, response, self._default or "")
            try:
                data = response.json()["data"]
                ids = [str(item["id"]) for item in data]
            except (ValueError, KeyError, TypeError):
                raise BackendError(
                    f"The server at {self.base_url} answered /models with something that is "
                    "not an OpenAI model list.",
                    code="internal",
                ) from None
        if self._default and self._default not in ids:
            ids.insert(0, self._default)
        if not ids:
            raise BackendError(
                f"The server at {self.base_url} lists no models; configure one.",
                code="not_found",
            )
        self._default = self._default or ids[0]
        self._ids = ids
        self._loaded = True

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()

    async def generate(
        self, request: GenerationRequest, cancel: asyncio.Event
    ) -> AsyncIterator[Chunk]:
        """Stream one chat completion, mapped to chunks (see the module docstring)."""
        model = (request.model or self._default or "").removeprefix("models/")
        if not model:
            await self.load()
            model = self._default or ""
        functions = (
            callable_functions(request.functions, request.allowed_functions)
            if request.tool_choice != "none"
            else []
        )
        forced = request.tool_choice == "any" and bool(functions)
        payload = chat_payload(
            request,
            model,
            functions,
            forced,
            vision=self._vision,
            json_schema=self._json_schema_format,
        )
        parser = ToolCallParser(calls=bool(functions), allowed={f.name for f in functions})
        tool_calls = StreamedToolCalls(self.base_url)
        finish: str | None = None
        usage: dict[str, Any] | None = None
        out_pieces = 0
        calls = 0

        def parts_to_chunks(parts: list[ParsedPart]) -> list[Chunk]:
            nonlocal calls
            chunks: list[Chunk] = []
            for part in parts:
                if isinstance(part, TextPart):
                    chunks.append(TextChunk(part.text))
                elif isinstance(part, ThoughtPart):
                    chunks.append(ThoughtChunk(part.text))
                elif isinstance(part, CallPart):
                    calls += 1
                    chunks.append(ToolCallChunk(part.name, part.arguments))
            return chunks

        async for data in self._stream(payload, model, cancel):
            if data.get("_eof"):
                if finish is None:
                    raise BackendError(
                        f"The model server at {self.base_url} closed the connection in the "
                        "middle of the answer.",
                        code="unavailable",
                    )
                break
            if data.get("usage"):
                usage = data["usage"]
            choices = data.get("choices") or []
            if not choices:
                continue
            choice = choices[0] if isinstance(choices[0], dict) else {}
            delta = choice.get("delta") or {}
            if not isinstance(delta, dict):
                raise garbage_error(self.base_url, "a chunk whose delta is not an object")
            finish = choice.get("finish_reason") or finish
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(reasoning, str) and reasoning:
                out_pieces += 1
                yield ThoughtChunk(reasoning)
            content = delta.get("content")
            if isinstance(content, str) and content:
                out_pieces += 1
                for chunk in parts_to_chunks(parser.feed(content)):
                    yield chunk
            for call in delta.get("tool_calls") or ():
                tool_calls.add(call)
                out_pieces += 1
        if cancel.is_set():
            return
        for chunk in parts_to_chunks(parser.finish()):
            yield chunk
        for name, arguments in tool_calls.calls():
            yield ToolCallChunk(name, arguments)
            calls += 1
        if forced and not calls:
            raise BackendError(
                f"The model server at {self.base_url} answered without calling a function "
                "although one was required (it may not support tool_choice 'required').",
                code="internal",
            )
        if usage is not None:
            yield UsageChunk(
                input_tokens=int(usage.get("prompt_tokens") or 0),
                output_tokens=int(usage.get("completion_tokens") or 0),
            )
        else:
            # The server sent no usage (no stream_options support): estimate ~4 chars/token
            # for the prompt and one token per streamed delta for the answer.
            chars = sum(len(m.text) for m in request.messages)
            yield UsageChunk(input_tokens=max(1, chars // 4), output_tokens=out_pieces)
        reason: Literal["stop", "length", "tool_calls"] = (
            "tool_calls" if calls else "length" if finish == "length" else "stop"
        )
        yield FinishChunk(reason)

    # ----------------------------------------------------------------------------- internals

    async def _stream(
        self, payload: dict[str, Any], model: str, cancel: asyncio.Event
    ) -> AsyncIterator[dict[str, Any]]:
        """The ``data`` objects of the server's event stream, until ``[DONE]``."""
        url = f"{self.base_url}/chat/completions"
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        try:
            async with self._client.stream("POST", url, json=payload, headers=headers) as resp:
                if resp.status_code != 200:
                    await resp.aread()
                    if self._retry_schema_as_json_object(resp, payload):
                        payload["response_format"] = schema_format(
                            payload["response_format"]["json_schema"]["schema"],
                            json_schema=self._json_schema_format,
                        )
                        async for data in self._stream(payload, model, cancel):
                            yield data
                        return
                    raise status_error(self.base_url, resp, model)
                events = EventSource(resp).aiter_sse()
                waiter = asyncio.ensure_future(cancel.wait())
                try:
                    while True:
                        step = asyncio.ensure_future(anext(events))
                        await asyncio.wait({step, waiter}, return_when=asyncio.FIRST_COMPLETED)
                        if not step.done():
                            step.cancel()
                            with contextlib.suppress(asyncio.CancelledError, Exception):
                                await step
                            return
                        try:
                            event = step.result()
                        except StopAsyncIteration:
                            yield {"_eof": True}  # closed without [DONE]: the caller decides
                            return
                        if event.data.strip() == "[DONE]":
                            return
                        if not event.data.strip():
                            continue
                        try:
                            data = json.loads(event.data)
                        except ValueError:
                            raise garbage_error(self.base_url, "text that is not JSON") from None
                        if not isinstance(data, dict):
                            raise garbage_error(self.base_url, "JSON that is not an object")
                        if "error" in data and not data.get("choices"):
                            err = data["error"]
                            message = err.get("message", err) if isinstance(err, dict) else err
                            raise BackendError(
                                f"The model server reported an error: {message}",
                                code="internal",
                            )
                        yield data
                finally:
                    waiter.cancel()
                    await events.aclose()
        except SSEError:
            raise garbage_error(self.base_url, "a reply that is not an event stream") from None
        except httpx.HTTPError as exc:
            raise transport_error(self.base_url, exc) from None

    def _retry_schema_as_json_object(self, resp: httpx.Response, payload: dict[str, Any]) -> bool:
        fmt = payload.get("response_format")
        if not (
            self._json_schema_format
            and isinstance(fmt, dict)
            and fmt.get("type") == "json_schema"
            and resp.status_code in (400, 422, 500)
            and "response_format" in resp.text
        ):
            return False
        self._json_schema_format = False
        return True
