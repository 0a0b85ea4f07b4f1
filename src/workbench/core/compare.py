"""Two runs or two branches side by side: what each side sent, measured and answered.

Qt-free. A *side* is one path through a session's tree, from its first turn to a leaf (a
branch of a session, or the turns of a background run, which the run tracker saves into the
history). :class:`CompareService` reads sides from the history; :func:`setting_rows` and
:func:`metric_rows` line their request settings and metrics up row by row, marking what
differs; :func:`answer_diff` compares the final answers word by word or line by line.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from .conversation import ConversationTree
from .history import HistoryStore, InteractionRecord, SessionInfo
from .transcript import read_turn, user_parts

DiffTag = Literal["equal", "delete", "insert", "replace"]
DiffMode = Literal["words", "lines"]
NONE = "—"
"""What a row shows when a side has no value (no system instruction, no tools)."""
_SNIPPET = 48
_WORDS = re.compile(r"\s+|[^\s\w]|\w+", re.UNICODE)


class CompareError(ValueError):
    """A side cannot be shown (the session was deleted, a run has no saved turns yet)."""


@dataclass(frozen=True)
class BranchInfo:
    """One branch of a session: the leaf it ends at and a label a user can tell apart."""

    leaf_id: str
    label: str


@dataclass(frozen=True)
class CompareSide:
    """One side of a comparison: a session's path to ``leaf_id`` and its branches."""

    session: SessionInfo
    leaf_id: str
    turns: list[InteractionRecord]
    branches: list[BranchInfo] = field(default_factory=list)
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Each turn's place among its siblings, ``(index, count)`` (the ‹ 1/2 › switcher)."""

    @property
    def final(self) -> InteractionRecord:
        return self.turns[-1]

    @property
    def answer(self) -> str:
        """The final turn's answer text (what the diff compares)."""
        rec = self.final
        return read_turn(rec.data, rec.input, rec.metrics).answer_text

    @property
    def title(self) -> str:
        return self.session.title or "Untitled session"


@dataclass(frozen=True)
class Row:
    """One line of the settings or metrics table."""

    label: str
    left: str
    right: str

    @property
    def differs(self) -> bool:
        return self.left != self.right


@dataclass(frozen=True)
class DiffPiece:
    """A stretch of the two answers: equal, only left (delete), only right (insert), or
    different (replace)."""

    tag: DiffTag
    left: str
    right: str


class CompareService:
    """Reads the sides of a comparison from the history (the Compare view's only source)."""

    def __init__(self, history: HistoryStore) -> None:
        self.history = history

    def sessions(self) -> list[SessionInfo]:
        """Sessions that have at least one turn, for the side pickers."""
        return [s for s in self.history.sessions() if s.leaf_id]

    def branches(self, session_id: str) -> list[BranchInfo]:
        return _branches(ConversationTree(self.history.interactions(session_id)))

    def side(self, session_id: str, leaf_id: str | None = None) -> CompareSide:
        """The path of ``session_id`` to ``leaf_id`` (default: the branch the session shows)."""
        try:
            info = self.history.session(session_id)
        except KeyError:
            raise CompareError("That session is no longer in the history.") from None
        tree = ConversationTree(self.history.interactions(session_id))
        if not len(tree):
            raise CompareError(f"“{info.title or 'Untitled session'}” has no turns to compare.")
        wanted = leaf_id or info.leaf_id
        if wanted is not None and wanted not in tree.records:
            raise CompareError("That turn is no longer in the history.")
        path = tree.path(wanted)
        positions = {}
        for rec in path:
            pos = tree.position(rec.id)
            positions[rec.id] = (pos.index, pos.count)
        return CompareSide(info, path[-1].id, path, _branches(tree), positions)

    def switch(self, session_id: str, interaction_id: str, step: int) -> str:
        """The leaf shown after moving ``step`` siblings from ``interaction_id`` (‹ ›)."""
        tree = ConversationTree(self.history.interactions(session_id))
        if interaction_id not in tree.records:
            raise CompareError("That turn is no longer in the history.")
        return tree.switch(interaction_id, step)

    def side_of(self, interaction_id: str) -> CompareSide:
        """The path that ends at ``interaction_id`` (a run's last hop), in its own session."""
        session_id = self.history.session_of(interaction_id) if interaction_id else None
        if session_id is None:
            raise CompareError(
                "This run has no saved transcript yet: compare it once its first step is saved."
            )
        return self.side(session_id, interaction_id)


def _branches(tree: ConversationTree) -> list[BranchInfo]:
    """Every leaf of the tree, oldest first, labelled "Branch 2 of 3 · “last question”"."""
    leaves = [r for r in tree.records.values() if not tree.children(r.id)]
    leaves.sort(key=lambda r: r.seq)
    out = []
    for n, leaf in enumerate(leaves, 1):
        text = " ".join(user_parts(leaf.input)[0].split())
        if len(text) > _SNIPPET:
            text = text[: _SNIPPET - 1].rstrip() + "…"
        turns = len(tree.path(leaf.id))
        which = f"Branch {n} of {len(leaves)}" if len(leaves) > 1 else "The only branch"
        label = f"{which} · {turns} turn{'s' if turns != 1 else ''}"
        out.append(BranchInfo(leaf.id, f"{label} · “{text}”" if text else label))
    return out


# --- settings and metrics ------------------------------------------------------------------


def _target(request: dict[str, Any], rec: InteractionRecord) -> str:
    for kind in ("model", "agent"):
        value = request.get(kind)
        if isinstance(value, str) and value:
            answered = rec.target if rec.target and rec.target != value else ""
            return f"{kind} {value}" + (f" (answered by {answered})" if answered else "")
    return rec.target or NONE


def _tool_name(tool: Any) -> str:
    if not isinstance(tool, dict):
        return str(tool)
    kind = str(tool.get("type") or "tool")
    if kind == "function":
        return f"function {tool.get('name', '?')}"
    if kind == "mcp_server":
        return f"MCP {tool.get('name', '?')}"
    return kind


def _compact(value: Any) -> str:
    if not value:
        return NONE
    if isinstance(value, dict):
        return ", ".join(f"{k}={_compact_value(v)}" for k, v in sorted(value.items()))
    return _compact_value(value)


def _compact_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _mode(request: dict[str, Any]) -> str:
    words = ["streamed" if request.get("stream") else "not streamed"]
    if request.get("background"):
        words.append("background")
    if request.get("store") is False:
        words.append("not stored")
    return ", ".join(words)


def side_settings(side: CompareSide) -> list[tuple[str, str]]:
    """The request settings of a side's final turn, as (label, value) pairs."""
    rec = side.final
    req = rec.request
    tools = req.get("tools") or []
    rows = [
        ("Target", _target(req, rec)),
        ("System instruction", str(req.get("system_instruction") or "").strip() or NONE),
        ("Generation config", _compact(req.get("generation_config"))),
        ("Tools", ", ".join(_tool_name(t) for t in tools) if tools else NONE),
        ("Agent config", _compact(req.get("agent_config"))),
        ("Mode", _mode(req)),
    ]
    return rows


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _tokens(value: Any) -> str:
    n = _number(value)
    return f"{int(n):,}" if n is not None else NONE


def _seconds(value: Any) -> str:
    n = _number(value)
    return f"{n:.2f} s" if n is not None else NONE


def side_metrics(side: CompareSide) -> list[tuple[str, str]]:
    """Status, tokens and timings of the final turn, and the path's length and token total."""
    rec = side.final
    usage = rec.data.get("usage") if isinstance(rec.data.get("usage"), dict) else {}
    usage = usage or {}
    total = 0
    for turn in side.turns:
        u = turn.data.get("usage") if isinstance(turn.data.get("usage"), dict) else {}
        for key in ("total_input_tokens", "total_output_tokens"):
            total += int(_number((u or {}).get(key)) or 0)
    out_tokens = _number(usage.get("total_output_tokens"))
    gen = _number(rec.metrics.get("generation_seconds"))
    speed = f"{out_tokens / gen:.1f} tok/s" if out_tokens and gen else NONE
    return [
        ("Status", rec.status.replace("_", " ") or NONE),
        ("Input tokens", _tokens(usage.get("total_input_tokens"))),
        ("Output tokens", _tokens(usage.get("total_output_tokens"))),
        ("Thinking tokens", _tokens(usage.get("total_thought_tokens"))),
        ("Time to first token", _seconds(rec.metrics.get("ttft"))),
        ("Duration", _seconds(rec.metrics.get("elapsed"))),
        ("Speed", speed),
        ("Turns", str(len(side.turns))),
        ("Tokens, all turns", f"{total:,}" if total else NONE),
    ]


def _rows(left: list[tuple[str, str]], right: list[tuple[str, str]]) -> list[Row]:
    values = dict(right)
    return [Row(label, value, values.get(label, NONE)) for label, value in left]


def setting_rows(left: CompareSide, right: CompareSide) -> list[Row]:
    return _rows(side_settings(left), side_settings(right))


def metric_rows(left: CompareSide, right: CompareSide) -> list[Row]:
    return _rows(side_metrics(left), side_metrics(right))


# --- the answers' diff ---------------------------------------------------------------------


def _tokens_of(text: str, mode: DiffMode) -> list[str]:
    if mode == "lines":
        return text.splitlines(keepends=True)
    return _WORDS.findall(text)


def answer_diff(left: str, right: str, mode: DiffMode = "words") -> list[DiffPiece]:
    """The two answers cut into equal and different stretches (difflib, no junk heuristic)."""
    if mode not in ("words", "lines"):
        raise ValueError(f"diff mode must be 'words' or 'lines', not {mode!r}")
    a, b = _tokens_of(left, mode), _tokens_of(right, mode)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    pieces = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        pieces.append(DiffPiece(tag, "".join(a[i1:i2]), "".join(b[j1:j2])))
    return pieces


def similarity(pieces: list[DiffPiece]) -> float:
    """How much of the two answers is the same, 0–1 (by characters)."""
    same = sum(len(p.left) for p in pieces if p.tag == "equal")
    total = sum(len(p.left) + len(p.right) for p in pieces)
    return 1.0 if total == 0 else 2 * same / total
