"""Hypothesis strategies for wire payloads, derived from the models' own field types.

``valid(schema)`` draws JSON a server could legitimately send: every field optional, tags
right, unknown union members with tags nobody knows, extra keys sprinkled in, no nulls, and
int64 fields in their canonical string form. ``json_values()`` draws arbitrary JSON, and
``mutate`` breaks a valid payload in one place (drop, wrong type, unknown tag, null).
"""

from __future__ import annotations

import types
import typing
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin

from hypothesis import strategies as st
from pydantic import BaseModel, BeforeValidator, Discriminator, JsonValue, Tag

from workbench.protocol import _base
from workbench.protocol._base import UNION_TAGS, EventTagged, Tagged

SIZE = 3

scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)


def json_values(nulls: bool = False) -> st.SearchStrategy[Any]:
    """Arbitrary JSON (optionally with nulls), kept small."""
    leaves = st.one_of(scalars, st.none()) if nulls else scalars
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=SIZE),
            st.dictionaries(st.text(max_size=6), inner, max_size=SIZE),
        ),
        max_leaves=8,
    )


unknown_tags = st.text(min_size=1, max_size=10).filter(lambda t: t not in UNION_TAGS)


def _is_int64(meta: list[Any]) -> bool:
    return any(isinstance(m, BeforeValidator) and m.func is _base._int64_in for m in meta)


def for_type(tp: Any) -> st.SearchStrategy[Any]:
    """A strategy of valid JSON for a field annotation."""
    origin = get_origin(tp)
    if origin is typing.Annotated:
        inner, *meta = get_args(tp)
        if _is_int64(meta):
            return st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str)
        for item in meta:
            if isinstance(item, Discriminator):
                return _tagged_union(inner)
        return for_type(inner)
    if origin in (Union, types.UnionType):
        members = [m for m in get_args(tp) if m is not type(None)]
        return st.one_of([for_type(m) for m in members])
    if origin is list:
        return st.lists(for_type(get_args(tp)[0]), max_size=SIZE)
    if origin is dict:
        return st.dictionaries(st.text(max_size=6), for_type(get_args(tp)[1]), max_size=SIZE)
    if origin is Literal:
        return st.sampled_from(get_args(tp))
    if tp is Any or tp == JsonValue or tp is object:
        return json_values()
    if tp is str:
        return st.text(max_size=10)
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(min_value=-(2**53), max_value=2**53)
    if tp is float:
        return st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-100, 100))
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return st.deferred(lambda: model(tp))
    raise NotImplementedError(f"no strategy for {tp!r}")


def _tagged_union(union: Any) -> st.SearchStrategy[Any]:
    options = []
    for member in get_args(union):
        cls, *meta = get_args(member)
        tag = next(m.tag for m in meta if isinstance(m, Tag))
        if tag == _base.UNKNOWN_TAG:
            options.append(_unknown_member(cls))
        else:
            options.append(for_type(cls))
    return st.one_of(options)


def _unknown_member(cls: Any) -> st.SearchStrategy[Any]:
    """An unknown union member: a tag nobody knows (or none) and random fields."""
    fields = getattr(cls, "model_fields", {})
    tag_key = "event_type" if "event_type" in fields else "type"
    return st.fixed_dictionaries(
        {},
        optional={tag_key: unknown_tags, "payload": json_values(), "n": st.integers(0, 9)},
    )


@cache
def model(cls: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    """Valid JSON for one model class: any subset of its fields, plus extra keys."""
    tag_field = None
    if issubclass(cls, EventTagged):
        tag_field = "event_type"
    elif issubclass(cls, Tagged):
        tag_field = "type"
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    taken: set[str] = set()
    for name, info in cls.model_fields.items():
        key = info.alias or name
        taken |= {name, key}
        strategy = for_type(info.annotation)
        if info.metadata:
            strategy = for_type(typing.Annotated[info.annotation, *info.metadata])
        if key == tag_field:
            default = info.default
            if get_origin(info.annotation) is Literal:
                required[key] = st.just(default)
            else:  # case-insensitive tags (sources) keep their spelling
                required[key] = st.sampled_from([default, default.upper()])
        else:
            optional[key] = strategy
    extras = st.dictionaries(
        st.text(min_size=1, max_size=6).filter(lambda k: k not in taken), json_values(), max_size=2
    )
    return st.builds(
        lambda fields, more: {**more, **fields},
        st.fixed_dictionaries(required, optional=optional),
        extras,
    )


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every location inside a JSON value (the root is ``()``)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += paths(item, (*prefix, i))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any, drop: bool = False) -> Any:
    if not path:
        return new
    head, *rest = path
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    if drop and not rest:
        del copy[head]
        return copy
    copy[head] = _replace(copy[head], tuple(rest), new, drop)
    return copy


@st.composite
def mutate(draw: st.DrawFn, value: Any) -> Any:
    """``value`` broken in one place: a dropped key, a wrong type, an unknown tag or a null."""
    path = draw(st.sampled_from(paths(value)))
    kind = draw(st.sampled_from(["drop", "replace", "null", "tag"]))
    if kind == "drop" and path:
        return _replace(value, path, None, drop=True)
    if kind == "null":
        return _replace(value, path, None)
    if kind == "tag" and path and path[-1] in ("type", "event_type"):
        return _replace(value, path, draw(st.one_of(unknown_tags, scalars)))
    return _replace(value, path, draw(json_values(nulls=True)))
