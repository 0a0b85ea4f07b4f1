"""What one turn shows: a reading of an interaction's steps that the UI and export share.

Works on plain JSON dicts (``Interaction.to_wire()`` or what the history stored), so unknown
step types are shown as raw JSON rather than failing (protocol.md §12 item 4).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from .attachments import wrapped_name
from .run_outcome import answered_by

BlockKind = Literal["text", "thought", "tool", "error", "media", "raw"]

STATUS_WORDS = {
    "in_progress": "Running…",
    "queued": "Queued — waiting for the server to start it.",
    "requires_action": "Waiting for you: the model asked for a function result.",
    "requires_continuation": "Paused at the server's output limit; continue to get the rest.",
    "incomplete": "Stopped early at the output token limit; raise “Max output tokens” to get more.",
    "budget_exceeded": "Stopped: the run reached its token or round budget.",
    "cancelled": "Stopped before it finished.",
    "failed": "The server reported a failure.",
}


@dataclass
class Block:
    """One piece of a turn: answer text, a thought, a tool card, an error, a media item."""

    kind: BlockKind
    text: str = ""
    name: str = ""
    arguments: Any = None
    result: Any = None
    is_error: bool = False
    pending: bool = False
    duration: float | None = None
    mime_type: str = ""
    raw: Any = None
    images: list[tuple[str, str]] = field(default_factory=list)
    """Images a tool returned, as ``(mime_type, base64 data)``, shown under its result."""
    annotations: list[dict[str, Any]] = field(default_factory=list)
    """A text block's citations (byte offsets into ``text``, see :mod:`.citations`)."""


@dataclass
class TurnView:
    """The blocks of one interaction, plus its status line and usage footer."""

    interaction_id: str
    status: str
    user_text: str = ""
    user_media: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    """The model that answered, as the server reported it (``model`` or ``agent_config.model``)."""

    @property
    def answer_text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks if b.kind == "text" and b.text)

    def status_words(self) -> str:
        return STATUS_WORDS.get(self.status, "")


def user_parts(input_steps: list[Any]) -> tuple[str, list[str]]:
    """The text and media labels of what the user sent."""
    texts: list[str] = []
    media: list[str] = []
    for step in input_steps:
        if not isinstance(step, dict):
            continue
        blocks = step.get("content") if step.get("type") == "user_input" else [step]
        if step.get("type") == "function_result":
            texts.append(f"Function result for {step.get('name') or step.get('call_id')}")
            continue
        for block in blocks or []:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text":
                text = str(block.get("text", ""))
                name = wrapped_name(text)
                if name is not None:
                    media.append(f"{name} (text)")
                else:
                    texts.append(text)
            elif block.get("type") in ("image", "audio", "video", "document"):
                media.append(f"{block.get('type')} ({block.get('mime_type', '?')})")
    return "\n\n".join(texts), media


def user_images(input_steps: list[Any]) -> list[tuple[str, str]]:
    """The inline images the user sent, as ``(mime_type, base64 data)`` (for thumbnails)."""
    out: list[tuple[str, str]] = []
    for step in input_steps:
        if not isinstance(step, dict) or step.get("type") != "user_input":
            continue
        for block in step.get("content") or []:
            if (
                isinstance(block, dict)
                and block.get("type") == "image"
                and isinstance(block.get("data"), str)
            ):
                out.append((str(block.get("mime_type") or "image/png"), block["data"]))
    return out


def _call_name(step: dict[str, Any]) -> str:
    kind = str(step.get("type", ""))
    if kind == "function_call":
        return str(step.get("name", "function"))
    if kind == "mcp_server_tool_call":
        return f"{step.get('server_name', 'mcp')}.{step.get('name', '')}"
    return kind.removesuffix("_call")


def _text_of(content: Any) -> str:
    if isinstance(content, list):
        return "".join(
            str(c.get("text", "")) for c in content if isinstance(c, dict) and "text" in c
        )
    return ""


def read_turn(
    data: dict[str, Any],
    input_steps: list[Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> TurnView:
    """Build the view of one interaction from its JSON and the input that was sent."""
    metrics = metrics or {}
    durations = [float(v) for v in (metrics.get("thought_seconds") or [])]
    steps = [s for s in (data.get("steps") or []) if isinstance(s, dict)]
    # Only the steps after the last echoed user input belong to the answer.
    last_user = max((i for i, s in enumerate(steps) if s.get("type") == "user_input"), default=-1)
    sent = input_steps if input_steps is not None else steps[: last_user + 1]
    user_text, user_media = user_parts(list(sent))
    view = TurnView(
        interaction_id=str(data.get("id", "")),
        status=str(data.get("status", "")),
        user_text=user_text,
        user_media=user_media,
        usage=dict(data.get("usage") or {}),
        model=answered_by(data) if data.get("model") or data.get("agent_config") else "",
    )
    calls: dict[str, Block] = {}
    for pos, step in enumerate(steps):
        if pos <= last_user:
            continue
        kind = str(step.get("type", ""))
        if kind == "model_output":
            for c in step.get("content") or []:
                if not isinstance(c, dict):
                    continue
                if c.get("type") == "text":
                    _append_text(view, str(c.get("text", "")), c.get("annotations"))
                elif c.get("type") in ("image", "audio", "video", "document"):
                    view.blocks.append(
                        Block("media", name=str(c.get("type")), mime_type=c.get("mime_type", ""))
                    )
            err = step.get("error")
            if isinstance(err, dict):
                view.blocks.append(Block("error", text=str(err.get("message", err))))
        elif kind == "thought":
            summary = _text_of(step.get("summary"))
            nth = sum(1 for b in view.blocks if b.kind == "thought")
            duration = durations[nth] if nth < len(durations) else None
            view.blocks.append(Block("thought", text=summary, duration=duration))
        elif kind.endswith("_call"):
            block = Block(
                "tool",
                name=_call_name(step),
                arguments=step.get("arguments"),
                pending=True,
                raw=step,
            )
            calls[str(step.get("id", ""))] = block
            view.blocks.append(block)
        elif kind.endswith("_result"):
            target = calls.get(str(step.get("call_id", "")))
            if target is not None:
                target.result, target.images = split_result(step.get("result"))
                target.is_error = bool(step.get("is_error"))
                target.pending = False
            else:
                view.blocks.append(Block("raw", name=kind, raw=step))
        elif kind == "user_input":
            continue
        else:
            view.blocks.append(Block("raw", name=kind or "unknown step", raw=step))
    # Server-run tools always produce results; a function call stays pending until answered.
    for block in calls.values():
        if block.pending and view.status not in ("requires_action", "in_progress", "queued", ""):
            block.pending = False
    for err in data.get("errors") or []:
        if isinstance(err, dict):
            view.blocks.append(Block("error", text=_error_words(err)))
    return view


def split_result(result: Any) -> tuple[Any, list[tuple[str, str]]]:
    """A tool result as (what to show as text or JSON, the images it holds).

    ``code_execution_result.result`` (and function/MCP results) may be a list of content
    blocks: its text blocks are joined and its inline images returned apart so the view can
    draw them. Any other list or value is returned unchanged, to be shown as JSON.
    """
    if not (
        isinstance(result, list)
        and result
        and all(isinstance(b, dict) and isinstance(b.get("type"), str) for b in result)
        and any(b.get("type") in ("text", "image") for b in result)
    ):
        return result, []
    texts: list[str] = []
    images: list[tuple[str, str]] = []
    for block in result:
        kind = block["type"]
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif kind == "image" and isinstance(block.get("data"), str):
            images.append((str(block.get("mime_type") or "image/png"), block["data"]))
        else:
            texts.append(f"[{kind} · {block.get('mime_type') or block.get('uri') or '?'}]")
    return "\n".join(texts), images


def _append_text(view: TurnView, text: str, annotations: Any = None) -> None:
    """Consecutive text blocks read as one; their annotations' byte offsets move along."""
    notes = [a for a in annotations or [] if isinstance(a, dict)]
    if view.blocks and view.blocks[-1].kind == "text":
        block = view.blocks[-1]
        shift = len(block.text.encode("utf-8"))
        block.text += text
    else:
        block, shift = Block("text", text=text), 0
        view.blocks.append(block)
    for note in notes:
        moved = dict(note)
        for key in ("start_index", "end_index"):
            if isinstance(moved.get(key), int):
                moved[key] += shift
        block.annotations.append(moved)


def _error_words(err: dict[str, Any]) -> str:
    code = str(err.get("code", "")).strip()
    message = str(err.get("message", "")).strip() or "no details were given"
    return f"{message} ({code})" if code else message


def pretty_json(value: Any) -> str:
    if isinstance(value, str):
        text = value
        try:
            value = json.loads(text)
        except ValueError:
            return text
    return json.dumps(value, indent=2, ensure_ascii=False)


def usage_line(
    usage: dict[str, Any], metrics: dict[str, Any] | None = None, *, ended: bool = True
) -> str:
    """The footer under an answer: tokens, time to first token, tokens per second.

    A turn still running (``ended`` False) gets no rate and no total time: the figures are
    those of its last event and would stand still ("0.4 s total" under "Waiting for the first
    token…") until the next one.
    """
    metrics = metrics or {}
    parts: list[str] = []
    tin = usage.get("total_input_tokens")
    tout = usage.get("total_output_tokens")
    if tin is not None:
        parts.append(f"{tin} in")
    if tout is not None:
        parts.append(f"{tout} out")
    thought = usage.get("total_thought_tokens")
    if thought:
        parts.append(f"{thought} thinking")
    ttft = metrics.get("ttft")
    if isinstance(ttft, int | float):
        parts.append(f"first token {ttft:.2f} s")
    elapsed = metrics.get("generation_seconds")
    if (
        ended
        and isinstance(tout, int)
        and tout
        and isinstance(elapsed, int | float)
        and elapsed > 0
    ):
        parts.append(f"{tout / elapsed:.1f} tok/s")
    total = metrics.get("elapsed")
    if ended and isinstance(total, int | float):
        parts.append(f"{total:.1f} s total")
    shared = metrics.get("shared_runs")
    if isinstance(shared, int) and shared > 0:
        runs = "run" if shared == 1 else "runs"
        parts.append(f"slower: the engine was also working on {shared} background {runs}")
    return " · ".join(parts)


def grouped_blocks(blocks: list[Block]) -> list[tuple[int, list[Block]]]:
    """The blocks with each run of consecutive thoughts gathered, by index of its first.

    The transcript shows such a run as one "Thoughts (N)" row and the Markdown export as one
    ``<details>``, so both read the same.
    """
    groups: list[tuple[int, list[Block]]] = []
    for n, block in enumerate(blocks):
        if block.kind == "thought" and groups and groups[-1][1][-1].kind == "thought":
            groups[-1][1].append(block)
        else:
            groups.append((n, [block]))
    return groups


def thoughts_label(thoughts: list[Block]) -> str:
    """A run of thoughts' heading: "Thought for 3.2 s (2)" when timed, else "Thoughts (2)"."""
    durations = [b.duration for b in thoughts]
    count = f" ({len(thoughts)})" if len(thoughts) > 1 else ""
    if all(d is not None for d in durations):
        total = sum(d for d in durations if d is not None)
        return f"Thought for {total:.1f} s{count}"
    return f"Thoughts{count}"
