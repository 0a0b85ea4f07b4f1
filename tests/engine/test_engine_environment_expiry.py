"""Environments expire (protocol.md §9.3): through the engine, with the official SDK.

The engine sweeps at startup, before it serves, and then hourly; these tests move an
environment's timestamps back on disk and restart the engine instead of waiting days. The
in-process test checks that the runner's live interactions keep their sandboxes.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import EngineProcess
from google.genai._gaos.lib import compat_errors

from workbench.engine.agent.definitions import AgentDefinitions
from workbench.engine.agent.runs import AgentRuns
from workbench.engine.backends.scripted import ScriptedBackend
from workbench.engine.config import EngineConfig
from workbench.engine.eventlog import EventLog
from workbench.engine.parsing import parse_create
from workbench.engine.runner import Runner
from workbench.engine.sandbox import CodeRunner, EnvironmentStore, ExecLimits
from workbench.engine.sandbox.expiry import EnvironmentSweeper, utc_now
from workbench.engine.store import Store

pytestmark = pytest.mark.timeout(90)

AGENT = "antigravity-preview-05-2026"


def _ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _edit(eng: EngineProcess, env_id: str, **fields: str) -> None:
    meta = eng.data_dir / "environments" / env_id / "environment.json"
    data = json.loads(meta.read_text())
    data.update(fields)
    meta.write_text(json.dumps(data))


def _unused_for(eng: EngineProcess, env_id: str, days: float) -> None:
    stamp = _ago(days=days)
    _edit(eng, env_id, created=stamp, updated=stamp, last_accessed=stamp)


def _restart(engine_factory: Any, eng: EngineProcess, *extra: str) -> EngineProcess:
    eng.stop()
    started: EngineProcess = engine_factory(*extra, data_dir=eng.data_dir)
    return started


def test_an_unused_environment_expires_then_disappears(engine_factory: Any) -> None:
    eng = engine_factory()
    client = eng.client(retry_options={"attempts": 1})
    old = client.environments.create(
        sources=[{"type": "inline", "target": "workspace/a.txt", "content": "A"}]
    )
    recent = client.environments.create()
    _unused_for(eng, old.id, 8)
    _unused_for(eng, recent.id, 6)
    eng = _restart(engine_factory, eng)
    client = eng.client(retry_options={"attempts": 1})

    got = client.environments.get(old.id)
    assert got.status == "expired"
    assert got.file_count is None
    # The files go on the sweeper's task, right after the start.
    root = eng.data_dir / "environments" / old.id / "root"
    deadline = time.monotonic() + 30
    while root.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not root.exists()
    assert (eng.data_dir / "environments" / recent.id / "root").is_dir()
    assert client.environments.get(recent.id).status == "active"
    listed = {e.id: e.status for e in client.environments.list(page_size=100).environments or []}
    assert listed == {old.id: "expired", recent.id: "active"}
    with pytest.raises(compat_errors.APIError) as info:
        client.interactions.create(agent=AGENT, input="hi", environment=old.id)
    assert info.value.status_code == 404
    with pytest.raises(compat_errors.APIError) as info:
        client.interactions.create(
            model="gemini-2.5-flash",
            input="hi",
            tools=[{"type": "code_execution"}],
            environment=old.id,
        )
    assert info.value.status_code == 404
    with pytest.raises(compat_errors.APIError) as info:
        client.environments.files.list(environment=old.id, path=".")
    assert info.value.status_code == 404

    # The grace of the metadata (24 h) passes: the environment is gone.
    _edit(eng, old.id, expired_at=_ago(hours=25))
    eng = _restart(engine_factory, eng)
    client = eng.client(retry_options={"attempts": 1})
    with pytest.raises(compat_errors.APIError) as info:
        client.environments.get(old.id)
    assert info.value.status_code == 404
    assert not (eng.data_dir / "environments" / old.id).exists()
    assert [e.id for e in client.environments.list().environments or []] == [recent.id]


def test_ttl_zero_keeps_environments(engine_factory: Any) -> None:
    eng = engine_factory("--environment-ttl-days", "0")
    client = eng.client()
    env = client.environments.create()
    _unused_for(eng, env.id, 400)
    eng = _restart(engine_factory, eng, "--environment-ttl-days", "0")
    assert eng.client().environments.get(env.id).status == "active"


def test_a_negative_ttl_is_refused(tmp_path: Path) -> None:
    eng = EngineProcess(tmp_path / "data", "--environment-ttl-days", "-1")
    with pytest.raises(RuntimeError, match="environment-ttl-days"):
        eng.start()


async def test_running_and_queued_interactions_keep_their_sandboxes(tmp_path: Path) -> None:
    store = Store(tmp_path / "engine.db")
    await store.open()
    config = EngineConfig(
        data_dir=tmp_path, backend="scripted", faults=frozenset({"stall"}), max_background_runs=1
    )
    backend = ScriptedBackend()
    runner = Runner(config, store, EventLog(store), backend)
    envs = EnvironmentStore(tmp_path)
    code = CodeRunner(limits=ExecLimits(wall_seconds=10))
    runner.agents = AgentRuns(config, backend, envs, AgentDefinitions(store, envs), code)
    body = {
        "model": "gemini-2.5-flash",
        "input": "hello",
        "tools": [{"type": "code_execution"}],
        "background": True,
    }
    try:
        running = await runner.create(parse_create(body))
        queued = await runner.create(parse_create(body))
        assert (running.record.status, queued.record.status) == ("in_progress", "queued")
        idle = await envs.create()
        later = utc_now() + timedelta(days=8)
        sweeper = EnvironmentSweeper(
            envs,
            ttl_days=7,
            keep_hours=24,
            in_use=runner.index.environment_ids,
            clock=lambda: later,
        )
        assert (await sweeper.sweep()).expired == [idle.id]
        for run in (running, queued):
            env_id = run.record.resource["environment_id"]
            assert (await envs.get(env_id)).status == "active"
        await runner.cancel(running.id)
        await runner.cancel(queued.id)
        expired = (await sweeper.sweep()).expired
        assert sorted(expired) == sorted(
            run.record.resource["environment_id"] for run in (running, queued)
        )
    finally:
        await runner.shutdown()
        await store.close()
