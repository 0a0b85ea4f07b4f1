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
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer


class WireModel(BaseModel):
    """Base of every wire model: open schema, snake_case, omit what was never set."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        protected_namespaces=(),
        validate_assignment=False,
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready dict to send: aliases, no unset fields, no nulls."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude_none=True)


class Tagged(WireModel):
    """A member of a tagged union: its tag is always written, even when left at its default."""

    _tag_field = "type"

    def model_post_init(self, context: Any, /) -> None:
        self.__pydantic_fields_set__.add(self._tag_field)


class EventTagged(Tagged):
    """An SSE event: tagged by ``event_type`` instead of ``type``."""

    _tag_field = "event_type"


UNKNOWN_TAG = "__unknown__"


def tag_discriminator(known: Iterable[str], field: str = "type") -> Callable[[Any], str]:
    """Route a value to the union member named by its tag, or to the Unknown member."""
    known_tags = frozenset(known)

    def discriminate(value: Any) -> str:
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
    BeforeValidator(_int64_in),
    PlainSerializer(lambda v: str(v), return_type=str, when_used="json"),
]
"""An int64 that is written as a JSON string and read from a string or a number."""

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
