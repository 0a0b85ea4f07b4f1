"""Tool-call and JSON-output helpers shared by the model backends (pure code, no I/O).

* ``parse_call``: a call's JSON text → ``(name, arguments)``, or ``None`` when malformed.
* ``ToolCallParser``: splits a streamed answer in the Qwen2.5 / Hermes convention into text,
  thoughts (``<think>…</think>`` at the start) and calls (``<tool_call>{…}</tool_call>``);
  malformed call text falls back to text.
* ``StopFilter``: applies stop sequences to streamed text, holding back a possible prefix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, Literal

TOOL_CALL_OPEN = "<tool_call>"
TOOL_CALL_CLOSE = "</tool_call>"
THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"

# ---------------------------------------------------------------------------------------------
# parsing calls


def parse_call(
    text: str, allowed: Collection[str] | None = None
) -> tuple[str, dict[str, Any]] | None:
    """``(name, arguments)`` from a call's JSON text, or ``None`` when it is not a valid call.

    Accepts ``{"name": str, "arguments": {...}}``; ``arguments`` may also be a JSON string of
    an object or be missing (→ ``{}``), and ``parameters`` is taken as an alias. Only trailing
    whitespace may follow the object. With ``allowed``, the name must be one of them.
    """
    body = text.strip()
    if not body.startswith("{"):
        return None
    try:
        obj, end = json.JSONDecoder().raw_decode(body)
    except ValueError:
        return None
    if body[end:].strip() or not isinstance(obj, dict):
        return None
    name = obj.get("name")
    if not isinstance(name, str) or not name:
        return None
    if allowed is not None and name not in allowed:
        return None
    args: Any = obj.get("arguments", obj.get("parameters", {}))
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except ValueError:
            return None
    if args is None:
        args = {}
    if not isinstance(args, dict):
        return None
    return name, args


_FENCE = "```"
_Verdict = Literal["match", "partial", "no"]


def _skip_fence(buf: str) -> tuple[_Verdict, int]:
    """Skip an opening Markdown code fence (```` ``` ```` or ```` ```json ````) at the start."""
    if not buf.startswith(_FENCE):
        return ("partial", 0) if _FENCE.startswith(buf) else ("match", 0)
    i = len(_FENCE)
    while i < len(buf) and buf[i].isalpha():
        i += 1
    if i == len(buf):
        return "partial", i
    return (
        ("match", i)
        if buf[i].isspace() and buf[len(_FENCE) : i].lower() in ("", "json")
        else (
            "no",
            i,
        )
    )


def _bare_call_name(buf: str) -> tuple[_Verdict, str]:
    """Whether ``buf`` starts like ``{"name": "<name>"`` (whitespace and an opening code fence
    allowed before it), and the name."""
    verdict, i = _skip_fence(buf)
    if verdict != "match":
        return verdict, ""
    for literal in ("{", '"name"', ":", '"'):
        while i < len(buf) and buf[i].isspace():
            i += 1
        part = buf[i : i + len(literal)]
        if part != literal:
            partial = literal.startswith(part) and i + len(part) == len(buf)
            return ("partial" if partial else "no"), ""
        i += len(literal)
    end = buf.find('"', i)
    if end < 0:
        return ("no", "") if "\\" in buf[i:] or len(buf) - i > 128 else ("partial", "")
    return "match", buf[i:end]


def _strip_fence(body: str) -> str:
    """A bare call's JSON without a surrounding Markdown code fence."""
    text = body.strip()
    if text.startswith(_FENCE):
        text = re.sub(r"^[A-Za-z0-9_+-]*[ \t]*\n?", "", text[len(_FENCE) :], count=1).strip()
        if text.endswith(_FENCE):
            text = text[: -len(_FENCE)].rstrip()
    return text


def _held_prefix(buf: str, tags: Iterable[str]) -> int:
    """Length of the longest suffix of ``buf`` that is a proper prefix of one of ``tags``."""
    best = 0
    for tag in tags:
        for n in range(min(len(tag) - 1, len(buf)), best, -1):
            if buf.endswith(tag[:n]):
                best = n
                break
    return best


@dataclass(frozen=True)
class TextPart:
    """Answer text."""

    text: str


@dataclass(frozen=True)
class ThoughtPart:
    """Reasoning text (inside ``<think>…</think>`` at the start of the answer)."""

    text: str


@dataclass(frozen=True)
class CallOpened:
    """A call just opened: a grammar-capable caller may now constrain the rest of it.

    ``bare`` means the answer began with a call's JSON without the ``<tool_call>`` tag (small
    models do that); nothing of the answer has been given out yet, so a caller may rewind and
    restart the call under a grammar after a ``<tool_call>`` prefix.
    """

    bare: bool = False


@dataclass(frozen=True)
class CallPart:
    """A complete, parsed call."""

    name: str
    arguments: dict[str, Any]


ParsedPart = TextPart | ThoughtPart | CallOpened | CallPart


class ToolCallParser:
    """Incremental parser of a streamed answer (Qwen2.5 / Hermes tool-call convention).

    Feed it text pieces as they come; it returns what can be told apart so far, holding back
    only text that might be the start of a tag. In ``calls`` mode, ``<tool_call>{json}
    </tool_call>`` blocks become ``CallPart``s; a block that does not parse (or names a
    function not in ``allowed``) is given back as text, tags included. Whitespace around calls
    is dropped. ``<think>…</think>`` at the very start becomes ``ThoughtPart``s.
    """

    def __init__(
        self,
        *,
        calls: bool,
        allowed: Collection[str] | None = None,
        think: bool = True,
        in_call: bool = False,
    ) -> None:
        self._calls = calls
        self._allowed = None if allowed is None else frozenset(allowed)
        self._state: Literal["start", "think", "text", "call"] = "call" if in_call else "start"
        self._bare = False  # the open call had no <tool_call> tag
        if not think and self._state == "start":
            self._state = "text"
        self._buf = ""
        self._call_buf = ""
        self._ws = ""  # whitespace held after a call
        self._after_call = False  # a call just ended, only whitespace since
        self.calls_made = 0

    @property
    def in_call(self) -> bool:
        """Whether a ``<tool_call>`` is open."""
        return self._state == "call"

    @property
    def pending_call_text(self) -> str:
        """Text of the open call received so far (after the tag)."""
        return self._call_buf + self._buf if self._state == "call" else ""

    def discard_call_text(self) -> None:
        """Forget the open call's text so far (the caller decodes the call itself)."""
        self._call_buf = ""
        self._buf = ""

    def feed(self, text: str) -> list[ParsedPart]:
        """Parts that are certain after adding ``text``."""
        out: list[ParsedPart] = []
        self._buf += text
        while self._buf:
            if self._state == "start":
                stripped = self._buf.lstrip()
                if stripped.startswith(THINK_OPEN):
                    self._buf = stripped[len(THINK_OPEN) :]
                    self._state = "think"
                    continue
                if stripped == "" or THINK_OPEN.startswith(stripped):
                    return out  # still could be "<think>"
                if self._calls and stripped[:1] in ("{", "`"):
                    verdict, name = _bare_call_name(stripped)
                    if verdict == "partial":
                        return out
                    if verdict == "match" and (self._allowed is None or name in self._allowed):
                        self._state = "call"
                        self._bare = True
                        self._call_buf = ""
                        out.append(CallOpened(bare=True))
                        continue
                self._state = "text"
                continue
            if self._state == "think":
                idx = self._buf.find(THINK_CLOSE)
                if idx >= 0:
                    if idx:
                        out.append(ThoughtPart(self._buf[:idx]))
                    self._buf = self._buf[idx + len(THINK_CLOSE) :].lstrip()
                    self._state = "text"
                    continue
                keep = _held_prefix(self._buf, (THINK_CLOSE,))
                if len(self._buf) > keep:
                    out.append(ThoughtPart(self._buf[: len(self._buf) - keep]))
                    self._buf = self._buf[len(self._buf) - keep :]
                return out
            if self._state == "text":
                if not self._calls:
                    self._emit_text(out, self._buf)
                    self._buf = ""
                    return out
                if self._after_call:  # a model that wrote a bare call writes the next one so
                    verdict = self._bare_start(self._buf.lstrip())
                    if verdict == "partial":
                        return out
                    if verdict == "match":
                        self._buf = self._buf.lstrip()
                        self._state = "call"
                        self._bare = True
                        self._call_buf = ""
                        self._ws = ""
                        self._after_call = False
                        out.append(CallOpened(bare=True))
                        continue
                idx = self._buf.find(TOOL_CALL_OPEN)
                if idx >= 0:
                    self._emit_text(out, self._buf[:idx])
                    self._buf = self._buf[idx + len(TOOL_CALL_OPEN) :]
                    self._state = "call"
                    self._call_buf = ""
                    self._ws = ""
                    out.append(CallOpened())
                    continue
                keep = _held_prefix(self._buf, (TOOL_CALL_OPEN,))
                self._emit_text(out, self._buf[: len(self._buf) - keep])
                self._buf = self._buf[len(self._buf) - keep :]
                return out
            # state == "call"
            self._call_buf += self._buf
            self._buf = ""
            idx = self._call_buf.find(TOOL_CALL_CLOSE)
            if idx < 0:
                return out
            rest = self._call_buf[idx + len(TOOL_CALL_CLOSE) :]
            out.extend(self.complete_call(self._call_buf[:idx]))
            self._buf = rest
        return out

    def _bare_start(self, stripped: str) -> _Verdict:
        """Whether text after a call starts a bare call (``partial``: cannot tell yet)."""
        if not stripped:
            return "partial"
        if stripped[:1] not in ("{", "`"):
            return "no"
        verdict, name = _bare_call_name(stripped)
        if verdict == "match" and self._allowed is not None and name not in self._allowed:
            return "no"
        return verdict

    def complete_call(self, body: str) -> list[ParsedPart]:
        """Close the open call with JSON ``body`` (the text between the tags)."""
        self._state = "text"
        self._call_buf = ""
        bare, self._bare = self._bare, False
        parsed = parse_call(_strip_fence(body) if bare else body, self._allowed)
        if parsed is None:
            return [TextPart(body + TOOL_CALL_CLOSE if bare else self._raw_call(body, closed=True))]
        self.calls_made += 1
        self._after_call = True
        return [CallPart(parsed[0], parsed[1])]

    @staticmethod
    def _raw_call(body: str, *, closed: bool) -> str:
        return TOOL_CALL_OPEN + body + (TOOL_CALL_CLOSE if closed else "")

    def _emit_text(self, out: list[ParsedPart], text: str) -> None:
        if not text:
            return
        if self.calls_made:
            if not text.strip():
                self._ws += text
                return
            text, self._ws = self._ws + text, ""
        self._after_call = False
        out.append(TextPart(text))

    def finish(self) -> list[ParsedPart]:
        """Everything still held, at the end of the stream. An unclosed call is parsed as it
        is (models often stop right after the JSON) and given back as text if it does not
        parse."""
        out: list[ParsedPart] = []
        if self._state == "call":
            body = self._call_buf + self._buf
            self._buf = ""
            self._state = "text"
            bare, self._bare = self._bare, False
            parsed = parse_call(_strip_fence(body) if bare else body, self._allowed)
            if parsed is not None:
                self.calls_made += 1
                out.append(CallPart(parsed[0], parsed[1]))
            else:
                out.append(TextPart(body if bare else self._raw_call(body, closed=False)))
            return out
        if self._state == "think":
            if self._buf:
                out.append(ThoughtPart(self._buf))
        elif self._buf:
            if self._state == "start" and not self._buf.strip():
                pass
            else:
                self._emit_text(out, self._buf)
        self._buf = ""
        return out


# ---------------------------------------------------------------------------------------------
# stop sequences


class StopFilter:
    """Cuts streamed text at the first stop sequence, holding back a possible prefix of one."""

    def __init__(self, stops: Iterable[str]) -> None:
        self._stops = tuple(s for s in stops if s)
        self._pending = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """Text that is safe to emit; sets ``stopped`` when a stop sequence was found."""
        if self.stopped:
            return ""
        if not self._stops:
            return text
        buf = self._pending + text
        hits = [i for i in (buf.find(s) for s in self._stops) if i >= 0]
        if hits:
            self.stopped = True
            self._pending = ""
            return buf[: min(hits)]
        keep = _held_prefix(buf, self._stops)
        self._pending = buf[len(buf) - keep :] if keep else ""
        return buf[: len(buf) - keep]

    def flush(self) -> str:
        """The held-back text, at the end of the stream."""
        text, self._pending = ("" if self.stopped else self._pending), ""
        return text
