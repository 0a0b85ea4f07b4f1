"""Export a session: Markdown for people, a JSON trace for machines.

Markdown folds thoughts and tool calls into ``<details>`` blocks and lists attachments with
name, type and sha256. The JSON trace keeps every request and interaction of the shown branch
with ids, target, parameters, attachment hashes and metrics; inline base64 data is replaced by
its sha256 and size unless ``include_data`` is set.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import json
import re
import time
from typing import Any

from .attachments import human_size
from .citations import export_markdown
from .conversation import ConversationTree
from .history import HistoryStore, InteractionRecord, SessionInfo
from .transcript import (
    Block,
    TurnView,
    grouped_blocks,
    pretty_json,
    read_turn,
    thoughts_label,
    usage_line,
)

TRACE_FORMAT = "workbench.trace/1"


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _fence(text: str, lang: str = "") -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{lang}\n{text}\n{ticks}"


def _block_markdown(block: Block) -> str:
    if block.kind == "text":
        # A cited answer keeps its references: numbered list and link definitions.
        return export_markdown(block.text, block.annotations).rstrip("\n")
    if block.kind == "tool":
        status = " (error)" if block.is_error else ""
        if block.pending:
            status = " (waiting for a result)"
        parts = [
            "<details>",
            f"<summary>Tool call: {html.escape(block.name)}{status}</summary>",
            "",
            "Arguments:",
            "",
            _fence(pretty_json(block.arguments if block.arguments is not None else {}), "json"),
        ]
        if block.result is not None:
            parts += ["", "Result:", "", _fence(pretty_json(block.result), "json")]
        for mime, data in block.images:
            parts += ["", f"![tool image]({_data_uri(mime, data)})"]
        parts += ["", "</details>"]
        return "\n".join(parts)
    if block.kind == "error":
        return f"> **Error:** {block.text}"
    if block.kind == "media":
        return f"_[{block.name} output, {block.mime_type or 'unknown type'}]_"
    return "<details>\n<summary>{}</summary>\n\n{}\n\n</details>".format(
        html.escape(block.name), _fence(pretty_json(block.raw), "json")
    )


def _thoughts_markdown(thoughts: list[Block]) -> str:
    """A run of consecutive thoughts as one fold, summaries in order (as the transcript)."""
    body = "\n\n---\n\n".join(b.text or "_(no summary)_" for b in thoughts)
    return f"<details>\n<summary>{thoughts_label(thoughts)}</summary>\n\n{body}\n\n</details>"


def turn_markdown(
    view: TurnView, record: InteractionRecord | None = None, *, usage: bool = True
) -> str:
    """One model answer as Markdown.

    "Copy as Markdown" passes ``usage=False``: what is pasted elsewhere is the answer, not
    the app's token counts (the session export keeps them, as a record of the run).
    """
    parts = [
        _thoughts_markdown(group) if group[0].kind == "thought" else _block_markdown(group[0])
        for _, group in grouped_blocks(view.blocks)
    ]
    if view.status and view.status not in ("completed", "in_progress"):
        words = view.status_words()
        parts.append(f"_Status: {view.status}{' — ' + words if words else ''}_")
    footer = usage_line(view.usage, record.metrics if record else None) if usage else ""
    if footer:
        parts.append(f"<sub>{footer}</sub>")
    return "\n\n".join(p for p in parts if p)


def session_markdown(store: HistoryStore, session: SessionInfo) -> str:
    """The shown branch of a session as a Markdown document."""
    tree = ConversationTree(store.interactions(session.id))
    path = tree.path(session.leaf_id)
    title = session.title or "Untitled session"
    lines = [
        f"# {title}",
        "",
        f"- Session: `{session.id}`",
        f"- Created: {_iso(session.created)}",
        f"- Exported: {_iso(time.time())}",
    ]
    if path:
        lines.append(f"- Target: `{path[-1].target}`")
    lines.append("")
    for n, rec in enumerate(path, start=1):
        view = read_turn(rec.data, rec.input, rec.metrics)
        lines += [f"## {n}. You", ""]
        if view.user_text:
            lines += [view.user_text, ""]
        if rec.attachments:
            lines += ["Attachments:", ""]
            for att in rec.attachments:
                lines.append(
                    f"- `{att.name}` — {att.mime_type}, {human_size(att.size)}, "
                    f"{att.sent_as}, sha256 `{att.sha256}`"
                )
            lines.append("")
        pos = tree.position(rec.id)
        branch = f" (branch {pos.index} of {pos.count})" if pos.count > 1 else ""
        lines += [f"## {n}. {rec.target or 'Model'}{branch}", "", f"<!-- interaction {rec.id} -->"]
        lines += ["", turn_markdown(view, rec), ""]
    return "\n".join(lines).rstrip() + "\n"


def _strip_data(value: Any) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "data" and isinstance(item, str) and len(item) > 64:
                try:
                    raw = base64.b64decode(item, validate=True)
                except (binascii.Error, ValueError):
                    out[key] = item
                    continue
                out["data_sha256"] = hashlib.sha256(raw).hexdigest()
                out["data_bytes"] = len(raw)
            else:
                out[key] = _strip_data(item)
        return out
    if isinstance(value, list):
        return [_strip_data(v) for v in value]
    return value


def session_trace(
    store: HistoryStore, session: SessionInfo, *, include_data: bool = False
) -> dict[str, Any]:
    """The shown branch of a session as a JSON-ready trace."""
    tree = ConversationTree(store.interactions(session.id))
    turns = []
    for rec in tree.path(session.leaf_id):
        turn: dict[str, Any] = {
            "interaction_id": rec.id,
            "previous_interaction_id": rec.parent_id,
            "created": _iso(rec.created),
            "target": rec.target,
            "status": rec.status,
            "request": rec.request,
            "input": rec.input,
            "attachments": [
                {
                    "name": a.name,
                    "mime_type": a.mime_type,
                    "size": a.size,
                    "sha256": a.sha256,
                    "sent_as": a.sent_as,
                }
                for a in rec.attachments
            ],
            "interaction": rec.data,
            "metrics": rec.metrics,
        }
        turns.append(turn if include_data else _strip_data(turn))
    return {
        "format": TRACE_FORMAT,
        "exported": _iso(time.time()),
        "session": {
            "id": session.id,
            "title": session.title,
            "created": _iso(session.created),
            "pinned": session.pinned,
            "profile": session.profile,
        },
        "turns": turns,
    }


def session_json(store: HistoryStore, session: SessionInfo, *, include_data: bool = False) -> str:
    trace = session_trace(store, session, include_data=include_data)
    return json.dumps(trace, indent=2, ensure_ascii=False) + "\n"


def _data_uri(mime: str, data: str) -> str:
    """An inline image for Markdown: a tool's image stays with the export, no side files."""
    kind = mime if re.fullmatch(r"image/[A-Za-z0-9.+-]+", mime) else "image/png"
    return f"data:{kind};base64,{''.join(data.split())}"
