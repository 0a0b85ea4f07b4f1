"""The contract between the engine's runner and a model backend.

The runner turns an interaction (its history, tools and config) into a ``GenerationRequest``
of plain chat messages; a backend streams ``Chunk`` values back. Backends know nothing of the
wire protocol, steps or SSE: that keeps each of them small and testable on its own.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class ToolCall:
    """A call the model made, as it appears in the history sent back to the model."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Message:
    """One chat message.

    ``role`` is ``system``, ``user``, ``assistant`` or ``tool``. A ``tool`` message answers the
    assistant's call ``tool_call_id``. ``images`` holds raw image bytes for vision models.
    """

    role: Literal["system", "user", "assistant", "tool"]
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None
    images: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class FunctionSpec:
    """A function the model may call: name, description and JSON Schema of its arguments."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object"})


@dataclass(frozen=True)
class GenerationRequest:
    """Everything a backend needs for one generation.

    ``tool_choice``: ``auto`` (the model decides), ``any`` (it must call one of ``functions``;
    backends enforce this with constrained decoding), ``none`` (no calls). When
    ``allowed_functions`` is set, only those names may be called. ``response_schema`` asks for
    JSON output matching the schema (constrained decoding where the backend can).
    ``notes`` say what the engine did with media the model cannot take (transcribed, read by
    OCR, converted); the runner shows them as a ``thought`` step before the answer.
    """

    messages: tuple[Message, ...]
    model: str
    functions: tuple[FunctionSpec, ...] = ()
    tool_choice: Literal["auto", "any", "none"] = "auto"
    allowed_functions: tuple[str, ...] | None = None
    response_schema: dict[str, Any] | None = None
    json_output: bool = False
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    thinking_budget: int | None = None
    """Thought tokens the answer may spend (``thinking_level``); None is no limit. Backends
    that can steer reasoning read it; the runner stops showing thoughts past it either way."""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TextChunk:
    """A piece of the answer text."""

    text: str


@dataclass(frozen=True)
class ThoughtChunk:
    """A piece of the model's visible reasoning (a thought summary)."""

    text: str


@dataclass(frozen=True)
class ToolCallChunk:
    """A complete function call chosen by the model (arguments already parsed)."""

    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class UsageChunk:
    """Token counts for the whole generation; sent once, at the end."""

    input_tokens: int
    output_tokens: int
    thought_tokens: int = 0


@dataclass(frozen=True)
class FinishChunk:
    """The last chunk: why the generation stopped."""

    reason: Literal["stop", "length", "tool_calls"]


Chunk = TextChunk | ThoughtChunk | ToolCallChunk | UsageChunk | FinishChunk


@dataclass(frozen=True)
class ModelInfo:
    """A model the backend serves, for ``GET /{v}/models``."""

    id: str
    display_name: str
    description: str = ""
    input_token_limit: int = 8192
    output_token_limit: int = 2048
    modalities: tuple[str, ...] = ("text",)


class BackendError(Exception):
    """A generation failed for a reason worth showing to the user (message is plain words)."""

    def __init__(self, message: str, code: str = "internal") -> None:
        super().__init__(message)
        self.code = code


class Backend(Protocol):
    """A model backend. Implementations must be safe to call from many asyncio tasks.

    ``generate`` is an async iterator: it must stop promptly (within one token or one network
    read) when ``cancel`` is set or when the consumer closes the iterator, and must never block
    the event loop (run native inference in a worker thread or process).
    """

    name: str

    def models(self) -> list[ModelInfo]: ...

    async def load(self) -> None:
        """Prepare the backend (load weights, check the server); idempotent."""
        ...

    def generate(
        self, request: GenerationRequest, cancel: asyncio.Event
    ) -> AsyncIterator[Chunk]: ...

    async def close(self) -> None: ...


FOREGROUND = 0
BACKGROUND = 1
priority: contextvars.ContextVar[int] = contextvars.ContextVar("priority", default=FOREGROUND)
"""How urgent the generations started in this context are: ``FOREGROUND`` (a streamed or
blocking call someone waits on) or ``BACKGROUND`` (a background run). The runner sets it for
each run's task; a backend with a queue of its own (llama) serves foreground work first, one
that has none (scripted, openai) ignores it."""
