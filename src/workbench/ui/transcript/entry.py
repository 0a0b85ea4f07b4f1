"""What the transcript shows, as HTML: a turn entry and the pieces drawn around the turns.

Kept apart from the widget (view.py), which only decides which frames of its document to
redraw and when; everything here is a pure function of an entry, the render state and the
theme, so a turn looks the same wherever it is drawn.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QWidget

from workbench.core.transcript import read_turn

from .render import DARK, RenderState, Theme, TurnHtmlInput, error_html, turn_html


@dataclass
class TurnEntry:
    """One turn to show: what was sent, the last snapshot, and where it sits in its branch."""

    interaction_id: str | None
    input_steps: list[Any]
    data: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    target: str = ""
    branch_index: int = 1
    branch_count: int = 1
    attachments: list[str] = field(default_factory=list)
    live: bool = False
    error: str | None = None


def theme_for(widget: QWidget) -> Theme:
    """The dark theme on a dark palette, else the light one."""
    base = widget.palette().color(QPalette.ColorRole.Base)
    return DARK if base.lightness() < 128 else Theme()


def wrap(body: str, theme: Theme, size: int) -> str:
    """One frame's HTML: the body in the theme's text colour at ``size`` points."""
    return f'<div style="color:{theme.text}; font-size:{size}pt">{body}</div>'


def entry_body(entry: TurnEntry, state: RenderState, theme: Theme, *, editing: bool) -> str:
    """A turn's HTML (unwrapped), read from its last snapshot."""
    view = read_turn(entry.data, entry.input_steps, entry.metrics)
    if entry.interaction_id and not view.interaction_id:
        view.interaction_id = entry.interaction_id
    return turn_html(
        TurnHtmlInput(
            view=view,
            target=entry.target,
            metrics=entry.metrics,
            branch_index=entry.branch_index,
            branch_count=entry.branch_count,
            live=entry.live,
            error=entry.error,
            attachments=entry.attachments,
            input_steps=entry.input_steps,
            editing=editing,
        ),
        state,
        theme,
    )


def earlier_body(count: int, theme: Theme) -> str:
    """The "Show earlier turns" line above the first page."""
    label = f"Show {count} earlier turn{'s' if count != 1 else ''}"
    return (
        f'<p align="center" style="color:{theme.muted}">'
        f'<a href="wb:earlier/" style="color:{theme.link}; text-decoration:none">'
        f"▴ {label}</a> · or scroll up</p>"
    )


def notice_body(text: str, theme: Theme, *, problem: bool, details: str, state: RenderState) -> str:
    """The line under the turns: a muted hint, or an error with its details fold."""
    if problem:
        return error_html(text, theme, details, state)
    return f'<p style="color:{theme.muted}"><i>{html.escape(text)}</i></p>'


def welcome_body(theme: Theme, accepts: str) -> str:
    """The empty transcript's invitation, naming what the target reads."""
    return (
        f'<div style="color:{theme.muted}; margin-top:40px" align="center">'
        '<p style="font-size:large">Start a conversation</p>'
        "<p>Type below and press <b>Enter</b> to send · <b>Shift+Enter</b> for a new line"
        f" · <b>Esc</b> stops a response.<br>Attach {html.escape(accepts)}"
        " with <b>+</b>, drag-and-drop or paste.</p></div>"
    )
