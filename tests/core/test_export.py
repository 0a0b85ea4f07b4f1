from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from workbench.core.export import session_json, session_markdown
from workbench.core.history import AttachmentInfo, HistoryStore
from workbench.core.transcript import read_turn, usage_line

DATA = base64.b64encode(b"\x89PNG" + b"\0" * 200).decode()


@pytest.fixture
def store(tmp_path: Path) -> HistoryStore:
    s = HistoryStore(tmp_path / "h.sqlite3")
    yield s
    s.close()


def _fill(store: HistoryStore) -> str:
    s = store.create_session("Export me")
    store.save_interaction(
        s.id,
        "v1_1",
        parent_id=None,
        input_blocks=[
            {
                "type": "user_input",
                "content": [
                    {"type": "text", "text": "Weather?"},
                    {"type": "image", "data": DATA, "mime_type": "image/png"},
                ],
            }
        ],
        request={"model": "m"},
        attachments=[AttachmentInfo("cat.png", "image/png", 204, "f" * 64, "sent inline (base64)")],
        data={
            "id": "v1_1",
            "status": "completed",
            "steps": [
                {"type": "thought", "summary": [{"type": "text", "text": "Let me think."}]},
                {
                    "type": "function_call",
                    "id": "c1",
                    "name": "get_weather",
                    "arguments": {"city": "Lima"},
                },
                {"type": "function_result", "call_id": "c1", "result": {"temp": 21}},
                {"type": "model_output", "content": [{"type": "text", "text": "It is **21°C**."}]},
            ],
            "usage": {"total_input_tokens": 5, "total_output_tokens": 8},
        },
        metrics={"thought_seconds": [1.5], "ttft": 0.25, "generation_seconds": 2.0},
    )
    return s.id


def test_markdown_export(store: HistoryStore) -> None:
    sid = _fill(store)
    md = session_markdown(store, store.session(sid))
    assert md.startswith("# Export me")
    assert "Weather?" in md
    assert "<summary>Thought for 1.5 s</summary>" in md
    assert "Let me think." in md
    assert "<summary>Tool call: get_weather</summary>" in md
    assert '"city": "Lima"' in md
    assert '"temp": 21' in md
    assert "It is **21°C**." in md
    assert "`cat.png` — image/png" in md
    assert "sha256 `" + "f" * 64 + "`" in md
    assert "5 in · 8 out" in md
    assert DATA not in md


def test_json_trace(store: HistoryStore) -> None:
    sid = _fill(store)
    trace = json.loads(session_json(store, store.session(sid)))
    assert trace["format"] == "workbench.trace/1"
    assert trace["session"]["title"] == "Export me"
    (turn,) = trace["turns"]
    assert turn["interaction_id"] == "v1_1"
    assert turn["attachments"][0]["sha256"] == "f" * 64
    img = turn["input"][0]["content"][1]
    assert "data" not in img
    assert len(img["data_sha256"]) == 64
    assert turn["interaction"]["steps"][1]["name"] == "get_weather"
    full = json.loads(session_json(store, store.session(sid), include_data=True))
    assert full["turns"][0]["input"][0]["content"][1]["data"] == DATA


def test_read_turn_handles_unknown_steps_and_errors() -> None:
    view = read_turn(
        {
            "id": "x",
            "status": "failed",
            "steps": [{"type": "weird_new_step", "foo": 1}],
            "errors": [{"code": "internal", "message": "Model crashed"}],
        },
        [],
    )
    kinds = [b.kind for b in view.blocks]
    assert kinds == ["raw", "error"]
    assert view.blocks[1].text == "Model crashed (internal)"
    assert "failure" in view.status_words()


def test_usage_line() -> None:
    line = usage_line(
        {"total_input_tokens": 3, "total_output_tokens": 10},
        {"ttft": 0.5, "generation_seconds": 2.0, "elapsed": 2.5},
    )
    assert line == "3 in · 10 out · first token 0.50 s · 5.0 tok/s · 2.5 s total"


def _thought(text: str) -> dict[str, object]:
    return {"type": "thought", "summary": [{"type": "text", "text": text}]}


def test_consecutive_thoughts_export_as_one_fold(store: HistoryStore) -> None:
    """As the transcript's "Thoughts (N)" row: one <details> per run of thoughts, in order."""
    s = store.create_session("Thinking")
    steps = [
        _thought("First, the data."),
        _thought("Then the chart."),
        _thought("Last, the caption."),
        {"type": "model_output", "content": [{"type": "text", "text": "Here it is."}]},
        _thought("Check the units."),
        {"type": "model_output", "content": [{"type": "text", "text": "Done."}]},
    ]
    store.save_interaction(
        s.id,
        "v1_t",
        parent_id=None,
        input_blocks=[{"type": "user_input", "content": [{"type": "text", "text": "Plot"}]}],
        request={"model": "m"},
        data={"id": "v1_t", "status": "completed", "steps": steps},
        metrics={"thought_seconds": [1.0, 2.0, 0.5, 4.0]},
    )
    md = session_markdown(store, store.session(s.id))
    assert md.count("<details>") == 2
    assert "<summary>Thought for 3.5 s (3)</summary>" in md
    assert "<summary>Thought for 4.0 s</summary>" in md
    fold = md[md.index("Thought for 3.5 s (3)") : md.index("</details>")]
    assert fold.index("First, the data.") < fold.index("Then the chart.")
    assert fold.index("Then the chart.") < fold.index("Last, the caption.")
    assert md.index("</details>") < md.index("Here it is.") < md.index("Check the units.")
    # The JSON trace keeps every thought step as it was.
    trace = json.loads(session_json(store, store.session(s.id)))
    (turn,) = trace["turns"]
    assert turn["interaction"]["steps"] == steps
