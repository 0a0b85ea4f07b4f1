"""Input forms (protocol.md §4.1) and step validation, on plain JSON values.

``normalize_input`` turns the four ``input`` forms into a list of step dicts, keeping unknown
fields so stateless histories echo back unchanged; the legacy ``{"role": …}`` turn form and
unknown step or content tags are refused with 400. ``check_function_results`` enforces that
every ``function_result`` answers a pending call (§11.14).
"""

from __future__ import annotations

from typing import Any

from workbench.protocol import CONTENT_TAGS, STEP_TAGS

from .errors import ApiError, bad_request

CONTENT_TYPES = CONTENT_TAGS
STEP_TYPES = STEP_TAGS
"""The step kinds of protocol.md §4.4; others are refused in input (they cannot be used)."""


def _tag(item: Any) -> str | None:
    """An object's ``type`` tag when it is a string (anything else is no tag at all)."""
    tag = item.get("type") if isinstance(item, dict) else None
    return tag if isinstance(tag, str) else None


def is_legacy_turn(item: Any) -> bool:
    """The pre-June-2026 turn form ``{"role": …, "content"/"parts": …}``."""
    return isinstance(item, dict) and "role" in item and "type" not in item


LEGACY_MESSAGE = (
    "the legacy turn form {'role': …, 'content': …} is no longer supported; send steps such "
    "as [{'type': 'user_input', 'content': [{'type': 'text', 'text': '…'}]}]"
)


def _content_block(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise bad_request(f"{where}: a content block must be an object")
    kind = _tag(item)
    if item.get("type") is None and "text" in item:
        item = {"type": "text", **item}
        kind = "text"
    if kind not in CONTENT_TYPES:
        raise bad_request(
            f"{where}: unknown content type {kind!r}; use text, image, audio, video or document"
        )
    if kind == "text":
        if not isinstance(item.get("text"), str):
            raise bad_request(f"{where}: a text block needs a string 'text'")
    else:
        data, uri = item.get("data"), item.get("uri")
        if data is None and uri is None:
            raise bad_request(f"{where}: a {kind} block needs 'data' (base64) or 'uri'")
        for key in ("data", "uri", "mime_type"):
            if item.get(key) is not None and not isinstance(item[key], str):
                raise bad_request(f"{where}: '{key}' must be a string")
    return dict(item)


def _content_list(value: Any, where: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):
        return [{"type": "text", "text": value}]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise bad_request(f"{where}: 'content' must be a list of content blocks")
    return [_content_block(b, f"{where}.content[{i}]") for i, b in enumerate(value)]


def _step(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise bad_request(f"{where}: a step must be an object")
    if is_legacy_turn(item):
        raise bad_request(LEGACY_MESSAGE)
    kind = item.get("type")
    if not isinstance(kind, str) or not kind:
        raise bad_request(f"{where}: a step needs a string 'type'")
    if kind not in STEP_TYPES:
        raise bad_request(
            f"{where}: unknown step or content type {kind!r}; content blocks are text, image, "
            "audio, video or document, and steps are user_input, model_output, thought, "
            "function_call, function_result or a built-in tool's call/result"
        )
    step = dict(item)
    if kind in ("user_input", "model_output"):
        step["content"] = _content_list(item.get("content"), where)
    elif kind == "function_call":
        for key in ("id", "name"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise bad_request(f"{where}: a function_call step needs a string '{key}'")
        args = item.get("arguments")
        if args is None:
            step["arguments"] = {}
        elif not isinstance(args, dict):
            raise bad_request(f"{where}: function_call 'arguments' must be a JSON object")
    elif kind == "function_result":
        if not isinstance(item.get("call_id"), str) or not item["call_id"]:
            raise bad_request(f"{where}: a function_result step needs a string 'call_id'")
        if item.get("name") is not None and not isinstance(item["name"], str):
            raise bad_request(f"{where}: function_result 'name' must be a string")
        if item.get("is_error") is not None and not isinstance(item["is_error"], bool):
            raise bad_request(f"{where}: function_result 'is_error' must be true or false")
    elif (
        kind == "thought"
        and item.get("signature") is not None
        and not isinstance(item["signature"], str)
    ):
        raise bad_request(f"{where}: thought 'signature' must be a string")
    return step


def normalize_input(value: Any) -> list[dict[str, Any]]:
    """The four input forms of protocol.md §4.1 as a list of steps."""
    if isinstance(value, str):
        return [{"type": "user_input", "content": [{"type": "text", "text": value}]}]
    if isinstance(value, dict):
        if is_legacy_turn(value):
            raise bad_request(LEGACY_MESSAGE)
        kind = _tag(value)
        if kind in CONTENT_TYPES or (value.get("type") is None and "text" in value):
            return [{"type": "user_input", "content": [_content_block(value, "input")]}]
        return [_step(value, "input")]
    if not isinstance(value, list):
        raise bad_request("input must be a string, a content block, or a list of blocks or steps")
    if not value:
        raise bad_request("input must not be empty")
    if any(is_legacy_turn(item) for item in value):
        raise bad_request(LEGACY_MESSAGE)
    is_content = [
        isinstance(item, dict)
        and (_tag(item) in CONTENT_TYPES or ("type" not in item and "text" in item))
        for item in value
    ]
    if all(is_content):
        blocks = [_content_block(item, f"input[{i}]") for i, item in enumerate(value)]
        return [{"type": "user_input", "content": blocks}]
    if any(is_content):
        raise bad_request("input mixes content blocks and steps; send one kind only")
    return [_step(item, f"input[{i}]") for i, item in enumerate(value)]


def check_function_results(input_steps: list[dict[str, Any]], pending: dict[str, str]) -> None:
    """400 when a ``function_result`` answers no pending call (protocol.md §11.14).

    ``pending`` maps the ids of calls awaiting a result to their function names; calls made
    earlier in ``input_steps`` itself (a stateless history) count as pending too.
    """
    open_calls = dict(pending)
    for i, step in enumerate(input_steps):
        kind = step.get("type")
        if kind == "function_call":
            open_calls[str(step["id"])] = str(step["name"])
        elif kind == "function_result":
            call_id = str(step["call_id"])
            if call_id not in open_calls:
                raise ApiError(
                    400,
                    f"input[{i}]: function_result call_id {call_id!r} matches no pending "
                    "function_call"
                    + (f" (pending: {', '.join(sorted(open_calls))})" if open_calls else ""),
                )
            del open_calls[call_id]


def pending_calls(steps: list[dict[str, Any]]) -> dict[str, str]:
    """``function_call`` steps with no ``function_result`` for their id: id → name."""
    answered = {str(s.get("call_id")) for s in steps if s.get("type") == "function_result"}
    return {
        str(s["id"]): str(s.get("name", ""))
        for s in steps
        if s.get("type") == "function_call" and "id" in s and str(s["id"]) not in answered
    }
