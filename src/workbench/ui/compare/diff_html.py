"""The two final answers as HTML, their differences highlighted (no Qt needed here).

The left answer marks what only it has (red, struck through); the right answer marks what
only it has (green). Every piece of text is escaped: answers are a model's words.
"""

from __future__ import annotations

import html
from typing import Literal

from workbench.core.compare import DiffPiece

from ..transcript.render import Theme

Side = Literal["left", "right"]

REMOVED_BG, REMOVED_BG_DARK = "#ffd7d5", "#5d1f24"
ADDED_BG, ADDED_BG_DARK = "#ccf2d4", "#1b4a2a"


def _esc(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def diff_html(pieces: list[DiffPiece], side: Side, theme: Theme, *, dark: bool = False) -> str:
    """One side's answer with the stretches the other side lacks highlighted."""
    if side == "left":
        bg, extra = (REMOVED_BG_DARK if dark else REMOVED_BG), "text-decoration:line-through;"
    else:
        bg, extra = (ADDED_BG_DARK if dark else ADDED_BG), ""
    out: list[str] = []
    for piece in pieces:
        text = piece.left if side == "left" else piece.right
        if not text:
            continue
        if piece.tag == "equal":
            out.append(_esc(text))
        else:
            out.append(f'<span style="background:{bg}; {extra}">{_esc(text)}</span>')
    body = "".join(out) or f'<i style="color:{theme.muted}">(no answer text)</i>'
    return f'<div style="color:{theme.text}; white-space:pre-wrap">{body}</div>'


def diff_summary(pieces: list[DiffPiece], similarity: float) -> str:
    """Plain words over the diff: how many stretches differ and how alike the answers are."""
    changed = sum(1 for p in pieces if p.tag != "equal")
    if not pieces:
        return "Neither side has an answer text."
    if changed == 0:
        return "The final answers are identical."
    stretches = "stretch differs" if changed == 1 else "stretches differ"
    return f"{changed} {stretches} · {similarity:.0%} alike"
