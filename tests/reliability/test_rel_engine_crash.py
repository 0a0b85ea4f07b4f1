"""Issue 7 item 3 (engine): kill -9 in the middle of background runs, restart on the same data.

Every cycle: finished interactions of several kinds exist (answered, streamed, a function
call waiting, cancelled, failed, a conversation), background runs are going (some running,
some queued), one of them followed by the app's run tracker; the engine is killed with
SIGKILL at a random moment and started again on the same data dir. Then:

* every run that was going is terminal — ``failed`` with ``engine_restarted`` — and its event
  log replays to ``interaction.completed`` and ``[DONE]`` (a re-attaching client ends);
* every earlier interaction's GET is identical to before the kill, and so is its replay;
* conversations continue from earlier interactions;
* the run tracker re-attaches (to the new port) and records the failure in plain words.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.rel_engine import Engine
from workbench.client import APIConnectionError, Client, ResumePolicy, RetryPolicy
from workbench.core.history import HistoryStore
from workbench.core.runs import RunTracker

V = "/v1beta/interactions"


def _http(eng: Engine) -> httpx.Client:
    return httpx.Client(base_url=eng.url, headers={"x-goog-api-key": eng.token}, timeout=30)


def _replay(http: httpx.Client, iid: str) -> list[dict[str, Any]]:
    text = http.get(f"{V}/{iid}", params={"stream": "true"}).text
    assert text.endswith("data: [DONE]\n\n"), text[-200:]
    return [
        json.loads(line[6:])
        for line in text.split("\n")
        if line.startswith("data: ") and line != "data: [DONE]"
    ]


def _earlier(http: httpx.Client, n: int) -> list[str]:
    """Finished interactions of every kind, as a user would have left them."""
    ids: list[str] = []

    def post(body: dict[str, Any]) -> dict[str, Any]:
        reply = http.post(V, json=body)
        assert reply.status_code == 200, reply.text
        data: dict[str, Any] = reply.json()
        ids.append(data["id"])
        return data

    first = post({"model": "scripted", "input": f"[[text: cycle {n} answer ünï]]"})
    post(
        {
            "model": "scripted",
            "input": "[[text: follow-up]]",
            "previous_interaction_id": first["id"],
        }
    )
    post({"model": "scripted", "input": '[[call lookup {"q": 1}]]',
          "tools": [{"type": "function", "name": "lookup"}]})  # fmt: skip
    post({"model": "scripted", "input": "[[text: half]] [[error: boom]]"})
    stream = http.post(V, json={"model": "scripted", "input": "[[tokens: 30]]", "stream": True})
    ids.append(next(e for e in _events(stream.text))["interaction"]["id"])
    bg = post({"model": "scripted", "input": "[[delay: 30]]", "background": True})
    http.post(f"{V}/{bg['id']}/cancel").raise_for_status()
    done = post({"model": "scripted", "input": "[[tokens: 5]]", "background": True})
    deadline = time.monotonic() + 10
    while http.get(f"{V}/{done['id']}").json()["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return ids


def _events(text: str) -> list[dict[str, Any]]:
    return [
        json.loads(line[6:])
        for line in text.split("\n")
        if line.startswith("data: ") and line != "data: [DONE]"
    ]


@pytest.mark.timeout(240)
async def test_kill_9_mid_background_runs_then_restart(
    engines: Callable[..., Engine], tmp_path: Path
) -> None:
    data = tmp_path / "engine-data"
    rng = random.Random(3)
    history = HistoryStore(tmp_path / "history.sqlite3")
    tracker = RunTracker(tmp_path / "runs.json", history)
    earlier: dict[str, dict[str, Any]] = {}
    replays: dict[str, list[dict[str, Any]]] = {}
    try:
        for cycle in range(4):
            eng = engines("--max-background-runs", "3", data_dir=data)
            with _http(eng) as http:
                # What was there before must still be exactly there.
                for iid, before in earlier.items():
                    assert http.get(f"{V}/{iid}").json() == before, iid
                    assert _replay(http, iid) == replays[iid], iid
                for iid in _earlier(http, cycle):
                    earlier[iid] = http.get(f"{V}/{iid}").json()
                    replays[iid] = _replay(http, iid)
                # Background work going at the moment of the kill: 3 running, 2 queued.
                going = [
                    http.post(
                        V,
                        json={
                            "model": "scripted",
                            "input": f"[[thought: t{k}]] [[tokens: 400, 0.01]]",
                            "background": True,
                        },
                    ).json()["id"]
                    for k in range(5)
                ]
            # The app's run tracker follows one more run live.
            client = Client(
                eng.url,
                api_version="v1beta",
                api_key=eng.token,
                resume=ResumePolicy(initial_delay=0.05, max_delay=0.1, max_attempts=2),
                retry=RetryPolicy(max_retries=1, initial_delay=0.05),
            )
            body = {"model": "scripted", "input": "[[tokens: 400, 0.01]] tracked"}
            run = tracker.new_run(body, profile_id="local", title=f"cycle {cycle}")
            follow = asyncio.ensure_future(tracker.launch(client, run, body))
            await asyncio.sleep(0.3 + rng.random() * 0.7)
            assert run.status in ("queued", "in_progress") and run.interaction_id
            eng.kill9()
            with pytest.raises(APIConnectionError):
                await asyncio.wait_for(follow, 20)
            await client.aclose()
            assert run.status in ("queued", "in_progress")  # not known to have ended yet

            eng2 = engines("--max-background-runs", "3", data_dir=data)
            assert eng2.port != 0
            with _http(eng2) as http:
                for iid in [*going, run.interaction_id]:
                    got = http.get(f"{V}/{iid}").json()
                    assert got["status"] == "failed", got
                    assert got["errors"][0]["code"] == "engine_restarted"
                    events = _replay(http, iid)
                    assert [e["event_id"] for e in events] == [
                        str(k) for k in range(1, len(events) + 1)
                    ]
                    assert events[-1]["event_type"] == "interaction.completed"
                    assert events[-1]["interaction"]["status"] == "failed"
                for iid, before in earlier.items():
                    assert http.get(f"{V}/{iid}").json() == before, iid
                    assert _replay(http, iid) == replays[iid], iid
                # A conversation continues from an interaction made before the crash.
                first = next(iter(earlier))
                more = http.post(V, json={"model": "scripted", "input": "[[text: still here]]",
                                          "previous_interaction_id": first}).json()  # fmt: skip
                assert more["status"] == "completed"
                earlier[more["id"]] = http.get(f"{V}/{more['id']}").json()
                replays[more["id"]] = _replay(http, more["id"])
            # The tracker re-attaches to the restarted engine and ends the run in plain words.
            async with Client(eng2.url, api_version="v1beta", api_key=eng2.token) as client2:
                await tracker.attach(client2, run)
            assert run.status == "failed" and run.ended is not None
            assert "engine stopped" in run.error or "restart" in run.error, run.error
            rec = history.interaction(run.interaction_id)
            assert rec is not None and rec.status == "failed"
            eng2.stop()
    finally:
        history.close()
