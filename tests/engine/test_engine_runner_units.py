"""The runner in process: what happens to a create whose run cannot start.

These paths cannot be reached through the HTTP engine without breaking its database, so the
runner is built here as ``server.py`` builds it, on the scripted backend and a real store.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.engine.agent.definitions import AgentDefinitions
from workbench.engine.agent.runs import AgentRuns
from workbench.engine.backends.scripted import ScriptedBackend
from workbench.engine.config import EngineConfig
from workbench.engine.eventlog import EventLog
from workbench.engine.parsing import parse_create
from workbench.engine.runner import Runner
from workbench.engine.sandbox import CodeRunner, EnvironmentStore, ExecLimits
from workbench.engine.store import InteractionRecord, Store

pytestmark = pytest.mark.timeout(60)


class _FullDisk(Store):
    """A store whose interaction rows cannot be written."""

    async def insert_interaction(self, record: InteractionRecord) -> None:
        raise OSError(28, "No space left on device")


async def _runner(store: Store, data_dir: Path) -> tuple[Runner, EnvironmentStore]:
    await store.open()
    config = EngineConfig(data_dir=data_dir, backend="scripted")
    backend = ScriptedBackend()
    runner = Runner(config, store, EventLog(store), backend)
    envs = EnvironmentStore(data_dir)
    code = CodeRunner(limits=ExecLimits(wall_seconds=10))
    runner.agents = AgentRuns(config, backend, envs, AgentDefinitions(store, envs), code)
    return runner, envs


def _code_create() -> dict[str, object]:
    return {"model": "gemini-2.5-flash", "input": "hello", "tools": [{"type": "code_execution"}]}


async def test_a_create_whose_row_cannot_be_stored_leaves_no_sandbox(tmp_path: Path) -> None:
    store = _FullDisk(tmp_path / "engine.db")
    runner, envs = await _runner(store, tmp_path)
    try:
        with pytest.raises(OSError, match="No space left"):
            await runner.create(parse_create(_code_create()))
        assert await envs.list() == ([], None)
        assert runner.index.every() == []
    finally:
        await store.close()


async def test_a_started_run_keeps_the_sandbox_made_for_it(tmp_path: Path) -> None:
    store = Store(tmp_path / "engine.db")
    runner, envs = await _runner(store, tmp_path)
    try:
        run = await runner.create(parse_create(_code_create()))
        await run.done.wait()
        made, _ = await envs.list()
        assert [env.id for env in made] == [run.record.resource["environment_id"]]
        await runner.shutdown()
    finally:
        await store.close()
