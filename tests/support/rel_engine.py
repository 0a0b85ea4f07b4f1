"""The real engine as a subprocess, for the reliability suites and their benchmark scripts.

Synchronous on purpose (``subprocess``), so sync tests, async tests, Qt tests and the scripts
under ``benchmarks/`` can all use it. Processes are only ever stopped by their own PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TOKEN = "reliability-token"


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the engine gets SIGTERM if the test process dies (a crash leaves no orphan)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


ENGINE_BIN = Path(sys.executable).with_name("workbench-engine")


class Engine:
    """One ``workbench-engine --backend scripted`` process on a free loopback port."""

    def __init__(
        self, data_dir: Path, *extra: str, token: str = TOKEN, env: dict[str, str] | None = None
    ) -> None:
        self.data_dir = data_dir
        self.token = token
        self.args = [
            str(ENGINE_BIN),
            "--backend",
            "scripted",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            "--token",
            token,
            *extra,
        ]
        self.env = env
        self.stderr_path = data_dir.parent / f"{data_dir.name}-stderr.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}

    def start(self, timeout: float = 30.0) -> Engine:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.stderr_path.open("ab") as stderr:
            self.proc = subprocess.Popen(
                self.args,
                stdout=subprocess.PIPE,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
                env=self.env,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.proc.poll() is not None:
                self.kill()
                raise RuntimeError(f"engine did not start: {self.stderr()}")
            ready, _, _ = select.select([self.proc.stdout], [], [], remaining)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if chunk:
                    line += chunk
        self.info = json.loads(line.decode())
        return self

    def __enter__(self) -> Engine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return str(self.info["url"])

    @property
    def port(self) -> int:
        return int(self.info["port"])

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def rss_kib(self) -> int:
        """Resident memory of the engine process (``VmRSS`` from ``/proc``)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def kill9(self) -> None:
        """SIGKILL by PID, then reap: a crash, not a shutdown."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM and wait (SIGKILL if it does not stop)."""
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            self.kill()
