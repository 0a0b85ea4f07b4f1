"""Triggers end to end against the real engine: the official SDK for the resource, the
scheduler on per-second cron lines (croniter's sixth field), a kill and restart across
scheduled fires.

Nothing asserts a duration: tests wait for states (with a generous deadline) and compare
records.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import httpx
import pytest
from engine_helpers import EngineProcess
from google.genai._gaos.lib import compat_errors

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.filterwarnings("ignore:.*experimental.*:UserWarning"),
]

QUICK = {"model": "scripted", "input": "[[text: scheduled hello]]"}
AGENT = {"agent": "antigravity-preview-05-2026", "input": "[[text: the report is done]]"}


def _until(check: Any, timeout: float = 40.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold in time")
        time.sleep(0.05)


def _trigger(http: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"interaction": QUICK, "schedule": "0 0 1 1 *", "time_zone": "UTC", **fields}
    resp = http.post("/v1beta/triggers", json=body)
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    return out


def _executions(http: httpx.Client, trigger_id: str) -> list[dict[str, Any]]:
    resp = http.get(f"/v1beta/triggers/{trigger_id}/executions", params={"page_size": 1000})
    assert resp.status_code == 200, resp.text
    found: list[dict[str, Any]] = resp.json().get("trigger_executions", [])
    return found


def _finished(http: httpx.Client, trigger_id: str, count: int) -> list[dict[str, Any]]:
    def check() -> list[dict[str, Any]] | None:
        done = [e for e in _executions(http, trigger_id) if e["status"] != "in_progress"]
        return done if len(done) >= count else None

    found: list[dict[str, Any]] = _until(check)
    return found


def test_trigger_resource_with_the_sdk(engine: EngineProcess) -> None:
    client = engine.client()
    trigger = client.triggers.create(
        interaction=AGENT, schedule="30 9 * * 1-5", time_zone="Europe/Berlin",
        display_name="weekday report",
    )  # fmt: skip
    assert trigger.status == "active" and trigger.next_run_time
    assert trigger.consecutive_failure_count == 0
    assert client.triggers.get(trigger.id).display_name == "weekday report"
    assert trigger.id in [t.id for t in client.triggers.list().triggers or []]
    paused = client.triggers.update(trigger.id, status="paused")
    assert paused.status == "paused" and paused.last_pause_time and not paused.next_run_time
    resumed = client.triggers.update(trigger.id, status="active")
    assert resumed.status == "active" and resumed.last_resume_time and resumed.next_run_time
    execution = client.triggers.run(trigger.id)
    assert execution.trigger_id == trigger.id and execution.interaction_id
    interaction = client.interactions.get(execution.interaction_id)
    assert interaction.id == execution.interaction_id
    with engine.http() as http:
        (done,) = _finished(http, trigger.id, 1)
    assert done["status"] == "completed" and done["end_time"]
    assert client.triggers.get(trigger.id).previous_interaction_id == execution.interaction_id
    client.triggers.delete(trigger.id)
    with pytest.raises(compat_errors.APIError) as info:
        client.triggers.get(trigger.id)
    assert info.value.status_code == 404
    with pytest.raises(compat_errors.APIError) as info:
        client.triggers.list_executions(trigger.id)
    assert info.value.status_code == 404


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"schedule": "every day"}, "schedule"),
        ({"schedule": "61 * * * *"}, "not a valid cron"),
        ({"time_zone": "Mars/Olympus"}, "time zone"),
        ({"interaction": {"model": "scripted"}}, "input"),
        ({"interaction": {**QUICK, "stream": True}}, "background"),
        ({"max_consecutive_failures": 0}, "positive"),
        ({"status": "paused"}, "output-only"),
        (
            {"interaction": {**QUICK, "webhook_config": {"uris": ["http://127.0.0.1:9/x"]}}},
            "registered webhook",
        ),
    ],
)
def test_bad_triggers_are_refused(http: httpx.Client, fields: dict[str, Any], words: str) -> None:
    body = {"interaction": QUICK, "schedule": "0 0 * * *", "time_zone": "UTC", **fields}
    resp = http.post("/v1beta/triggers", json=body)
    assert resp.status_code == 400
    assert words in resp.json()["error"]["message"]


def test_schedule_fires_and_pause_stops_it(http: httpx.Client) -> None:
    trigger = _trigger(http, schedule="* * * * * *")  # every second
    fired = _finished(http, trigger["id"], 2)
    assert {e["status"] for e in fired} <= {"completed", "skipped"}
    ran = [e for e in fired if e["status"] == "completed"]
    assert ran and all(e["interaction_id"] for e in ran)
    got = http.get(f"/v1beta/interactions/{ran[0]['interaction_id']}").json()
    assert got["status"] == "completed"
    assert http.patch(f"/v1beta/triggers/{trigger['id']}", json={"status": "paused"}).is_success
    _until(lambda: all(e["status"] != "in_progress" for e in _executions(http, trigger["id"])))
    settled = len(_executions(http, trigger["id"]))
    time.sleep(2.5)  # two scheduled seconds pass while paused
    assert len(_executions(http, trigger["id"])) == settled
    http.delete(f"/v1beta/triggers/{trigger['id']}")


def test_consecutive_failures_move_to_error(http: httpx.Client) -> None:
    trigger = _trigger(
        http, schedule="* * * * * *", max_consecutive_failures=2,
        interaction={"model": "scripted", "input": "[[error: upstream down]]"},
    )  # fmt: skip

    def errored() -> dict[str, Any] | None:
        got: dict[str, Any] = http.get(f"/v1beta/triggers/{trigger['id']}").json()
        return got if got["status"] == "error" else None

    state = _until(errored)
    assert state["consecutive_failure_count"] == 2 and "next_run_time" not in state
    failed = [e for e in _executions(http, trigger["id"]) if e["status"] == "failed"]
    assert len(failed) == 2 and "upstream down" in failed[0]["error"]
    resumed = http.patch(f"/v1beta/triggers/{trigger['id']}", json={"status": "active"}).json()
    assert resumed["status"] == "active" and resumed["consecutive_failure_count"] == 0
    http.delete(f"/v1beta/triggers/{trigger['id']}")


def test_execution_timeout_and_skipped_overlap(http: httpx.Client) -> None:
    trigger = _trigger(
        http, execution_timeout_seconds=1,
        interaction={"model": "scripted", "input": "[[delay: 60]] [[text: late]]"},
    )  # fmt: skip
    first = http.post(f"/v1beta/triggers/{trigger['id']}/executions").json()
    second = http.post(f"/v1beta/triggers/{trigger['id']}/executions").json()
    assert first["status"] == "in_progress" and second["status"] == "skipped"
    timed_out = next(e for e in _finished(http, trigger["id"], 2) if e["id"] == first["id"])
    assert timed_out["status"] == "timed_out" and "cancelled" in timed_out["error"]
    got = http.get(f"/v1beta/interactions/{first['interaction_id']}").json()
    assert got["status"] == "cancelled"


def _stamp(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_restart_across_scheduled_fires_runs_once(engine_factory: Any, tmp_path: Any) -> None:
    """Killed before three fires, restarted after them: one execution, none lost."""
    data = tmp_path / "restart-engine"
    eng: EngineProcess = engine_factory(data_dir=data)
    with eng.http() as http:
        start = dt.datetime.now(dt.UTC).replace(microsecond=0)
        seconds = [(start + dt.timedelta(seconds=s)).second for s in (3, 4, 5)]
        trigger = _trigger(http, schedule=f"* * * * * {','.join(map(str, seconds))}")
        slow = _trigger(http, interaction={"model": "scripted", "input": "[[delay: 60]]"})
        in_flight = http.post(f"/v1beta/triggers/{slow['id']}/executions").json()
        assert in_flight["status"] == "in_progress"
    eng.kill()  # a crash: no shutdown of any kind
    while dt.datetime.now(dt.UTC) < start + dt.timedelta(seconds=6.5):
        time.sleep(0.1)
    again: EngineProcess = engine_factory(data_dir=data)
    with again.http() as http:
        (caught_up,) = _finished(http, trigger["id"], 1)
        assert caught_up["status"] == "completed"
        assert _stamp(caught_up["scheduled_time"]) == start + dt.timedelta(seconds=5)
        planned = _stamp(http.get(f"/v1beta/triggers/{trigger['id']}").json()["next_run_time"])
        assert planned == start + dt.timedelta(seconds=63)  # the next minute's first fire
        assert len(_executions(http, trigger["id"])) == 1  # not three: no burst
        (lost,) = _executions(http, slow["id"])
        assert lost["id"] == in_flight["id"] and lost["status"] == "failed"
        assert "engine stopped" in lost["error"]
