"""Start, find and stop the local engine as a child process.

The engine runs in its own process so background runs go on when the window closes. Its token
is handed over in the environment (never on the command line, where other users could read it
with ``ps``), and the engine's ``engine.json`` (mode 0600) lets the next app start re-use an
engine that is still running. While it starts (a first start assembles the default model,
~25 s) it reports each phase on stderr (``engine/progress.py``); those lines reach
``on_progress`` as ``EngineProgress`` and keep the start from timing out while work goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

TOKEN_ENV = "WORKBENCH_ENGINE_TOKEN"
FROZEN_ENGINE = "workbench-engine.exe" if sys.platform == "win32" else "workbench-engine"
"""The engine's executable beside the app's in a frozen (PyInstaller) bundle."""


def engine_command(python: str | None = None) -> list[str]:
    """How to run the engine: ``python -m workbench.engine``, or, in a frozen bundle (where
    ``sys.executable`` is the app itself), the bundle's own ``workbench-engine``."""
    if python is None and getattr(sys, "frozen", False):
        return [str(Path(sys.executable).with_name(FROZEN_ENGINE))]
    return [python or sys.executable, "-m", "workbench.engine"]


PROGRESS_PREFIX = "workbench-engine: progress "
"""How the engine's progress lines start (``engine/progress.py``; the layers stay apart)."""


class EngineStartError(Exception):
    """The engine did not start; the message carries its last output lines.

    Attributes:
        last_line: the engine's last line of output ("" if it said nothing), for one-line
            summaries ("exited: database is locked").
        exited: whether the process ended (rather than stalling or talking nonsense).
    """

    def __init__(self, message: str, *, last_line: str = "", exited: bool = False) -> None:
        super().__init__(message)
        self.last_line = last_line
        self.exited = exited


@dataclass(frozen=True)
class EngineProgress:
    """One startup phase the engine reported: its words and, when known, bytes done/total."""

    phase: str
    message: str
    done: int | None = None
    total: int | None = None

    @property
    def fraction(self) -> float | None:
        """How far the phase is (0..1), or None when the engine gave no figures."""
        if self.done is None or not self.total:
            return None
        return max(0.0, min(1.0, self.done / self.total))

    def describe(self) -> str:
        """For people: "Preparing the local model (first start only): 240 of 491 MB"."""
        if self.fraction is None or self.total is None or self.done is None:
            return f"{self.message}…"
        mb = 1_000_000
        return f"{self.message}: {self.done // mb} of {self.total // mb} MB"


def parse_progress(line: str) -> EngineProgress | None:
    """The progress a stderr line reports, or None for ordinary log lines."""
    if not line.startswith(PROGRESS_PREFIX):
        return None
    try:
        raw = json.loads(line[len(PROGRESS_PREFIX) :])
    except ValueError:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("message"), str):
        return None
    done, total = raw.get("done"), raw.get("total")
    numbers = isinstance(done, int) and isinstance(total, int) and total > 0
    return EngineProgress(
        str(raw.get("phase") or ""),
        raw["message"],
        done if numbers else None,
        total if numbers else None,
    )


@dataclass(frozen=True)
class EngineInfo:
    """How to reach a running engine."""

    url: str
    port: int
    pid: int
    token: str
    notice: str = ""
    """What the engine said the user should know when it started (e.g. a damaged database
    was moved aside), or ""."""

    def __repr__(self) -> str:  # the token stays out of logs and tracebacks
        return f"EngineInfo(url={self.url!r}, port={self.port}, pid={self.pid}, token=<redacted>)"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_engine_file(data_dir: Path) -> EngineInfo | None:
    """The engine described by ``data_dir/engine.json`` if its process is still alive."""
    try:
        raw = json.loads((data_dir / "engine.json").read_text(encoding="utf-8"))
        info = EngineInfo(str(raw["url"]), int(raw["port"]), int(raw["pid"]), str(raw["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info if _pid_alive(info.pid) else None


async def wait_for_exit(pid: int, timeout: float = 10.0) -> bool:  # noqa: ASYNC109
    """Poll until process ``pid`` is gone (True) or ``timeout`` seconds passed (False)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while _pid_alive(pid):
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


class EngineProcess:
    """One child engine process on a free loopback port."""

    def __init__(
        self,
        data_dir: Path,
        *,
        backend: str = "llama",
        model: str | None = None,
        extra_args: tuple[str, ...] = (),
        python: str | None = None,
        on_progress: Callable[[EngineProgress], None] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.on_progress = on_progress
        """Told each startup phase the engine reports (called on the event loop)."""
        self.progress: EngineProgress | None = None
        self._activity = time.monotonic()
        self.backend = backend
        self.model = model
        self.extra_args = extra_args
        self.python = python
        self.info: EngineInfo | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr_tail: list[str] = []
        self._stderr_task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def start(self, timeout: float = 120.0) -> EngineInfo:  # noqa: ASYNC109
        """Launch the engine and wait for its ready line.

        ``timeout`` counts from the engine's last sign of life (a progress or log line), so a
        slow first start that keeps reporting is not cut off.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(32)
        args = [*engine_command(self.python), "--host", "127.0.0.1", "--port", "0"]
        args += ["--data-dir", str(self.data_dir), "--backend", self.backend]
        if self.model:
            args += ["--model", self.model]
        args += list(self.extra_args)
        env = dict(os.environ)
        env[TOKEN_ENV] = token
        self._proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            start_new_session=True,  # a Ctrl+C in the terminal must not kill background runs
        )
        self._activity = time.monotonic()
        self._stderr_task = asyncio.create_task(self._drain_stderr())
        assert self._proc.stdout is not None
        line = await self._ready_line(timeout)
        if not line:
            await self._proc.wait()
            if self._stderr_task is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._stderr_task, 2)
            raise EngineStartError(
                self._explain(f"exited with code {self._proc.returncode}"),
                last_line=self.last_line,
                exited=True,
            )
        try:
            ready = json.loads(line)
            self.info = EngineInfo(
                str(ready["url"]),
                int(ready["port"]),
                int(ready["pid"]),
                token,
                str(ready.get("notice") or ""),
            )
        except (ValueError, KeyError, TypeError):
            await self.stop()
            raise EngineStartError(
                self._explain("printed an unreadable ready line"), last_line=self.last_line
            ) from None
        return self.info

    async def _ready_line(self, timeout: float) -> bytes:  # noqa: ASYNC109
        """The engine's first stdout line; gives up after ``timeout`` s without a sign of life."""
        assert self._proc is not None and self._proc.stdout is not None
        reading = asyncio.ensure_future(self._proc.stdout.readline())
        try:
            while True:
                quiet = time.monotonic() - self._activity
                wait = max(0.05, min(1.0, timeout - quiet))
                done, _ = await asyncio.wait({reading}, timeout=wait)
                if done:
                    return reading.result()
                if time.monotonic() - self._activity >= timeout:
                    break
        finally:
            reading.cancel()
        await self.stop()
        raise EngineStartError(
            self._explain(f"stopped answering for {timeout:.0f} s while starting"),
            last_line=self.last_line,
        )

    async def _drain_stderr(self) -> None:
        assert self._proc is not None
        assert self._proc.stderr is not None
        while True:
            raw = await self._proc.stderr.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip()
            self._activity = time.monotonic()
            progress = parse_progress(line)
            if progress is not None:
                self.progress = progress
                if self.on_progress is not None and self.info is None:
                    try:
                        self.on_progress(progress)
                    except Exception:  # a view's problem must not stop the engine's output
                        log.exception("engine progress callback failed")
                continue
            self._stderr_tail.append(line)
            del self._stderr_tail[:-20]
            log.info("engine: %s", line)

    @property
    def exit_code(self) -> int | None:
        """The exit status of an engine that ended on its own (None while it runs)."""
        return self._proc.returncode if self._proc is not None else None

    @property
    def last_line(self) -> str:
        """The engine's last log line (progress lines aside), or ""."""
        return next((line for line in reversed(self._stderr_tail) if line.strip()), "")

    def _explain(self, what: str) -> str:
        tail = "\n".join(self._stderr_tail[-8:])
        return f"The local engine {what}." + (f"\nIts last output:\n{tail}" if tail else "")

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """SIGTERM, then SIGKILL if it does not exit in time."""
        proc = self._proc
        if proc is None:
            return
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if self._stderr_task is not None:
            self._stderr_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._stderr_task
        self._proc = None
