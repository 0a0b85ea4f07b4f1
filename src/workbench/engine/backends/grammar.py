"""GBNF grammars for constrained decoding with llama.cpp (forced tool calls, JSON output).

The JSON Schema → GBNF conversion is llama-cpp-python's own (``json_schema_to_gbnf``, the
same converter the llama.cpp server uses). Grammars are cached by schema text; a
``LlamaGrammar`` holds only the grammar text, so one object can serve many generations.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from typing import Any

from workbench.engine.backends.base import BackendError, FunctionSpec
from workbench.engine.backends.schemas import call_schema, normalize_schema

log = logging.getLogger("workbench.engine.backends")

_CACHE_SIZE = 64
_cache: dict[str, Any] = {}
_cache_lock = threading.Lock()


def schema_to_gbnf(schema: dict[str, Any]) -> str:
    """GBNF text for JSON matching ``schema`` (raises ``BackendError`` if it cannot convert)."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        return str(json_schema_to_gbnf(json.dumps(normalize_schema(schema))))
    except Exception as exc:  # the converter raises plain exceptions for unsupported schemas
        raise BackendError(
            f"This JSON Schema cannot be enforced by the local model: {exc}",
            code="invalid_request",
        ) from exc


def any_json_gbnf() -> str:
    """GBNF text for any JSON object or array."""
    from llama_cpp.llama_grammar import JSON_GBNF

    return str(JSON_GBNF)


def _grammar(gbnf: str) -> Any:
    from llama_cpp.llama_grammar import LlamaGrammar

    with _cache_lock:
        cached = _cache.get(gbnf)
    if cached is not None:
        return cached
    try:
        grammar = LlamaGrammar.from_string(gbnf, verbose=False)
    except Exception as exc:
        raise BackendError(f"Could not build a grammar: {exc}", code="internal") from exc
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[gbnf] = grammar
    return grammar


def json_grammar(schema: dict[str, Any] | None) -> Any:
    """A ``LlamaGrammar`` for JSON matching ``schema`` (any JSON value when ``None``).

    A schema the converter cannot handle falls back to plain JSON (logged): the answer is
    still JSON, just not checked against every detail of the schema.
    """
    if schema is None:
        return _grammar(any_json_gbnf())
    try:
        return _grammar(schema_to_gbnf(schema))
    except BackendError as exc:
        log.warning("falling back to plain JSON: %s", exc)
        return _grammar(any_json_gbnf())


def call_grammar(functions: Sequence[FunctionSpec]) -> Any:
    """A ``LlamaGrammar`` for one call ``{"name": …, "arguments": {…}}`` to one of ``functions``.

    If a function's parameter schema cannot be converted, its arguments fall back to any JSON
    object (the name is still constrained).
    """
    try:
        return _grammar(schema_to_gbnf(call_schema(functions)))
    except BackendError as exc:
        log.warning("tool parameters not enforceable, constraining names only: %s", exc)
        loose = [FunctionSpec(f.name, f.description, {"type": "object"}) for f in functions]
        return _grammar(schema_to_gbnf(call_schema(loose)))
