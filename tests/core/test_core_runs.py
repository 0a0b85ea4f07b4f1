"""Run tracker pieces without a server: persistence, folding, budget, approvals."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from workbench.core.approvals import AllowList
from workbench.core.budget import TokenMeter, estimate_tokens, over_budget, usage_total
from workbench.core.history import HistoryStore
from workbench.core.runs import (
    RunTracker,
    format_elapsed,
    output_steps,
    pending_calls,
)
from workbench.protocol import parse_event


def test_budget_meter_prefers_reported_usage() -> None:
    meter = TokenMeter()
    meter.add_text("t0 ")
    meter.add_text("hello world!")
    assert meter.tokens == 4 and meter.is_estimate
    meter.report({"total_tokens": 50})
    assert meter.tokens == 50 and not meter.is_estimate
    assert usage_total({"total_input_tokens": 3, "total_output_tokens": "4"}) == 7
    assert usage_total({}) is None and usage_total(None) is None
    assert estimate_tokens("") == 0
    assert over_budget(10, 10) and not over_budget(9, 10) and not over_budget(10**6, None)


def test_allow_list_persists(tmp_path: Path) -> None:
    path = tmp_path / "approvals.json"
    allow = AllowList(path)
    allow.add("lookup")
    allow.add("get_time")
    assert AllowList(path).tools() == ["get_time", "lookup"]
    allow.remove("lookup")
    assert AllowList(path).allows("get_time") and not AllowList(path).allows("lookup")
    path.write_text("{not json")
    assert AllowList(path).tools() == []


def test_pending_calls_and_output_steps() -> None:
    steps = [
        {"type": "function_result", "call_id": "c0", "name": "a", "result": 1},
        {"type": "function_call", "id": "c1", "name": "a", "arguments": {"x": 1}},
        {"type": "function_call", "id": "c2", "name": "b", "arguments": {}},
        {"type": "function_result", "call_id": "c2", "name": "b", "result": 2},
    ]
    assert [c.call_id for c in pending_calls({"steps": steps})] == ["c1"]
    assert len(output_steps(steps)) == 3
    assert format_elapsed(5) == "5s" and format_elapsed(125) == "2m 05s"
    assert format_elapsed(3725) == "1h 02m"


def test_tracker_folds_events_and_persists(tmp_path: Path) -> None:
    history = HistoryStore(tmp_path / "h.sqlite3")
    path = tmp_path / "runs.json"
    changes: list[str] = []
    tracker = RunTracker(path, history, on_change=lambda r: changes.append(r.status))
    run = tracker.new_run(
        {"model": "m", "input": "x", "tools": [{"type": "function", "name": "f"}]},
        profile_id="local",
        title="t",
        budget=100,
    )
    assert "input" not in run.request and run.request["tools"]
    events = [
        {"event_type": "interaction.created", "event_id": "1",
         "interaction": {"id": "v1_a", "status": "in_progress"}},
        {"event_type": "step.start", "event_id": "2", "index": 1,
         "step": {"type": "model_output"}},
        {"event_type": "step.delta", "event_id": "3", "index": 1,
         "delta": {"type": "text", "text": "hello there friend"}},
        {"event_type": "step.stop", "event_id": "4", "index": 1},
        {"event_type": "interaction.status_update", "event_id": "5", "interaction_id": "v1_a",
         "status": "completed", "usage": {"total_tokens": 12}},
    ]  # fmt: skip
    for raw in events:
        tracker._apply(run, parse_event(raw))
    assert run.status == "completed" and run.steps == 1
    assert run.tokens == 12 and run.last_event_id == "5"
    tracker.save()
    saved = json.loads(path.read_text())
    assert saved["runs"][0]["last_event_id"] == "5"
    again = RunTracker(path, history)
    assert again.get(run.id) is not None
    assert again.to_attach("local") == []  # completed: nothing to re-attach
    body = tracker.continuation_body(
        run.model_copy(update={"interaction_ids": ["v1_a"]}), [{"type": "function_result"}]
    )
    assert body["previous_interaction_id"] == "v1_a" and body["model"] == "m"
    history.close()


async def test_a_burst_of_changes_is_saved_once(tmp_path: Path, monkeypatch: Any) -> None:
    import workbench.core.runs as runs_module

    history = HistoryStore(tmp_path / "h.sqlite3")
    writes: list[str] = []
    real = runs_module.write_atomic
    monkeypatch.setattr(runs_module, "write_atomic", lambda p, t: (writes.append(t), real(p, t)))
    tracker = RunTracker(tmp_path / "runs.json", history, burst_seconds=0.05)
    ids = [tracker.new_run({"model": "m"}, profile_id="local").id for _ in range(50)]
    assert writes == []  # fifty status changes, nothing written yet …
    await asyncio.sleep(0.15)
    assert len(writes) == 1  # … then one write holding them all
    assert [r["id"] for r in json.loads(writes[0])["runs"]] == ids
    tracker.save()  # an explicit save writes at once
    assert len(writes) == 2
    history.close()


def test_runs_file_keeps_inline_sources_by_size_only(tmp_path: Path) -> None:
    """Issue 14 item 4: an agent run's inline definition is not rewritten while it streams."""
    history = HistoryStore(tmp_path / "h.db")
    tracker = RunTracker(tmp_path / "runs.json", history)
    big = "x" * 200_000
    body = {
        "agent": "my-agent",
        "input": "go",
        "environment": {
            "type": "remote",
            "sources": [
                {"type": "inline", "target": ".agents/AGENTS.md", "content": big},
                {"type": "repository", "url": "https://example.org/r.git"},
            ],
        },
    }
    run = tracker.new_run(body, profile_id="local", title="agent run")
    tracker.save()
    text = (tmp_path / "runs.json").read_text(encoding="utf-8")
    assert big not in text and len(text) < 5_000
    saved = json.loads(text)["runs"][0]["request"]["environment"]["sources"]
    assert saved[0] == {"type": "inline", "target": ".agents/AGENTS.md", "content_chars": 200_000}
    assert saved[1] == {"type": "repository", "url": "https://example.org/r.git"}
    # The request in memory is whole (a hop before the sandbox exists still has it).
    assert tracker.get(run.id) is not None
    assert run.request["environment"]["sources"][0]["content"] == big
    again = RunTracker(tmp_path / "runs.json", history).get(run.id)
    assert again is not None and again.title == "agent run"
    history.close()
