"""Stalled runs (issue 13, part 5): an interaction stuck ``in_progress`` that never ends.

The engine's ``--inject-fault stall`` keeps every interaction running with nothing but
keep-alives; the run tracker and the chat's turn runner mark it stalled after their limit
(short here), "keep waiting" gives it another period, and a cancel ends it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from support.engine_client import scripted_engine
from support.qt_harness import wait_until as _until
from workbench.client import Client
from workbench.core.follower import Followers, Snapshot
from workbench.core.history import HistoryStore
from workbench.core.runs import RunRecord, RunTracker
from workbench.core.stall import DEFAULT_STALL_SECONDS, ENV_VAR, StallWatch, stall_seconds
from workbench.core.turns import TurnRunner, TurnUpdate

LIMIT = 0.3


@pytest.fixture
async def stalling(tmp_path: Path) -> AsyncIterator[Client]:
    flags = ("--inject-fault", "stall", "--keepalive-seconds", "0.1")
    async with scripted_engine(tmp_path / "engine", *flags) as client:
        yield client


async def test_a_stuck_run_is_marked_stalled_and_can_be_cancelled(
    stalling: Client, tmp_path: Path
) -> None:
    seen: list[bool] = []
    history = HistoryStore(tmp_path / "h.sqlite3")
    tracker = RunTracker(
        tmp_path / "runs.json",
        history,
        on_change=lambda r: seen.append(r.stalled),
        stall_limit=LIMIT,
    )
    body = {"model": "scripted", "input": "[[text: never]]"}
    run = tracker.new_run(body, profile_id="local", title="stuck")
    task = asyncio.create_task(tracker.launch(stalling, run, body))
    try:
        await _until(lambda: run.stalled)
        assert run.status == "in_progress"
        tracker.keep_waiting(run)
        assert not run.stalled  # another full period before asking again
        await _until(lambda: run.stalled)
        assert seen.count(True) >= 2 and False in seen
        await tracker.cancel(stalling, run)
        await asyncio.wait_for(task, 20)
        tracker.save()
        (row,) = history.query("SELECT record FROM runs")
    finally:
        history.close()
    assert run.status == "cancelled" and not run.stalled
    assert "stalled" not in row[0]  # never persisted: judged afresh after a restart


async def test_a_stuck_chat_turn_is_marked_stalled(stalling: Client, tmp_path: Path) -> None:
    history = HistoryStore(tmp_path / "h.sqlite3")
    followers = Followers()
    runner = TurnRunner(stalling, history, followers=followers, stall_limit=LIMIT)
    session = history.create_session("t", "local").id
    updates: list[TurnUpdate] = []
    snaps: list[Snapshot] = []
    body = {"model": "scripted", "input": "[[text: never]]", "stream": True}
    task = asyncio.create_task(runner.run(session, body, [], on_update=updates.append))
    try:
        await _until(lambda: bool(updates) and updates[-1].stalled)
        iid = updates[-1].interaction_id
        assert iid is not None
        followers.watch(iid, snaps.append)
        assert followers.keep_waiting(iid)  # what the Runs dock does for a chat turn
        assert not runner.watch or not runner.watch.stalled
        await _until(lambda: any(s.stalled for s in snaps))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        history.close()
    got = await stalling.interactions.get(iid)
    assert got.status == "cancelled"
    assert not followers.keep_waiting(iid)


async def test_progress_clears_a_stall() -> None:
    changes: list[bool] = []
    watch = StallWatch(0.05, changes.append)
    watch.start()
    await _until(lambda: watch.stalled)
    watch.progress()
    watch.stop()
    assert changes == [True, False]


def test_the_limit_comes_from_the_environment_then_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert stall_seconds() == DEFAULT_STALL_SECONDS
    assert stall_seconds(42) == 42
    monkeypatch.setenv(ENV_VAR, "7")
    assert stall_seconds(42) == 7
    monkeypatch.setenv(ENV_VAR, "soon")
    assert stall_seconds(42) == 42


def test_stalled_is_never_persisted() -> None:
    run = RunRecord(id="r", profile_id="p", stalled=True)
    assert "stalled" not in run.model_dump()
