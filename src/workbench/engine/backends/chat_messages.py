"""Chat messages as OpenAI-style dicts, for chat templates and OpenAI-compatible servers."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from workbench.engine.backends.base import Message


def image_mime(data: bytes) -> str:
    """The MIME type of image bytes, from their magic number (``image/png`` when unknown)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"GIF8"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/png"


def chat_dicts(
    messages: Sequence[Message],
    *,
    arguments_as_text: bool,
    system_extra: str = "",
    images: bool = False,
) -> list[dict[str, Any]]:
    """OpenAI-style chat messages for ``messages``.

    System messages are merged into one leading system message (chat templates want it
    first), with ``system_extra`` appended. Call arguments are a JSON string when
    ``arguments_as_text`` (the OpenAI wire format) or a dict (what chat templates expect).
    With ``images``, user images become ``image_url`` data-URL parts.
    """
    system = "\n\n".join(m.text for m in messages if m.role == "system" and m.text)
    if system_extra:
        system = f"{system}\n\n{system_extra}" if system else system_extra
    out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for m in messages:
        if m.role == "system":
            continue
        if m.role == "assistant":
            entry: dict[str, Any] = {"role": "assistant", "content": m.text}
            if m.tool_calls:
                entry["tool_calls"] = [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {
                            "name": call.name,
                            "arguments": (
                                json.dumps(call.arguments, ensure_ascii=False)
                                if arguments_as_text
                                else call.arguments
                            ),
                        },
                    }
                    for call in m.tool_calls
                ]
                if arguments_as_text and not m.text:
                    entry["content"] = None
            out.append(entry)
        elif m.role == "tool":
            entry = {"role": "tool", "content": m.text, "tool_call_id": m.tool_call_id or ""}
            if m.name:
                entry["name"] = m.name
            out.append(entry)
        elif images and m.images:
            parts: list[dict[str, Any]] = []
            if m.text:
                parts.append({"type": "text", "text": m.text})
            for data in m.images:
                url = f"data:{image_mime(data)};base64,{base64.b64encode(data).decode('ascii')}"
                parts.append({"type": "image_url", "image_url": {"url": url}})
            out.append({"role": "user", "content": parts})
        else:
            out.append({"role": "user", "content": m.text})
    return out
