"""The body of an OpenAI chat-completions request, built from a ``GenerationRequest``.

Apart from the backend (``openai_compat``) because it is pure mapping, no I/O: functions →
``tools``; ``tool_choice`` ``any`` → ``"required"``, or the named function when exactly one
may be called (the caller passes no functions for ``none``); ``response_schema`` →
``response_format`` in the ``json_schema`` form, or ``{"type": "json_object", "schema": …}``
for servers that rejected that form; ``json_output`` → ``json_object``.
"""

from __future__ import annotations

from typing import Any

from workbench.engine.backends.base import GenerationRequest
from workbench.engine.backends.chat_messages import chat_dicts
from workbench.engine.backends.schemas import normalize_schema, tool_dicts


def schema_format(schema: dict[str, Any], *, json_schema: bool) -> dict[str, Any]:
    """The ``response_format`` asking for ``schema``: the ``json_schema`` form, or the
    ``json_object`` form with a ``schema`` (llama-cpp-python's) when ``json_schema`` is off."""
    schema = normalize_schema(schema)
    if json_schema:
        return {
            "type": "json_schema",
            "json_schema": {"name": "response", "schema": schema, "strict": True},
        }
    return {"type": "json_object", "schema": schema}


def chat_payload(
    request: GenerationRequest,
    model: str,
    functions: list[Any],
    forced: bool,
    *,
    vision: bool,
    json_schema: bool,
) -> dict[str, Any]:
    """The streamed request body for ``request`` to ``model``.

    ``functions`` are the ones that may be called (empty: no tools sent); ``forced`` means one
    must be called; ``vision`` whether user images are sent; ``json_schema`` as in
    ``schema_format``.
    """
    payload: dict[str, Any] = {
        "model": model,
        "messages": chat_dicts(request.messages, arguments_as_text=True, images=vision),
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
        payload["response_format"] = schema_format(request.response_schema, json_schema=json_schema)
    elif request.json_output:
        payload["response_format"] = {"type": "json_object"}
    return payload
