"""Start, find and stop the local engine as a child process.

The engine runs in its own process so background runs go on when the window closes. Its token
is handed over in the environment (never on the command line, where other users could read it
with ``ps``), and the engine's ``engine.json`` (mode 0600) lets the next app start re-use an
engine that is still running.
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


class EngineStartError(Exception):
    """The engine did not start; the message carries its last output lines."""


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
    ) -> None:
        self.data_dir = data_dir
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
        """Launch the engine and wait for its ready line."""
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
        self._stderr_task = asyncio.create_task(self._drain_stderr())
        assert self._proc.stdout is not None
        try:
            line = await asyncio.wait_for(self._proc.stdout.readline(), timeout)
        except TimeoutError:
            await self.stop()
            raise EngineStartError(self._explain("did not become ready in time")) from None
        if not line:
            await self._proc.wait()
            if self._stderr_task is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._stderr_task, 2)
            raise EngineStartError(self._explain(f"exited with code {self._proc.returncode}"))
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
            raise EngineStartError(self._explain("printed an unreadable ready line")) from None
        return self.info

    async def _drain_stderr(self) -> None:
        assert self._proc is not None
        assert self._proc.stderr is not None
        while True:
            raw = await self._proc.stderr.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip()
            self._stderr_tail.append(line)
            del self._stderr_tail[:-20]
            log.info("engine: %s", line)

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
