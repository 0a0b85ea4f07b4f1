"""Turn views to the HTML subset QTextBrowser understands (no Qt needed here).

Markdown goes through ``markdown`` with raw HTML disabled (model output is text, never
markup we trust) and code highlighted by pygments with inline styles. Actions are links with
the ``wb:`` scheme that the view handles itself.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

import markdown

from workbench.core.citations import Citation, linked_markdown
from workbench.core.transcript import (
    Block,
    TurnView,
    grouped_blocks,
    pretty_json,
    thoughts_label,
    usage_line,
    user_images,
)

_PRE_END = re.compile(r"\n+</code></pre>")
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})[^\n]*\n(?P<code>.*?)^(?P=fence)\s*$", re.M | re.S)


@dataclass(frozen=True)
class Theme:
    """Colours taken from the palette so light and dark themes both read well."""

    text: str = "#1f2328"
    muted: str = "#656d76"
    user_bg: str = "#eef2f8"
    card_bg: str = "#f6f8fa"
    border: str = "#d0d7de"
    link: str = "#0969da"
    error_bg: str = "#ffebe9"
    error_text: str = "#82071e"
    code_style: str = "default"


DARK = Theme(
    text="#e6edf3",
    muted="#9198a1",
    user_bg="#1d2633",
    card_bg="#161b22",
    border="#30363d",
    link="#4493f8",
    error_bg="#3d1e20",
    error_text="#ffa198",
    code_style="monokai",
)


@dataclass
class RenderState:
    """What the view remembers between repaints: open folds, copyable code, tool images.

    ``images`` maps the ``wb-image:`` names used in ``<img>`` tags to ``(mime, base64)``;
    the view resolves them (``TranscriptView.loadResource``), so no bytes sit in the HTML.
    """

    expanded: set[str] = field(default_factory=set)
    code: dict[str, str] = field(default_factory=dict)
    images: dict[str, tuple[str, str]] = field(default_factory=dict)
    citations: dict[str, Citation] = field(default_factory=dict)
    """``wb:cite/`` link names → the citation they open."""


IMAGE_SCHEME = "wb-image"
IMAGE_WIDTH = 360
"""Width (pixels) tool result images are drawn at; the view keeps their aspect ratio."""
THUMB_HEIGHT = 96
"""Height (pixels) of the thumbnails of images the user sent."""


def _images_html(
    images: list[tuple[str, str]],
    key: str,
    state: RenderState,
    size: str = f'width="{IMAGE_WIDTH}"',
    sep: str = "<br>",
) -> str:
    cells: list[str] = []
    for n, image in enumerate(images):
        name = f"{key}-img{n}"
        state.images[name] = image
        cells.append(f'<img src="{IMAGE_SCHEME}:{name}" {size}>')
    return sep.join(cells)


def _user_media_html(turn: TurnHtmlInput, iid: str, state: RenderState, theme: Theme) -> str:
    """The files of a user turn: thumbnails of inline images, then one line per file."""
    out = ""
    images = user_images(turn.input_steps)
    if images:
        thumbs = _images_html(images, f"{iid}-user", state, f'height="{THUMB_HEIGHT}"', " ")
        out += f"<br>{thumbs}"
    chips = turn.attachments or turn.view.user_media
    if chips:
        lines = "<br>".join(_esc(c) for c in chips)
        out += f'<br><span style="color:{theme.muted}">Attached:<br>{lines}</span>'
    return out


_MD_CACHE: dict[str, markdown.Markdown] = {}


def _markdown(style: str) -> markdown.Markdown:
    md = _MD_CACHE.get(style)
    if md is None:
        md = markdown.Markdown(
            extensions=["fenced_code", "codehilite", "tables", "sane_lists"],
            extension_configs={
                "codehilite": {"noclasses": True, "guess_lang": False, "pygments_style": style}
            },
        )
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        _MD_CACHE[style] = md
    return md


def markdown_html(text: str, key: str, state: RenderState, theme: Theme) -> str:
    """Markdown to HTML, with a Copy link above every code block."""
    md = _markdown(theme.code_style)
    md.reset()
    # pygments ends the block with a newline inside <pre>: QTextBrowser draws it as an extra
    # empty line on the code background.
    body = _PRE_END.sub("</code></pre>", md.convert(text))
    codes = [m.group("code").rstrip("\n") for m in _FENCE.finditer(text)]
    parts = body.split('<div class="codehilite"')
    out = [parts[0]]
    for n, rest in enumerate(parts[1:]):
        link = ""
        if n < len(codes):
            code_key = f"{key}-{n}"
            state.code[code_key] = codes[n]
            link = (
                f'<p align="right" style="margin:0"><a href="wb:copy-code/{code_key}" '
                f'style="color:{theme.link}; text-decoration:none">Copy code</a></p>'
            )
        out.append(f'{link}<div class="codehilite"{rest}')
    return "".join(out)


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _pre(text: str, theme: Theme) -> str:
    return (
        f'<pre style="background:{theme.card_bg}; margin:2px 0 6px 0; '
        f'white-space:pre-wrap">{_esc(text)}</pre>'
    )


def _short(value: Any, limit: int = 90) -> str:
    text = " ".join(pretty_json(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fold_link(key: str, label: str, open_: bool, theme: Theme) -> str:
    arrow = "▾" if open_ else "▸"
    return (
        f'<a href="wb:toggle/{key}" style="color:{theme.muted}; text-decoration:none">'
        f"{arrow} {_esc(label)}</a>"
    )


def _thought_label(thoughts: list[Block], thinking: bool) -> str:
    return "Thinking…" if thinking else thoughts_label(thoughts)


def thoughts_html(
    thoughts: list[Block], key: str, thinking: bool, state: RenderState, theme: Theme
) -> str:
    """Consecutive thought summaries as one fold: a single "Thoughts" row, not one per step.

    Opened (or while the model is still thinking), the summaries follow in order with a rule
    between them.
    """
    open_ = thinking or key in state.expanded
    head = _fold_link(key, _thought_label(thoughts, thinking), open_, theme)
    body = ""
    if open_:
        summaries = [
            _esc(b.text).replace("\n", "<br>") if b.text else "<i>(no summary was given)</i>"
            for b in thoughts
        ]
        quote = f'<blockquote style="color:{theme.muted}; margin:2px 0 6px 12px">'
        rule = f'<hr style="color:{theme.border}; background-color:{theme.border}">'
        body = rule.join(f"{quote}{summary}</blockquote>" for summary in summaries)
    return f'<p style="margin:4px 0">{head}</p>{body}'


def _block_html(block: Block, key: str, state: RenderState, theme: Theme, answerable: bool) -> str:
    if block.kind == "text":
        if not block.annotations:
            return markdown_html(block.text, key, state, theme)

        def href(cite: Citation) -> str:
            name = f"{key}/{cite.number}"
            state.citations[name] = cite
            return f"wb:cite/{name}"

        linked = linked_markdown(block.text, block.annotations, href)
        return markdown_html(linked, key, state, theme)
    if block.kind == "thought":
        return thoughts_html([block], key, False, state, theme)
    if block.kind == "tool":
        open_ = key in state.expanded
        state_words = "waiting for a result" if block.pending else "done"
        if block.is_error:
            state_words = "failed"
        head = _fold_link(key, f"Tool call · {block.name}", open_, theme)
        answer = ""
        if block.pending and answerable:
            iid = key.rsplit("-", 1)[0]
            answer = " · " + _action(f"answer/{iid}", "Give the result…", theme)
        rows = [
            f'<tr><td style="padding:6px">{head} '
            f'<span style="color:{theme.muted}">— {state_words}</span>{answer}</td></tr>'
        ]
        if open_:
            rows.append(
                '<tr><td style="padding:0 6px">'
                + f"Arguments{_pre(pretty_json(block.arguments), theme)}"
                + (
                    f"Result{_pre(pretty_json(block.result), theme)}"
                    if block.result is not None
                    else ""
                )
                + "</td></tr>"
            )
        else:
            preview = f"({_esc(_short(block.arguments or {}))})"
            if block.result is not None:
                preview += f" → {_esc(_short(block.result, 60))}"
            rows.append(
                f'<tr><td style="padding:0 6px 6px 18px; color:{theme.muted}">'
                f"<code>{preview}</code></td></tr>"
            )
        if block.images:
            rows.append(
                f'<tr><td style="padding:0 6px 6px 18px">'
                f"{_images_html(block.images, key, state)}</td></tr>"
            )
        return (
            f'<table width="100%" cellspacing="0" style="background:{theme.card_bg}; '
            f'border:1px solid {theme.border}; margin:4px 0">{"".join(rows)}</table>'
        )
    if block.kind == "error":
        return error_html(block.text, theme)
    if block.kind == "media":
        return f'<p style="color:{theme.muted}">[{_esc(block.name)} · {_esc(block.mime_type)}]</p>'
    open_ = key in state.expanded
    head = _fold_link(key, f"{block.name} (shown as JSON)", open_, theme)
    return f"<p>{head}</p>" + (_pre(pretty_json(block.raw), theme) if open_ else "")


NOTICE_DETAILS = "notice-details"
"""The fold key of the technical details under the transcript's problem notice."""


def error_html(text: str, theme: Theme, details: str = "", state: RenderState | None = None) -> str:
    """A problem in plain words; the technical ``details`` in a fold below, closed at first."""
    fold = ""
    if details:
        open_ = state is not None and NOTICE_DETAILS in state.expanded
        link = _fold_link(NOTICE_DETAILS, "Details", open_, theme)
        fold = f'<br><span style="font-size:small">{link}</span>'
        if open_:
            fold += f'<br><span style="font-size:small">{_esc(details)}</span>'
    return (
        f'<table width="100%" cellspacing="0" style="background:{theme.error_bg}; '
        f'margin:4px 0"><tr><td style="padding:6px; color:{theme.error_text}">'
        f"<b>Problem:</b> {_esc(text)}{fold}</td></tr></table>"
    )


@dataclass
class TurnHtmlInput:
    """Everything needed to draw one turn."""

    view: TurnView
    target: str
    metrics: dict[str, Any]
    branch_index: int = 1
    branch_count: int = 1
    live: bool = False
    error: str | None = None
    attachments: list[str] = field(default_factory=list)
    input_steps: list[Any] = field(default_factory=list)
    editing: bool = True
    """Offer Edit and Branch from here (not in a read-only view such as Compare)."""


def _action(href: str, label: str, theme: Theme) -> str:
    return f'<a href="wb:{href}" style="color:{theme.link}; text-decoration:none">{label}</a>'


def turn_html(turn: TurnHtmlInput, state: RenderState, theme: Theme) -> str:
    """One turn: the user's message, the answer's blocks, status, errors and usage."""
    view = turn.view
    iid = view.interaction_id or "live"
    user_lines = _esc(view.user_text).replace("\n", "<br>") or "<i>(no text)</i>"
    user_lines += _user_media_html(turn, iid, state, theme)
    switcher = ""
    if turn.branch_count > 1:
        switcher = (
            f"{_action(f'prev/{iid}', '‹', theme)} {turn.branch_index}/{turn.branch_count} "
            f"{_action(f'next/{iid}', '›', theme)}"
        )
    editable = turn.editing and not turn.live and bool(view.interaction_id)
    user_actions = _action(f"edit/{iid}", "Edit", theme) if editable else ""
    parts = [
        f'<table width="100%" cellspacing="0" style="background:{theme.user_bg}; '
        f'margin-top:10px"><tr><td style="padding:8px"><b>You</b></td>'
        f'<td align="right" style="padding:8px; color:{theme.muted}">{switcher} &nbsp; '
        f"{user_actions}</td></tr>"
        f'<tr><td colspan="2" style="padding:0 8px 8px 8px">{user_lines}</td></tr></table>'
    ]
    actions = ""
    if not turn.live and view.interaction_id:
        actions = " · ".join(
            [
                _action(f"copy/{iid}", "Copy", theme),
                _action(f"copy-md/{iid}", "Copy as Markdown", theme),
                _action(f"branch/{iid}", "Branch from here", theme) if turn.editing else "",
            ]
        ).rstrip(" ·")
    parts.append(
        f'<table width="100%" cellspacing="0" style="margin-top:8px"><tr>'
        f"<td><b>{_esc(turn.target or 'Model')}</b></td>"
        f'<td align="right" style="color:{theme.muted}">{actions}</td></tr></table>'
    )
    last = len(view.blocks) - 1
    answerable = not turn.live and view.status == "requires_action"
    for n, group in grouped_blocks(view.blocks):
        key = f"{iid}-{n}"
        if group[0].kind == "thought":
            thinking = turn.live and n + len(group) - 1 == last
            parts.append(thoughts_html(group, key, thinking, state, theme))
        else:
            parts.append(_block_html(group[0], key, state, theme, answerable))
    if turn.live and not view.blocks:
        parts.append(f'<p style="color:{theme.muted}">Waiting for the first token…</p>')
    words = view.status_words()
    if words and view.status not in ("in_progress", "failed") and not turn.live:
        parts.append(f'<p style="color:{theme.muted}"><i>{_esc(words)}</i></p>')
    if turn.error:
        parts.append(error_html(turn.error, theme))
    footer = usage_line(view.usage, turn.metrics, ended=not turn.live)
    if view.model and not turn.live:
        footer = " · ".join(x for x in (f"model {view.model}", footer) if x)
    if footer:
        parts.append(f'<p style="color:{theme.muted}; font-size:small">{_esc(footer)}</p>')
    return "".join(parts)
