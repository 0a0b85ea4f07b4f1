"""Hypothesis strategies that draw instances of the OpenAPI document's own schemas.

``hypothesis-jsonschema`` would do this, but its latest release (0.23.1) breaks on objects
with the Hypothesis this project uses (``'many' object has no attribute 'more'``), so this
module covers the subset the document uses: ``type`` (object, array, string, integer,
number, boolean), ``enum``, ``const``, ``oneOf``/``anyOf``, ``properties``, ``required``,
``additionalProperties`` and ``items``, with ``$ref`` resolved inside the document and a
depth limit for recursive schemas (past it, only required properties are drawn).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from .openapi_oracle import spec

MAX_DEPTH = 6

_text = st.text(max_size=12)
_ints = st.integers(min_value=-(2**31), max_value=2**31 - 1)
_numbers = st.floats(allow_nan=False, allow_infinity=False, width=32)


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = spec()["components"]["schemas"]
    return schemas


def instances(schema_name: str) -> st.SearchStrategy[Any]:
    """JSON values valid under ``components.schemas[schema_name]`` (as patched by the oracle)."""
    return _strategy({"$ref": f"#/components/schemas/{schema_name}"}, 0)


def _strategy(node: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    if "$ref" in node:
        target = _schemas()[node["$ref"].rsplit("/", 1)[1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return st.deferred(lambda: _strategy(merged, depth + 1))
    if "const" in node:
        return st.just(node["const"])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    branches = node.get("oneOf") or node.get("anyOf")
    if branches:
        base = {k: v for k, v in node.items() if k not in ("oneOf", "anyOf", "discriminator")}
        return st.one_of([_strategy({**base, **b}, depth) for b in branches])
    kind = node.get("type")
    if kind is None and "properties" in node:
        kind = "object"
    if kind == "string":
        return _text
    if kind == "integer":
        return _ints
    if kind == "number":
        return _numbers | _ints
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        items = node.get("items") or {}
        if depth > MAX_DEPTH:
            return st.just([])
        return st.lists(_strategy(items, depth + 1), min_size=1, max_size=2)
    if kind == "object":
        return _object(node, depth)
    return _json(depth)


def _object(node: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    props: dict[str, Any] = node.get("properties") or {}
    required = [k for k in node.get("required", []) if k in props]
    optional = [] if depth > MAX_DEPTH else [k for k in props if k not in required]
    extra = node.get("additionalProperties")
    need = st.fixed_dictionaries({k: _strategy(props[k], depth + 1) for k in required})
    maybe = st.fixed_dictionaries(
        {}, optional={k: _strategy(props[k], depth + 1) for k in optional}
    )
    more: st.SearchStrategy[dict[str, Any]] = st.just({})
    if isinstance(extra, dict) and not props and depth <= MAX_DEPTH:
        more = st.dictionaries(_text, _strategy(extra, depth + 1), max_size=2)
    return st.tuples(need, maybe, more).map(lambda parts: {**parts[2], **parts[1], **parts[0]})


def _json(depth: int) -> st.SearchStrategy[Any]:
    scalars = st.booleans() | _ints | _text
    if depth > MAX_DEPTH:
        return scalars
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=2) | st.dictionaries(_text, inner, max_size=2),
        max_leaves=4,
    )
