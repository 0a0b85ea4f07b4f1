"""Consecutive thought summaries of one turn read as one "Thoughts" fold, not one row each."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from workbench.ui.transcript import TranscriptView, TurnEntry


def _thought(text: str) -> dict[str, object]:
    return {"type": "thought", "summary": [{"type": "text", "text": text}]}


def _data(status: str = "completed") -> dict[str, object]:
    return {
        "id": "v1_t",
        "status": status,
        "steps": [
            *(_thought(f"step number {n}") for n in range(1, 7)),
            {"type": "google_search_call", "id": "g", "arguments": {"queries": ["acme"]}},
            {"type": "google_search_result", "call_id": "g", "result": [{"url": "u"}]},
            _thought("after the search"),
            {"type": "model_output", "content": [{"type": "text", "text": "The answer."}]},
        ],
    }


USER = [{"type": "user_input", "content": [{"type": "text", "text": "research acme"}]}]


def test_consecutive_thoughts_are_one_fold_that_opens_to_all_in_order(qtbot: QtBot) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    metrics = {"thought_seconds": [1.0, 2.0, 0.5, 0.5, 1.0, 1.0, 3.0]}
    view.set_entries([TurnEntry("v1_t", USER, _data(), metrics, "agent")])
    view.flush()
    lines = [ln.strip() for ln in view.toPlainText().splitlines()]
    heads = [ln for ln in lines if ln.startswith(("▸ Thought", "▾ Thought"))]
    # Six in a row become one row (their durations add up); the one after the tool is apart.
    assert heads == ["▸ Thought for 6.0 s (6)", "▸ Thought for 3.0 s"]
    assert "step number" not in view.toPlainText()
    view.toggle("v1_t-0")
    view.flush()
    text = view.toPlainText()
    positions = [text.index(f"step number {n}") for n in range(1, 7)]
    assert positions == sorted(positions)
    assert "after the search" not in text
    assert "▾ Thought for 6.0 s (6)" in text
    assert view.toHtml().count("<hr") >= 5


def test_live_turn_shows_one_thinking_row(qtbot: QtBot) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    data = _data("in_progress")
    data["steps"] = [_thought("first idea"), _thought("second idea")]
    view.set_live(TurnEntry("live", USER, data, {}, "agent", live=True))
    view.flush()
    text = view.toPlainText()
    assert text.count("Thinking…") == 1
    assert "Thoughts" not in text
    assert text.index("first idea") < text.index("second idea")


def test_a_watched_live_turn_shows_no_stale_totals(qtbot: QtBot) -> None:
    """A run's snapshot carries the elapsed time of its last event: while the turn runs that
    figure stands still, so the footer leaves totals out until the turn has ended."""
    view = TranscriptView()
    qtbot.addWidget(view)
    waiting = {"id": "v1_w", "status": "in_progress", "steps": []}
    live = TurnEntry("v1_w", USER, waiting, {"elapsed": 0.4}, "agent", live=True)
    view.set_live(live)
    view.flush()
    text = view.toPlainText()
    assert "Waiting for the first token…" in text
    assert "s total" not in text
    done = {
        **_data(),
        "id": "v1_w",
        "usage": {"total_input_tokens": 5, "total_output_tokens": 8},
    }
    view.set_live(None)
    view.set_entries([TurnEntry("v1_w", USER, done, {"elapsed": 2.5}, "agent")])
    view.flush()
    assert "2.5 s total" in view.toPlainText()
