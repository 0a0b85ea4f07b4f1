"""Prompt text for a GGUF model: its own Jinja chat template, or ChatML when it has none.

The template is rendered as the ``transformers`` library renders it (sandboxed Jinja,
``tojson``, ``raise_exception``), so Qwen2.5 gets its native tool prompt; a template that does
not compile or fails falls back to ChatML with Hermes-style tools.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from workbench.engine.backends.toolcall import TOOL_CALL_CLOSE, TOOL_CALL_OPEN

log = logging.getLogger("workbench.engine.backends.llama")


def _chatml(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> str:
    """ChatML with Hermes-style tools, for models whose GGUF has no chat template."""
    out: list[str] = []
    system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
    body = messages[1:] if system else messages
    if tools:
        listing = "\n".join(json.dumps(t, ensure_ascii=False) for t in tools)
        system = (
            (system + "\n\n" if system else "")
            + "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
            + "You are provided with function signatures within <tools></tools> XML tags:\n"
            + f"<tools>\n{listing}\n</tools>\n\nFor each function call, return a json object "
            + "with function name and arguments within <tool_call></tool_call> XML tags:\n"
            + '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n'
            + "</tool_call>"
        )
    if system:
        out.append(f"<|im_start|>system\n{system}<|im_end|>\n")
    for m in body:
        if m["role"] == "tool":
            out.append(f"<|im_start|>user\n<tool_response>\n{m['content']}\n</tool_response>")
            out.append("<|im_end|>\n")
            continue
        text = m.get("content") or ""
        for call in m.get("tool_calls") or ():
            fn = call["function"]
            payload = json.dumps({"name": fn["name"], "arguments": fn["arguments"]})
            text += f"\n{TOOL_CALL_OPEN}\n{payload}\n{TOOL_CALL_CLOSE}"
        out.append(f"<|im_start|>{m['role']}\n{text.lstrip(chr(10))}<|im_end|>\n")
    out.append("<|im_start|>assistant\n")
    return "".join(out)


class ChatTemplate:
    """Renders chat messages with a GGUF's Jinja chat template (ChatML when it has none)."""

    def __init__(self, source: str | None, bos_token: str = "", eos_token: str = "") -> None:
        self._template: Any = None
        self._bos = bos_token
        self._eos = eos_token
        if source:
            from jinja2.exceptions import TemplateError
            from jinja2.sandbox import ImmutableSandboxedEnvironment

            def raise_exception(message: str) -> None:
                raise TemplateError(message)

            def tojson(value: Any, indent: int | None = None, **_: Any) -> str:
                return json.dumps(value, ensure_ascii=False, indent=indent)

            env = ImmutableSandboxedEnvironment(
                trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"]
            )
            env.filters["tojson"] = tojson
            env.globals["raise_exception"] = raise_exception
            try:
                self._template = env.from_string(source)
            except TemplateError as exc:
                log.warning("the model's chat template does not compile (%s); using ChatML", exc)

    def render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> str:
        """The prompt text, ending where the assistant's answer begins."""
        if self._template is not None:
            try:
                return str(
                    self._template.render(
                        messages=messages,
                        tools=tools or None,
                        add_generation_prompt=True,
                        bos_token=self._bos,
                        eos_token=self._eos,
                    )
                )
            except Exception as exc:
                log.warning("the model's chat template failed (%s); using ChatML", exc)
        return _chatml(messages, tools)
