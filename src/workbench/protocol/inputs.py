"""The four forms of ``input`` (protocol.md §4.1) and the legacy turn form the engine rejects.

1. a string, 2. one content block, 3. a list of content blocks, 4. a list of steps. A list is
content when every item's ``type`` is a content tag; otherwise it is steps. Forms 1-3 mean "one
``user_input`` step with this content" (``normalize_input``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Tag, TypeAdapter

from ._base import register_tags
from .content import CONTENT_TAGS, Content, TextContent
from .errors import parse
from .steps import STEP_TAGS, Step, UserInputStep

register_tags({"string", "content", "contents", "steps"})


def _tag_of(item: Any) -> Any:
    return item.get("type") if isinstance(item, dict) else getattr(item, "type", None)


def _input_kind(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        if value and all(_tag_of(item) in CONTENT_TAGS for item in value):
            return "contents"
        return "steps"
    return "content"


InteractionsInput = Annotated[
    Annotated[str, Tag("string")]
    | Annotated[Content, Tag("content")]
    | Annotated[list[Content], Tag("contents")]
    | Annotated[list[Step], Tag("steps")],
    Discriminator(_input_kind),
]
"""``input``: a string, one content block, a list of content blocks, or a list of steps.

An empty list counts as (zero) steps.
"""

_INPUT = TypeAdapter[Any](InteractionsInput)


def normalize_input(value: Any) -> list[Step]:
    """The input as steps: forms 1-3 become one ``user_input`` step, form 4 is unchanged.

    Accepts parsed values or raw JSON; ``None`` gives ``[]``. Raises ``ProtocolError`` when
    the value is not a valid input.
    """
    if value is None:
        return []
    parsed = parse(_INPUT, value, "input")
    if isinstance(parsed, str):
        return [UserInputStep(content=[TextContent(text=parsed)])]
    if isinstance(parsed, list):
        if _input_kind(value) == "contents":
            return [UserInputStep(content=parsed)]
        return parsed
    return [UserInputStep(content=[parsed])]


def _is_legacy_item(item: Any) -> bool:
    if isinstance(item, dict):
        keys: Any = item
    else:
        keys = getattr(item, "model_extra", None) or {}
    return "role" in keys and _tag_of(item) not in STEP_TAGS | CONTENT_TAGS


def is_legacy_turn(value: Any) -> bool:
    """True for the pre-June-2026 ``{"role": ..., "content": ...}`` turn form (or a list with one).

    The engine answers such input with 400 ``invalid_request`` (§4.1, §13 Q23).
    """
    if isinstance(value, list):
        return any(_is_legacy_item(item) for item in value)
    return _is_legacy_item(value)
