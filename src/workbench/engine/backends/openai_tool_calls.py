"""Function calls streamed as OpenAI ``tool_calls`` deltas, put back together.

A server streams each call in pieces keyed by ``index``: the name once, the JSON arguments
as text fragments (some servers send an object, some encode the JSON twice). The pieces are
collected per index and parsed when the stream ends. Apart from the backend
(``openai_compat``) because this is the one part of the answer with its own failure modes,
each named in a plain ``BackendError``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from workbench.engine.backends.base import BackendError
from workbench.engine.backends.openai_errors import ERROR_TEXT_LIMIT, garbage_error


@dataclass
class _PendingCall:
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class StreamedToolCalls:
    """The ``tool_calls`` deltas of one streamed answer from the server at ``base_url``."""

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url
        self._pending: dict[int, _PendingCall] = {}

    def add(self, call: object) -> None:
        """Take one entry of a delta's ``tool_calls`` list."""
        if not isinstance(call, dict):
            raise garbage_error(self._base_url, "a tool call that is not an object")
        index = call.get("index", len(self._pending))
        slot = self._pending.setdefault(index if isinstance(index, int) else 0, _PendingCall())
        fn = call.get("function") or {}
        if fn.get("name"):
            slot.name = str(fn["name"])
        if isinstance(fn.get("arguments"), str):
            slot.arguments.append(fn["arguments"])
        elif isinstance(fn.get("arguments"), dict):  # some servers send an object
            slot.arguments.append(json.dumps(fn["arguments"]))

    def calls(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(name, arguments)`` of each call in index order, each parsed when it is reached."""
        for index in sorted(self._pending):
            slot = self._pending[index]
            yield slot.name, self._arguments(slot)

    def _arguments(self, slot: _PendingCall) -> dict[str, Any]:
        text = "".join(slot.arguments).strip()
        if not slot.name:
            raise garbage_error(self._base_url, "a tool call without a function name")
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            raise BackendError(
                f"The model called {slot.name} with arguments that are not valid JSON: "
                f"{text[:ERROR_TEXT_LIMIT]}",
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
                f"{text[:ERROR_TEXT_LIMIT]}",
                code="internal",
            )
        return value
