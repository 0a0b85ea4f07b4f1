"""Building blocks shared by every wire model.

The wire schema is open (protocol.md §0): unknown fields, enum values and union tags must
survive a parse and be written back unchanged, and unset fields are omitted. Every model
therefore allows extra fields, enums are plain strings, and each tagged union ends in an
``Unknown*`` member that keeps whatever it was given.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    Strict,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)

LENIENT: dict[str, Any] = {"lenient": True}
"""Validation context for reading what a server sent (``model_validate(..., context=LENIENT)``).

Without it every model is as strict as its types (requests we build and the engine's own
checks). With it a read never fails on a value wider than our models: a field whose value does
not fit is kept verbatim (``unparsed``) and written back unchanged, and a union member that
does not fit becomes that union's ``Unknown*`` model holding the raw JSON. This is how the
official SDK reads, and real responses do carry such values (``code_execution_result.result``
as a list, new enum values, new step kinds).
"""


def is_lenient(info: ValidationInfo) -> bool:
    """Whether this validation runs with the ``LENIENT`` context."""
    context = info.context
    return isinstance(context, dict) and context.get("lenient") is True


class WireModel(BaseModel):
    """Base of every wire model: open schema, snake_case, omit what was never set."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        protected_namespaces=(),
        validate_assignment=False,
    )

    _lenient_fields: ClassVar[bool] = True
    """Whether a lenient read keeps a bad field raw (False: the union falls back instead)."""

    @model_validator(mode="wrap")
    @classmethod
    def _read_leniently(
        cls, data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            if not (cls._lenient_fields and is_lenient(info) and isinstance(data, dict)):
                raise
            bad = {err["loc"][0] for err in exc.errors() if err["loc"]}
            if not bad or not all(isinstance(key, str) and key in data for key in bad):
                raise
            model = handler({k: v for k, v in data.items() if k not in bad})
            if isinstance(model, WireModel) and model.__pydantic_extra__ is not None:
                # Kept beside the (unset) field: dumps write the raw value in its place, and
                # attribute access still gives the typed field's default.
                model.__pydantic_extra__.update({str(k): data[k] for k in bad})
            return model

    @property
    def unparsed(self) -> dict[str, Any]:
        """Fields a lenient read could not type, kept as the raw JSON they arrived as."""
        fields = type(self).model_fields
        names = set(fields) | {f.alias for f in fields.values() if f.alias}
        return {k: v for k, v in (self.__pydantic_extra__ or {}).items() if k in names}

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready dict to send: aliases, no unset fields, no nulls."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude_none=True)


FALLBACK_MODELS: set[type[BaseModel]] = set()
"""The ``Unknown*`` models unions fall back to; serialized as themselves whatever their tag."""


def fallback_to(unknown: type[WireModel]) -> WrapValidator:
    """Make a tagged union fall back to ``unknown`` (raw JSON kept) when a lenient read fails.

    A strict read (no ``LENIENT`` context) raises as before.
    """
    FALLBACK_MODELS.add(unknown)

    def validate(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        try:
            return handler(value)
        except ValidationError:
            if not (is_lenient(info) and isinstance(value, dict)):
                raise
            return unknown.model_validate(value, context=info.context)

    return WrapValidator(validate)


class Tagged(WireModel):
    """A member of a tagged union: its tag is always written, even when left at its default."""

    _tag_field = "type"
    _lenient_fields = False

    def model_post_init(self, context: Any, /) -> None:
        self.__pydantic_fields_set__.add(self._tag_field)


class CodeDefaults(WireModel):
    """A model whose defaults are written when it is built in code but not when it is parsed.

    Used for constants such as ``EnvironmentConfig.type == "remote"``: the SDK always sends them,
    yet a parsed payload that lacked them must dump back without them (the round-trip rule).
    """

    _code_defaults: ClassVar[tuple[str, ...]] = ()

    def __init__(self, /, **data: Any) -> None:
        super().__init__(**data)
        self.__pydantic_fields_set__.update(self._code_defaults)

    # Tell pydantic this __init__ is not a custom one, so ``model_validate`` (parsing) does not
    # run it and a parsed payload keeps exactly the fields it had (pydantic's RootModel does this).
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]


class EventTagged(Tagged):
    """An SSE event: tagged by ``event_type`` instead of ``type``."""

    _tag_field = "event_type"


UNKNOWN_TAG = "__unknown__"

UNION_TAGS: set[str] = {UNKNOWN_TAG}
"""Every tag of every tagged union; error messages leave them out of field paths."""


def register_tags(tags: Iterable[str]) -> frozenset[str]:
    """Record union tags so error messages can drop them from locations; returns them."""
    known = frozenset(tags)
    UNION_TAGS.update(known)
    return known


def tag_discriminator(known: Iterable[str], field: str = "type") -> Callable[[Any], str]:
    """Route a value to the union member named by its tag, or to the Unknown member."""
    known_tags = register_tags(known)

    def discriminate(value: Any) -> str:
        if type(value) in FALLBACK_MODELS:
            return UNKNOWN_TAG  # a fallback keeps a known tag, but is written as what it is
        tag = value.get(field) if isinstance(value, dict) else getattr(value, field, None)
        return tag if isinstance(tag, str) and tag in known_tags else UNKNOWN_TAG

    return discriminate


def _int64_in(value: Any) -> Any:
    """int64 fields arrive as JSON strings or numbers (protocol.md §0 rule 6)."""
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        raise ValueError(f"expected an integer or a decimal string, got {value!r}")
    return value


Int64 = Annotated[
    int,
    Strict(),
    BeforeValidator(_int64_in),
    PlainSerializer(lambda v: str(v), return_type=str, when_used="json"),
]
"""An int64 that is written as a JSON string and read from a string or a number."""

Int = Annotated[int, Strict()]
"""A JSON integer: a string, float or bool is a wrong type, not something to coerce."""

Float = Annotated[float, Strict()]
"""A JSON number (an integer is fine, a string or bool is not)."""

Bool = Annotated[bool, Strict()]
"""A JSON boolean: ``"true"`` or ``1`` is a wrong type."""

Timestamp = str
"""RFC 3339 timestamp, kept verbatim so a parse never changes it (see ``parse_timestamp``)."""

Base64 = str
"""Standard padded base64, kept verbatim; use ``encode_bytes`` / ``decode_bytes``."""


def encode_bytes(data: bytes) -> str:
    """Bytes to the wire form: standard base64 with padding (RFC 4648 §4)."""
    return base64.b64encode(data).decode("ascii")


def decode_bytes(data: str) -> bytes:
    """The wire form back to bytes; tolerant of missing padding and the URL-safe alphabet."""
    text = data.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not valid base64 data") from exc
