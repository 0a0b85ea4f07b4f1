"""Error bodies (protocol.md §10) and the one exception the protocol package raises.

``ErrorDetail`` is shared by every error shape on the wire: the HTTP error body, the SSE
``error`` event, ``Interaction.errors`` and ``model_output.error`` (a google.rpc.Status).
Its ``code`` is a string in the Interactions schema but a number from Google's front end and
in google.rpc.Status, so both are accepted and kept as they came.
"""

from __future__ import annotations

from typing import Any, TypeVar, overload

from pydantic import BaseModel, StrictInt, StrictStr, TypeAdapter, ValidationError

from ._base import LENIENT, UNION_TAGS, WireModel


class ErrorDetail(WireModel):
    """``{code, message, status?, details?}``; ``code`` is a string or an integer."""

    code: StrictStr | StrictInt | None = None
    message: str | None = None
    status: str | None = None
    details: list[dict[str, Any]] | None = None


class ErrorBody(WireModel):
    """The JSON body of every HTTP error response: ``{"error": {...}}``."""

    error: ErrorDetail | None = None


class ProtocolError(ValueError):
    """A payload does not match the wire protocol.

    The message names the offending fields in plain words (``steps.0.text: Input should be a
    valid string``); ``problems`` holds one such line per problem.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = problems if problems is not None else [message]


_MAX_PROBLEMS = 5

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def _describe(exc: ValidationError, what: str) -> ProtocolError:
    """Turn a pydantic error into a short readable ProtocolError (no input dump, no URLs)."""
    by_path: dict[str, list[str]] = {}
    for err in exc.errors(include_url=False, include_input=False):
        msgs = by_path.setdefault(_wire_path(err.get("loc", ())) or "<root>", [])
        if err.get("msg", "invalid") not in msgs:
            msgs.append(err.get("msg", "invalid"))
    problems = [f"{path}: {' or '.join(msgs)}" for path, msgs in by_path.items()]
    shown = "; ".join(problems[:_MAX_PROBLEMS])
    more = f" (and {len(problems) - _MAX_PROBLEMS} more)" if len(problems) > _MAX_PROBLEMS else ""
    return ProtocolError(f"invalid {what}: {shown}{more}", problems)


def _wire_path(loc: tuple[int | str, ...]) -> str:
    """The JSON path of an error location, without the union members pydantic inserts.

    A union tag (``text``, ``step.delta``) is dropped when a field follows it; the element right
    after a dropped tag is always kept, since a tag is never followed by another tag.
    """
    parts: list[str] = []
    keep_next = False
    for i, part in enumerate(loc):
        if isinstance(part, str) and _is_schema_name(part):
            continue
        if isinstance(part, str) and not keep_next and part in UNION_TAGS and i + 1 < len(loc):
            keep_next = True
            continue
        keep_next = False
        parts.append(str(part))
    return ".".join(parts)


def _is_schema_name(part: str) -> bool:
    """Names of union members (``str``, ``list[...]``, ``TextContent``) that pydantic adds."""
    return part.startswith("__") or part[:1].isupper() or "[" in part or part in _SCHEMA_NAMES


_SCHEMA_NAMES = frozenset(
    {"str", "int", "float", "bool", "none", "function-plain", "function-before", "json-or-python"}
)


@overload
def parse(schema: type[M], data: Any, what: str | None = None, *, lenient: bool = False) -> M: ...
@overload
def parse(
    schema: TypeAdapter[T], data: Any, what: str | None = None, *, lenient: bool = False
) -> T: ...
def parse(
    schema: type[BaseModel] | TypeAdapter[Any],
    data: Any,
    what: str | None = None,
    *,
    lenient: bool = False,
) -> Any:
    """Validate wire data against a model class or a TypeAdapter.

    ``what`` names the payload in the error message. Raises ``ProtocolError`` instead of
    pydantic's ``ValidationError``, so callers handle one exception type and users see a
    message without pydantic internals. ``lenient`` reads the way a client reads a response
    (``_base.LENIENT``): values wider than our models are kept raw instead of failing.
    """
    context = LENIENT if lenient else None
    try:
        if isinstance(schema, TypeAdapter):
            return schema.validate_python(data, context=context)
        return schema.model_validate(data, context=context)
    except ValidationError as exc:
        name = what or (schema.__name__ if isinstance(schema, type) else "payload")
        raise _describe(exc, name) from None
    except RecursionError:
        raise ProtocolError(f"invalid {what or 'payload'}: nested too deeply") from None
