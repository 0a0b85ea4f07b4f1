"""JSON Schemas for the model backends (pure code, no I/O).

* ``normalize_schema``: make a function's or response's JSON Schema acceptable to grammar
  converters and OpenAI-compatible servers (Gemini's upper-case types, ``nullable``).
* ``call_schema``: the JSON Schema of one forced call, ``{"name": <one of the names>,
  "arguments": {...that function's parameters...}}``; the ``llama`` backend turns it into a
  grammar so a forced call is valid by construction.
* ``tool_dicts`` / ``json_instruction``: the tools and the JSON-output request as a chat
  template or an OpenAI-compatible server takes them.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from workbench.engine.backends.base import FunctionSpec


def normalize_schema(schema: Any) -> Any:
    """A copy of ``schema`` with Gemini-isms made standard JSON Schema.

    Upper-case ``type`` values (``"STRING"``) become lower case, ``nullable: true`` becomes a
    ``null`` alternative, and ``propertyOrdering`` (Gemini only) is dropped. Everything else is
    kept as it is.
    """
    if isinstance(schema, list):
        return [normalize_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "propertyOrdering":
            continue
        if key == "type":
            if isinstance(value, str):
                out[key] = value.lower()
            elif isinstance(value, list):
                out[key] = [v.lower() if isinstance(v, str) else v for v in value]
            else:
                out[key] = value
        elif key in ("properties", "$defs", "definitions", "patternProperties"):
            out[key] = (
                {k: normalize_schema(v) for k, v in value.items()}
                if isinstance(value, dict)
                else value
            )
        elif (
            key in ("items", "additionalProperties", "not", "anyOf", "oneOf", "allOf")
            or key == "prefixItems"
        ):
            out[key] = normalize_schema(value)
        else:
            out[key] = value
    if out.pop("nullable", False) is True and "type" in out:
        kind = out["type"]
        kinds = list(kind) if isinstance(kind, list) else [kind]
        if "null" not in kinds:
            kinds.append("null")
        out["type"] = kinds
    return out


def parameters_schema(function: FunctionSpec) -> dict[str, Any]:
    """The function's parameter schema, normalized; an object schema when absent or odd."""
    params = normalize_schema(function.parameters or {})
    if not isinstance(params, dict) or not params:
        return {"type": "object"}
    if "type" not in params and "properties" in params:
        params = {"type": "object", **params}
    return params


def callable_functions(
    functions: Sequence[FunctionSpec], allowed: Collection[str] | None
) -> list[FunctionSpec]:
    """The functions the model may call: all of them, or those named in ``allowed``."""
    if allowed is None:
        return list(functions)
    names = set(allowed)
    return [f for f in functions if f.name in names]


def call_schema(functions: Sequence[FunctionSpec]) -> dict[str, Any]:
    """JSON Schema of one call to one of ``functions`` (``name`` first, then ``arguments``)."""
    if not functions:
        raise ValueError("call_schema needs at least one function")
    variants: list[dict[str, Any]] = [
        {
            "type": "object",
            "properties": {"name": {"const": f.name}, "arguments": parameters_schema(f)},
            "required": ["name", "arguments"],
            "additionalProperties": False,
        }
        for f in functions
    ]
    return variants[0] if len(variants) == 1 else {"oneOf": variants}


def tool_dicts(functions: Iterable[FunctionSpec]) -> list[dict[str, Any]]:
    """OpenAI-style ``tools`` entries for ``functions``."""
    return [
        {
            "type": "function",
            "function": {
                "name": f.name,
                "description": f.description,
                "parameters": parameters_schema(f),
            },
        }
        for f in functions
    ]


def json_instruction(schema: dict[str, Any] | None) -> str:
    """A sentence asking for JSON output (the grammar enforces it; this helps the content)."""
    if schema is None:
        return "Answer with a single JSON value only, no other text."
    return (
        "Answer with a single JSON value only, no other text, matching this JSON Schema:\n"
        + json.dumps(schema, ensure_ascii=False)
    )
