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
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
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
from workbench.engine.backends.chat_messages import chat_dicts
from workbench.engine.backends.schemas import callable_functions, normalize_schema, tool_dicts
from workbench.engine.backends.toolcall import (
    CallPart,
    ParsedPart,
    TextPart,
    ThoughtPart,
    ToolCallParser,
)

_ERROR_TEXT_LIMIT = 300


@dataclass
class _PendingCall:
    name: str = ""
    arguments: list[str] = field(default_factory=list)


def _server_message(response: httpx.Response) -> str:
    """The error text a server sent, from ``{"error": {"message": …}}`` or the raw body."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    message: Any = body
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body.get("message", body)))
        message = error.get("message", error) if isinstance(error, dict) else error
    text = message if isinstance(message, str) else json.dumps(message)
    text = " ".join(text.split())
    return text[:_ERROR_TEXT_LIMIT] or f"HTTP {response.status_code}"


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
            raise self._transport_error(exc) from None
        if response.status_code == 404:
            ids: list[str] = []  # some servers have no model list; use the configured model
        else:
            if response.status_code != 200:
                raise self._status_error(response, self._default or "")
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
        payload = self._payload(request, model, functions, forced)
        parser = ToolCallParser(calls=bool(functions), allowed={f.name for f in functions})
        pending: dict[int, _PendingCall] = {}
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
                raise self._garbage("a chunk whose delta is not an object")
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
                if not isinstance(call, dict):
                    raise self._garbage("a tool call that is not an object")
                out_pieces += 1
                index = call.get("index", len(pending))
                slot = pending.setdefault(index if isinstance(index, int) else 0, _PendingCall())
                fn = call.get("function") or {}
                if fn.get("name"):
                    slot.name = str(fn["name"])
                if isinstance(fn.get("arguments"), str):
                    slot.arguments.append(fn["arguments"])
                elif isinstance(fn.get("arguments"), dict):  # some servers send an object
                    slot.arguments.append(json.dumps(fn["arguments"]))
        if cancel.is_set():
            return
        for chunk in parts_to_chunks(parser.finish()):
            yield chunk
        for index in sorted(pending):
            slot = pending[index]
            yield ToolCallChunk(slot.name, self._arguments(slot))
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

    def _payload(
        self,
        request: GenerationRequest,
        model: str,
        functions: list[Any],
        forced: bool,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": model,
            "messages": chat_dicts(request.messages, arguments_as_text=True, images=self._vision),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.max_output_tokens is not None:
            payload["max_tokens"] = request.max_output_tokens
        if request.temperature is not None:
            payload["temperature"] = request.temperature
        if request.top_p is not None:
            payload["top_p"] = request.top_p
        if request.stop:
            payload["stop"] = list(request.stop)
        if request.seed is not None:
            payload["seed"] = request.seed
        if functions:
            payload["tools"] = tool_dicts(functions)
            if forced and len(functions) == 1:
                payload["tool_choice"] = {
                    "type": "function",
                    "function": {"name": functions[0].name},
                }
            else:
                payload["tool_choice"] = "required" if forced else "auto"
        elif request.response_schema is not None:
            payload["response_format"] = self._schema_format(request.response_schema)
        elif request.json_output:
            payload["response_format"] = {"type": "json_object"}
        return payload

    def _schema_format(self, schema: dict[str, Any]) -> dict[str, Any]:
        schema = normalize_schema(schema)
        if self._json_schema_format:
            return {
                "type": "json_schema",
                "json_schema": {"name": "response", "schema": schema, "strict": True},
            }
        return {"type": "json_object", "schema": schema}

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
                        payload["response_format"] = self._schema_format(
                            payload["response_format"]["json_schema"]["schema"]
                        )
                        async for data in self._stream(payload, model, cancel):
                            yield data
                        return
                    raise self._status_error(resp, model)
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
                            raise self._garbage("text that is not JSON") from None
                        if not isinstance(data, dict):
                            raise self._garbage("JSON that is not an object")
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
            raise self._garbage("a reply that is not an event stream") from None
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None

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

    def _arguments(self, slot: _PendingCall) -> dict[str, Any]:
        text = "".join(slot.arguments).strip()
        if not slot.name:
            raise self._garbage("a tool call without a function name")
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            raise BackendError(
                f"The model called {slot.name} with arguments that are not valid JSON: "
                f"{text[:_ERROR_TEXT_LIMIT]}",
                code="internal",
            ) from None
        if isinstance(value, str):  # doubly encoded by some servers
            try:
                value = json.loads(value)
            except ValueError:
                pass
        if not isinstance(value, dict):
            raise BackendError(
                f"The model called {slot.name} with arguments that are not a JSON object: "
                f"{text[:_ERROR_TEXT_LIMIT]}",
                code="internal",
            )
        return value

    def _garbage(self, what: str) -> BackendError:
        return BackendError(
            f"The model server at {self.base_url} sent {what}; is it an OpenAI-compatible "
            "chat-completions server?",
            code="internal",
        )

    def _transport_error(self, exc: httpx.HTTPError) -> BackendError:
        if isinstance(exc, httpx.ConnectError):
            return BackendError(
                f"Cannot connect to the model server at {self.base_url} (is it running?).",
                code="unavailable",
            )
        if isinstance(exc, httpx.TimeoutException):
            return BackendError(
                f"The model server at {self.base_url} did not answer in time.",
                code="unavailable",
            )
        return BackendError(
            f"The connection to the model server at {self.base_url} failed: "
            f"{type(exc).__name__}{': ' + str(exc) if str(exc) else ''}.",
            code="unavailable",
        )

    def _status_error(self, resp: httpx.Response, model: str) -> BackendError:
        status = resp.status_code
        detail = _server_message(resp)
        if status in (401, 403):
            return BackendError(
                f"The model server at {self.base_url} refused the API key ({status}): {detail}",
                code="unauthenticated",
            )
        if status == 404:
            return BackendError(
                f"The model server at {self.base_url} has no model '{model}' (404): {detail}",
                code="not_found",
            )
        if status == 429:
            return BackendError(
                f"The model server at {self.base_url} is busy (429): {detail}",
                code="resource_exhausted",
            )
        if 400 <= status < 500:
            return BackendError(
                f"The model server at {self.base_url} rejected the request ({status}): {detail}",
                code="invalid_request",
            )
        return BackendError(
            f"The model server at {self.base_url} failed ({status}): {detail}",
            code="internal",
        )
