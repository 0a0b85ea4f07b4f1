"""An agent conversation's steps as chat messages for the model.

Agent timelines hold server-side tool steps (``code_execution_call``/``_result``,
``url_context_*``, ``google_search_*``, ``mcp_server_tool_*``) that a plain model
conversation never has. Each pair becomes an assistant tool call and a ``tool`` message,
named like the tool the model calls, so a follow-up turn (or a ``requires_action`` resume)
shows the model what it already did. Results are shortened for the small default model.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from workbench.engine.backends.base import Message, ModelInfo
from workbench.engine.convert import to_messages

from .tools import shorten

_CALLS = {
    "code_execution_call": "code_execution",
    "url_context_call": "url_context",
    "google_search_call": "google_search",
}
_RESULTS = {
    "code_execution_result": "code_execution",
    "url_context_result": "url_context",
    "google_search_result": "google_search",
}


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _text_step(kind: str, text: str) -> dict[str, Any]:
    return {"type": kind, "content": [{"type": "text", "text": text}]}


def plain_steps(
    steps: Iterable[dict[str, Any]], result_chars: int, *, code_as_text: bool = False
) -> list[dict[str, Any]]:
    """Server-tool steps rewritten as ``function_call`` / ``function_result`` steps.

    With ``code_as_text`` (the code-action loop), a code run is shown as the program in a
    fenced block written by the model and its output as the next user message, the shape
    the model is asked to write in — tool-call markup in the history would teach it to
    answer with tool calls instead.
    """
    out: list[dict[str, Any]] = []
    for step in steps:
        kind = step.get("type")
        if code_as_text and kind == "code_execution_call":
            args = step.get("arguments") or {}
            lang = str(args.get("language") or "python").lower()
            code = str(args.get("code") or "").rstrip()
            out.append(_text_step("model_output", f"```{lang}\n{code}\n```"))
        elif code_as_text and kind == "code_execution_result":
            shown = shorten(_as_text(step.get("result", "")), result_chars)
            out.append(_text_step("user_input", f"The program's output:\n```\n{shown}\n```"))
        elif kind in _CALLS:
            out.append(
                {
                    "type": "function_call",
                    "id": str(step.get("id", "")),
                    "name": _CALLS[str(kind)],
                    "arguments": dict(step.get("arguments") or {}),
                }
            )
        elif kind == "mcp_server_tool_call":
            out.append(
                {
                    "type": "function_call",
                    "id": str(step.get("id", "")),
                    "name": str(step.get("name", "")),
                    "arguments": dict(step.get("arguments") or {}),
                }
            )
        elif kind in _RESULTS or kind == "mcp_server_tool_result":
            name = _RESULTS.get(str(kind)) or str(step.get("name", ""))
            out.append(
                {
                    "type": "function_result",
                    "call_id": str(step.get("call_id", "")),
                    "name": name,
                    "result": shorten(_as_text(step.get("result", "")), result_chars),
                    "is_error": bool(step.get("is_error")),
                }
            )
        elif kind == "function_result":
            result = step.get("result")
            if isinstance(result, str | dict):
                step = dict(step, result=shorten(_as_text(result), result_chars))
            out.append(step)
        else:
            out.append(step)
    return out


def agent_messages(
    steps: Iterable[dict[str, Any]],
    model: ModelInfo,
    result_chars: int,
    *,
    code_as_text: bool = False,
    notes: list[str] | None = None,
    notes_from: int = 0,
) -> list[Message]:
    """Chat messages for an agent timeline (400 for content the model cannot read).

    Media the model cannot read becomes derived text; the notes saying so for steps from
    ``notes_from`` on (the new input) are appended to ``notes``.
    """
    plain = plain_steps(steps, result_chars, code_as_text=code_as_text)  # one step per step
    return to_messages(plain, model=model, where="steps", notes=notes, notes_from=notes_from)
