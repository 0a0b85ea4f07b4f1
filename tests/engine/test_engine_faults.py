"""The engine's named faults of the real service (issue 13, part 5): a stuck interaction,
a DELETE that does not cancel, a cancel that does not stop — and our client surviving each.

Each against a real engine process started with ``--inject-fault``; raw httpx shows the
fault on the wire, the app's client and core show what the user gets.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from engine_helpers import EngineProcess, create

if TYPE_CHECKING:
    from workbench.core.run_records import RunRecord
    from workbench.core.runs import RunTracker
    from workbench.core.stall import DeleteOutcome


def _status(http: httpx.Client, iid: str) -> str:
    return str(http.get(f"/v1beta/interactions/{iid}").json()["status"])


def _background_run(http: httpx.Client) -> str:
    """The id of a new background run of about a second (20 tokens, 0.05 s apart)."""
    body = {"model": "scripted", "input": "[[tokens: 20, 0.05]]", "background": True}
    return str(create(http, body).json()["id"])


def test_stall_keeps_an_interaction_in_progress_with_only_keep_alives(
    engine_factory: Any,
) -> None:
    eng = engine_factory("--inject-fault", "stall", "--keepalive-seconds", "0.1")
    with eng.http() as http:
        body = {"model": "scripted", "input": "[[text: never said]]", "stream": True}
        lines: list[str] = []
        with http.stream("POST", "/v1beta/interactions", json=body) as resp:
            started = time.monotonic()
            for line in resp.iter_lines():
                lines.append(line)
                if time.monotonic() - started > 0.8:
                    break
        events = [json.loads(x[6:]) for x in lines if x.startswith("data: ")]
        assert [e["event_type"] for e in events] == ["interaction.created"]
        assert lines.count(": keep-alive") >= 3  # only keep-alives after the creation
        iid = events[0]["interaction"]["id"]
        time.sleep(0.3)
        assert _status(http, iid) == "in_progress"
        background = create(http, {"model": "scripted", "input": "x", "background": True}).json()
        time.sleep(0.3)
        assert _status(http, background["id"]) == "in_progress"
        cancelled = http.post(f"/v1beta/interactions/{background['id']}:cancel").json()
        assert cancelled["status"] == "cancelled"
        assert http.post(f"/v1beta/interactions/{iid}/cancel").json()["status"] == "cancelled"


def test_delete_no_cancel_answers_success_while_the_run_goes_on(engine_factory: Any) -> None:
    eng = engine_factory("--inject-fault", "delete-no-cancel")
    with eng.http() as http:
        iid = _background_run(http)
        deleted = http.delete(f"/v1beta/interactions/{iid}")
        assert deleted.status_code == 200 and deleted.json() == {}
        assert _status(http, iid) == "in_progress"  # the run went on
        deadline = time.monotonic() + 10
        while _status(http, iid) == "in_progress" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _status(http, iid) == "completed"
        # Once it has ended, a delete deletes.
        assert http.delete(f"/v1beta/interactions/{iid}").status_code == 200
        assert http.get(f"/v1beta/interactions/{iid}").status_code == 404


def test_cancel_ignored_answers_the_run_still_going(engine_factory: Any) -> None:
    eng = engine_factory("--inject-fault", "cancel-ignored")
    with eng.http() as http:
        answer = http.post(f"/v1beta/interactions/{_background_run(http)}:cancel")
        assert answer.status_code == 200
        assert answer.json()["status"] == "in_progress"


@dataclass
class _Deletion:
    """The app's delete of a long background run: the engine, the run, what the delete said."""

    eng: EngineProcess
    iid: str
    tracker: RunTracker
    run: RunRecord
    outcome: DeleteOutcome


@contextlib.asynccontextmanager
async def _app_deletes_a_long_run(
    engine_factory: Any, tmp_path: Path, title: str, *faults: str
) -> AsyncIterator[_Deletion]:
    """On an engine with ``faults``: a long background run the app's tracker adopts, then
    deletes; yields what that left (the client and history are closed afterwards)."""
    from workbench.client import Client
    from workbench.core.history import HistoryStore
    from workbench.core.runs import RunTracker

    args = [arg for fault in faults for arg in ("--inject-fault", fault)]
    eng = engine_factory(*args)
    client = Client(eng.url, api_key=eng.token)
    history = HistoryStore(tmp_path / "h.sqlite3")
    try:
        iid = (
            await client.interactions.create(
                {"model": "scripted", "input": "[[tokens: 400, 0.05]]", "background": True}
            )
        ).id
        assert iid is not None
        tracker = RunTracker(tmp_path / "runs.json", history)
        run = tracker.adopt(iid, {"model": "scripted"}, profile_id="local", title=title)
        outcome = await tracker.delete(client, run)
        yield _Deletion(eng, iid, tracker, run, outcome)
    finally:
        history.close()
        await client.aclose()


async def test_app_deletes_a_running_run_by_cancelling_first(
    engine_factory: Any, tmp_path: Path
) -> None:
    """With a DELETE that does not cancel, the app's delete still stops the run."""
    async with _app_deletes_a_long_run(
        engine_factory, tmp_path, "long", "delete-no-cancel"
    ) as done:
        assert done.outcome.ok, done.outcome.message
        assert done.tracker.get(done.run.id) is None
        with done.eng.http() as http:
            assert http.get(f"/v1beta/interactions/{done.iid}").status_code == 404


async def test_app_tells_the_user_when_the_server_keeps_running_a_deleted_run(
    engine_factory: Any, tmp_path: Path
) -> None:
    async with _app_deletes_a_long_run(
        engine_factory, tmp_path, "stuck", "delete-no-cancel", "cancel-ignored"
    ) as done:
        assert not done.outcome.ok
        assert "keeps running" in done.outcome.message
        assert done.tracker.get(done.run.id) is done.run
        assert done.run.error == done.outcome.message
        with done.eng.http() as http:
            assert _status(http, done.iid) == "in_progress"  # not deleted behind the user's back
