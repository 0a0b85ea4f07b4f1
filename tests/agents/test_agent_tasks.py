"""The agent task suite with the real default model (``benchmarks/agent_tasks.py``).

It checks that the suite *runs*: the engine with the llama backend takes every task to a
terminal status, the checkers inspect the sandboxes, and the results are recorded. How many
tasks the 0.5B model passes is measured, not asserted (docs/performance.md, "Agent task
suite", has the figure and the command).
"""

from __future__ import annotations

import importlib.metadata as metadata
import importlib.util
import json
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = [pytest.mark.model, pytest.mark.timeout(420)]

ROOT = Path(__file__).resolve().parents[2]


def _suite() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "agent_tasks", ROOT / "benchmarks" / "agent_tasks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["agent_tasks"] = module
    spec.loader.exec_module(module)
    return module


def _model_missing() -> str | None:
    from workbench.engine.backends import model_files

    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (pip install 'workbench[local]')"
    try:
        metadata.distribution(model_files.DEFAULT_MODEL.packages[0])
    except metadata.PackageNotFoundError:
        return "the default model packages are not installed (pip install 'workbench[local]')"
    return None


def test_agent_task_suite_runs_and_records(tmp_path: Path) -> None:
    reason = _model_missing()
    if reason:
        pytest.skip(reason)
    suite = _suite()
    home = suite.model_home(tmp_path / "home")
    started = time.monotonic()
    with suite.Engine(home, *suite.SUITE_ARGS) as engine:
        results = suite.run_suite(engine.url, suite.TOKEN)
    elapsed = time.monotonic() - started
    report = suite.summary(results)
    print(report)
    (tmp_path / "agent-tasks.json").write_text(json.dumps([r.__dict__ for r in results]))
    assert [r.task for r in results] == [t.name for t in suite.TASKS]
    for result in results:
        assert not result.error, result
        assert result.status in ("completed", "budget_exceeded", "incomplete"), result
        assert result.steps and result.steps[0] == "user_input"
        assert result.tool_calls >= 1, result  # the first turn must act (agent_first_call)
    assert "pass rate:" in report
    assert elapsed < 300, f"the suite took {elapsed:.0f} s"
