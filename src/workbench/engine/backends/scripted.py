"""A deterministic backend driven by directives in the prompt, for tests and demos.

It serves two models: ``scripted`` (text and images) and ``scripted-text`` (text only, to
exercise the "this model cannot read images" path). It reads the **last user message** and
runs the directives in it, in order. Directive grammar (``[[NAME]]`` or ``[[NAME: ARG]]``)::

    [[text: words]]           answer text (streamed a word at a time)
    [[thought: words]]        a thought summary (streamed a word at a time)
    [[call NAME {json}]]      a function call; arguments default to {} and must be a JSON object
    [[json]]                  JSON matching the request's response schema ({} without one)
    [[tokens: N]]             N text tokens "t0 t1 … " as fast as possible
    [[tokens: N, SECONDS]]    the same with SECONDS between tokens (for cancel/load tests)
    [[delay: SECONDS]]        wait (stops at once when cancelled)
    [[error: message]]        fail with BackendError(message)
    [[loop]]                  keep running the directives after tool results (a model that
                              repeats its calls)
    [[after: words]]          the answer to a message the agent harness adds (a program's
                              outcome, a request for the final answer); without it the
                              answer is the first line of that message
    [[reply KEY => words]]    the answer to a harness message that contains KEY (any case);
                              the first matching reply wins, before [[after]] (the research
                              loop's stages: "Stage: plan.", "answer: <sub-question>", …)

Anything outside directives is ignored when at least one output directive (text, thought,
call, json, tokens, error) is present. Without one the backend **echoes** the message text
(directives removed), followed by ``[image: N bytes]`` for every attached image; a request for
JSON output without directives answers as ``[[json]]`` would.

Rules that make it behave like a model:

* When the conversation ends with function results (``tool`` messages) it answers
  ``<name> returned <result>`` for each of them instead of re-running the directives
  (unless the message holds ``[[loop]]`` and tools may still be called).
* ``tool_choice="none"`` drops calls; ``allowed_functions`` drops calls to other names;
  ``tool_choice="any"`` with no call directive calls the first allowed function.
* Each text or thought chunk counts as one token: reaching ``max_output_tokens`` ends the
  generation with ``FinishChunk("length")``; a ``stop`` sequence truncates the text there.
* Continuation: assistant text after the last user message is taken as already produced,
  and that much of the scripted text is skipped, so hops of a capped decode join up exactly.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from .base import (
    BackendError,
    Chunk,
    FinishChunk,
    GenerationRequest,
    Message,
    ModelInfo,
    TextChunk,
    ThoughtChunk,
    ToolCallChunk,
    UsageChunk,
)

HARNESS = "harness"
"""The name of user messages the agent loop adds (``agent.prompt.HARNESS``)."""
AFTER = re.compile(r"\[\[\s*after\s*:\s*(.*?)\s*\]\]", re.DOTALL)
REPLY = re.compile(r"\[\[\s*reply\s+(.+?)\s*=>\s*(.*?)\s*\]\]", re.DOTALL)
DIRECTIVE = re.compile(r"\[\[\s*([a-z_]+)\s*(?::\s*|\s+)?(.*?)\s*\]\]", re.DOTALL)
OUTPUT_DIRECTIVES = frozenset({"text", "thought", "call", "json", "tokens", "error"})

MODELS = (
    ModelInfo(
        id="scripted",
        display_name="Scripted (test)",
        description="Deterministic test model driven by [[directives]] in the prompt.",
        input_token_limit=32768,
        output_token_limit=8192,
        modalities=("text", "image"),
    ),
    ModelInfo(
        id="scripted-text",
        display_name="Scripted, text only (test)",
        description="Like 'scripted' but it cannot read images.",
        input_token_limit=32768,
        output_token_limit=8192,
        modalities=("text",),
    ),
)


@dataclass(frozen=True)
class Action:
    """One scripted step: ``kind`` is text, thought, call, delay or error."""

    kind: str
    text: str = ""
    seconds: float = 0.0
    name: str = ""
    arguments: dict[str, Any] | None = None


def _words(text: str) -> list[str]:
    return re.findall(r"\s*\S+\s*|\s+", text)


def sample_for_schema(schema: Any, depth: int = 0) -> Any:
    """A small value that satisfies the common parts of a JSON schema."""
    if not isinstance(schema, dict) or depth > 8:
        return {}
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            return sample_for_schema(options[0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        props = schema.get("properties")
        props = props if isinstance(props, dict) else {}
        return {str(k): sample_for_schema(v, depth + 1) for k, v in props.items()}
    if kind == "array":
        count = schema.get("minItems", 1)
        count = count if isinstance(count, int) and 0 <= count <= 5 else 1
        return [sample_for_schema(schema.get("items", {}), depth + 1) for _ in range(count)]
    if kind == "string":
        return "text"
    if kind == "integer":
        return 0
    if kind == "number":
        return 0.0
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return {}


def _parse_call(arg: str) -> Action:
    name, _, rest = arg.strip().partition(" ")
    if not name:
        raise BackendError("[[call]] needs a function name", code="invalid_request")
    arguments: Any = {}
    if rest.strip():
        try:
            arguments = json.loads(rest)
        except json.JSONDecodeError as exc:
            raise BackendError(f"[[call {name}]] arguments are not JSON: {exc}") from exc
    if not isinstance(arguments, dict):
        raise BackendError(f"[[call {name}]] arguments must be a JSON object")
    return Action("call", name=name, arguments=arguments)


def plan(request: GenerationRequest) -> list[Action]:
    """The actions the scripted model will take for this request."""
    messages = request.messages
    trailing_tools = []
    for message in reversed(messages):
        if message.role != "tool":
            break
        trailing_tools.append(message)
    user = next(
        (m for m in reversed(messages) if m.role == "user" and m.name != HARNESS),
        Message(role="user"),
    )
    last = messages[-1] if messages else None
    if last is not None and last.role == "user" and last.name == HARNESS:
        keyed = [m for m in REPLY.finditer(user.text) if m.group(1).lower() in last.text.lower()]
        reply = AFTER.search(user.text)
        if keyed:
            text = keyed[0].group(2)
        else:
            text = reply.group(1) if reply else last.text.strip().splitlines()[0]
        return [Action("text", text=w) for w in _words(text)]
    looping = "[[loop]]" in user.text and request.tool_choice != "none"
    if trailing_tools and not looping:
        parts = [f"{m.name or 'function'} returned {m.text}" for m in reversed(trailing_tools)]
        return [Action("text", text=w) for w in _words("\n".join(parts))]
    actions: list[Action] = []
    found_output = False
    for match in DIRECTIVE.finditer(user.text):
        name, arg = match.group(1), match.group(2)
        found_output = found_output or name in OUTPUT_DIRECTIVES
        actions.extend(_directive(name, arg, request))
    if found_output:
        return actions
    if request.json_output or request.response_schema is not None:
        return actions + _directive("json", "", request)
    echo = DIRECTIVE.sub("", user.text).strip()
    tail = "".join(f" [image: {len(image)} bytes]" for image in user.images)
    text = (echo + tail).strip() or "(empty message)"
    return actions + [Action("text", text=w) for w in _words(text)]


def _directive(name: str, arg: str, request: GenerationRequest) -> list[Action]:
    if name == "text":
        return [Action("text", text=w) for w in _words(arg)]
    if name == "thought":
        return [Action("thought", text=w) for w in _words(arg)]
    if name == "call":
        return [_parse_call(arg)]
    if name == "json":
        value = sample_for_schema(request.response_schema or {"type": "object"})
        return [Action("text", text=json.dumps(value))]
    if name == "tokens":
        count_text, _, pace_text = arg.partition(",")
        try:
            count = int(count_text.strip() or "0")
            pace = float(pace_text.strip() or "0")
        except ValueError as exc:
            raise BackendError(f"bad [[tokens: {arg}]]") from exc
        return [Action("text", text=f"t{i} ", seconds=pace) for i in range(max(0, count))]
    if name == "delay":
        try:
            return [Action("delay", seconds=max(0.0, float(arg)))]
        except ValueError as exc:
            raise BackendError(f"bad [[delay: {arg}]]") from exc
    if name == "error":
        return [Action("error", text=arg or "scripted error")]
    return []


def _already_produced(messages: tuple[Message, ...]) -> str:
    """Assistant text after the last user message (a capped decode being continued)."""
    produced: list[str] = []
    for message in reversed(messages):
        if message.role == "user":
            break
        if message.role == "assistant" and not message.tool_calls:
            produced.append(message.text)
        else:
            return ""
    return "".join(reversed(produced))


class ScriptedBackend:
    """The scripted backend (see the module docstring for the directive grammar)."""

    name = "scripted"

    def __init__(self, model: str | None = None) -> None:
        infos = list(MODELS)
        if model and all(info.id != model for info in infos):
            infos.insert(0, ModelInfo(id=model, display_name=f"{model} (scripted)"))
        self._models = infos

    def models(self) -> list[ModelInfo]:
        return list(self._models)

    async def load(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def generate(
        self, request: GenerationRequest, cancel: asyncio.Event
    ) -> AsyncIterator[Chunk]:
        actions = plan(request)
        actions = self._apply_tool_rules(actions, request)
        skip = len(_already_produced(request.messages))
        limit = request.max_output_tokens
        produced = ""
        emitted = thoughts = 0
        reason: str = "stop"
        called = False
        for action in actions:
            if cancel.is_set():
                return
            pause = action.kind == "delay" or action.seconds > 0
            if pause and skip <= 0 and await _sleep(action.seconds, cancel):
                return
            if action.kind == "delay":
                continue
            if action.kind == "error":
                raise BackendError(action.text)
            if action.kind == "call":
                called = True
                yield ToolCallChunk(name=action.name, arguments=dict(action.arguments or {}))
                continue
            text = action.text
            if action.kind == "text" and skip > 0:
                cut = min(skip, len(text))
                skip -= cut
                text = text[cut:]
                if not text:
                    continue
            elif action.kind == "thought" and skip > 0:
                continue
            if limit is not None and emitted >= limit:
                reason = "length"
                break
            if action.kind == "text":
                stopped = _stop_at(produced, text, request.stop)
                if stopped is not None:
                    if stopped:
                        emitted += 1
                        yield TextChunk(stopped)
                    break
                produced += text
                emitted += 1
                yield TextChunk(text)
            else:
                emitted += 1
                thoughts += 1
                yield ThoughtChunk(text)
            await asyncio.sleep(0)
        words = sum(len(m.text.split()) for m in request.messages)
        yield UsageChunk(
            input_tokens=words, output_tokens=emitted - thoughts, thought_tokens=thoughts
        )
        yield FinishChunk(reason="tool_calls" if called else reason)  # type: ignore[arg-type]

    @staticmethod
    def _apply_tool_rules(actions: list[Action], request: GenerationRequest) -> list[Action]:
        allowed = request.allowed_functions
        kept = [
            a
            for a in actions
            if a.kind != "call"
            or (request.tool_choice != "none" and (allowed is None or a.name in allowed))
        ]
        if request.tool_choice == "any" and not any(a.kind == "call" for a in kept):
            candidates = [f for f in request.functions if allowed is None or f.name in allowed]
            if candidates:
                spec = candidates[0]
                arguments = sample_for_schema(spec.parameters)
                args = arguments if isinstance(arguments, dict) else {}
                kept.append(Action("call", name=spec.name, arguments=args))
        return kept


def _stop_at(produced: str, text: str, stops: tuple[str, ...]) -> str | None:
    """If a stop sequence appears, the part of ``text`` before it; else None."""
    combined = produced + text
    best: int | None = None
    for stop in stops:
        if not stop:
            continue
        found = combined.find(stop, max(0, len(produced) - len(stop) + 1))
        if found >= 0 and (best is None or found < best):
            best = found
    if best is None:
        return None
    return combined[len(produced) : max(best, len(produced))]


async def _sleep(seconds: float, cancel: asyncio.Event) -> bool:
    """Sleep unless cancelled; True when cancelled."""
    if seconds <= 0:
        return cancel.is_set()
    try:
        await asyncio.wait_for(cancel.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True
