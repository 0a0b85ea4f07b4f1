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
    assert not path.exists()  # runs live in the history database now
    (row,) = history.query("SELECT record FROM runs")
    assert json.loads(row["record"])["last_event_id"] == "5"
    again = RunTracker(path, history)
    assert again.get(run.id) is not None
    assert again.to_attach("local") == []  # completed: nothing to re-attach
    body = tracker.continuation_body(
        run.model_copy(update={"interaction_ids": ["v1_a"]}), [{"type": "function_result"}]
    )
    assert body["previous_interaction_id"] == "v1_a" and body["model"] == "m"
    history.close()


async def test_a_burst_of_changes_is_saved_once(tmp_path: Path, monkeypatch: Any) -> None:
    history = HistoryStore(tmp_path / "h.sqlite3")
    tracker = RunTracker(tmp_path / "runs.json", history, burst_seconds=0.05)
    writes: list[int] = []
    real = tracker.store.save
    monkeypatch.setattr(
        tracker.store, "save", lambda runs, budget: writes.append(real(runs, budget)) or 0
    )
    ids = [tracker.new_run({"model": "m"}, profile_id="local").id for _ in range(50)]
    assert writes == []  # fifty status changes, nothing written yet …
    await asyncio.sleep(0.15)
    assert writes == [50]  # … then one transaction holding them all
    rows = history.query("SELECT id FROM runs ORDER BY created")
    assert sorted(r["id"] for r in rows) == sorted(ids)
    tracker.save()  # an explicit save writes at once, and only what changed: nothing
    assert writes == [50, 0]
    run = tracker.runs[ids[7]]
    run.status, run.last_event_id = "in_progress", "3"
    tracker.save()  # one event of one run: one row
    assert writes == [50, 0, 1]
    (row,) = history.query("SELECT status, record FROM runs WHERE id = ?", (run.id,))
    assert row["status"] == "in_progress" and json.loads(row["record"])["last_event_id"] == "3"
    tracker.forget(ids[0])
    assert len(history.query("SELECT id FROM runs")) == 49
    history.close()


def test_stored_runs_keep_inline_sources_by_size_only(tmp_path: Path) -> None:
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
    (row,) = history.query("SELECT record, request FROM runs")
    assert big not in row["request"] and len(row["request"]) < 5_000
    assert "request" not in json.loads(row["record"])
    saved = json.loads(row["request"])["environment"]["sources"]
    assert saved[0] == {"type": "inline", "target": ".agents/AGENTS.md", "content_chars": 200_000}
    assert saved[1] == {"type": "repository", "url": "https://example.org/r.git"}
    # The request in memory is whole (a hop before the sandbox exists still has it).
    assert tracker.get(run.id) is not None
    assert run.request["environment"]["sources"][0]["content"] == big
    again = RunTracker(tmp_path / "runs.json", history).get(run.id)
    assert again is not None and again.title == "agent run"
    assert again.request["environment"]["sources"][1]["url"] == "https://example.org/r.git"
    history.close()


def test_an_old_runs_json_is_imported_once(tmp_path: Path) -> None:
    """Everything a runs.json held survives the move into SQLite; the file is renamed."""
    old = {
        "version": 1,
        "default_budget": 4000,
        "runs": [
            {
                "id": "r1",
                "profile_id": "local",
                "target": "my-agent",
                "target_kind": "agent",
                "title": "agent run",
                "agent_name": "my-agent",
                "interaction_ids": ["v1_a", "v1_b"],
                "status": "requires_action",
                "created": 100.0,
                "steps_before": 2,
                "hop_steps": [0, 1],
                "tokens_before": 30,
                "hop_reported": 12,
                "last_event_id": "9",
                "budget": 500,
                "environment_id": "env_1",
                "session_id": "s_1",
                "request": {"agent": "my-agent"},
                "pending": [{"call_id": "c1", "name": "f", "arguments": {"x": 1}}],
                "allowed_tools": ["f"],
                "reconnects": 1,
                "answer": "a",
                "verdict": "finished",
                "model": "scripted",
            },
            {"id": "r2", "profile_id": "local", "status": "in_progress", "created": 200.0},
            {"id": 5},  # unreadable: skipped, the rest still imported
        ],
    }
    path = tmp_path / "runs.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    history = HistoryStore(tmp_path / "h.sqlite3")
    tracker = RunTracker(path, history)
    assert not path.exists() and (tmp_path / "runs.json.migrated").exists()
    assert tracker.default_budget == 4000
    run = tracker.get("r1")
    assert run is not None
    want = old["runs"][0]
    assert run.model_dump(include=set(want)) == {**want, "pending": [
        {"call_id": "c1", "name": "f", "arguments": {"x": 1}, "decision": "",
         "result": None, "is_error": False}
    ]}  # fmt: skip
    assert run.interaction_id == "v1_b" and run.tokens == 42 and run.steps == 4
    assert [r.id for r in tracker.to_attach("local")] == ["r2"]
    # A second start reads the database; the renamed file is not imported again.
    run.status = "cancelled"
    tracker.save()
    again = RunTracker(path, history)
    assert again.get("r1") is not None and again.get("r1").status == "cancelled"  # type: ignore[union-attr]
    assert again.default_budget == 4000
    history.close()


def test_an_unreadable_runs_json_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "runs.json"
    path.write_text("{not json", encoding="utf-8")
    history = HistoryStore(tmp_path / "h.sqlite3")
    tracker = RunTracker(path, history)
    assert tracker.runs == {} and not path.exists()
    (aside,) = tmp_path.glob("runs.json.unreadable-*")
    assert aside.read_text(encoding="utf-8") == "{not json"
    history.close()
