"""Issue 7 item 3 (app): kill -9 the app during background runs, start it again.

The real app (``workbench.app.main``) runs in a subprocess under offscreen Qt, driven by
``gui/app_driver.py``: a chat turn, then a background chat turn and a Runs-dock run. While
both runs stream, the app is killed with SIGKILL (its engine, in its own session, keeps
going). A second app start on the same folder must re-use the engine, re-attach both runs
(same interaction ids — never re-created), see them finish, and have every history row.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

DRIVER = Path(__file__).parent / "gui" / "app_driver.py"


class Driver:
    def __init__(self, mode: str, basedir: Path, log: Path) -> None:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
        env["PYTHONPATH"] = os.pathsep.join(
            [str(Path(__file__).parents[1]), env.get("PYTHONPATH", "")]
        )
        self.log = log
        with log.open("ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(DRIVER), mode, "--basedir", str(basedir)],
                stdout=subprocess.PIPE,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        self._buffer = b""

    def line(self, timeout: float = 60.0) -> dict[str, Any]:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.proc.poll() is not None:
                raise AssertionError(
                    f"no report from the app; its log:\n{self.log.read_text()[-3000:]}"
                )
            ready, _, _ = select.select([self.proc.stdout], [], [], remaining)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        data: dict[str, Any] = json.loads(line)
        assert "error" not in data, data
        return data

    def close(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _engine_pid(home: Path) -> int:
    """The app's engine, from its ``engine.json`` (0 when there is none)."""
    try:
        return int(json.loads((home / "data" / "engine" / "engine.json").read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.timeout(180)
def test_kill_9_the_app_mid_run_then_start_again(tmp_path: Path) -> None:
    home = tmp_path / "home"
    log = tmp_path / "app.log"
    engine_pid = 0
    first = Driver("launch", home, log)
    try:
        ready = first.line(90)
        engine_pid = ready["engine_pid"]
        runs_before: dict[str, list[str]] = ready["runs"]
        assert len(runs_before) == 2 and all(len(ids) == 1 for ids in runs_before.values())
        os.kill(first.proc.pid, signal.SIGKILL)  # a crash: no shutdown code runs
        assert first.proc.wait(10) == -signal.SIGKILL
    finally:
        first.close()
        if not engine_pid and _engine_pid(home) and _alive(_engine_pid(home)):
            os.kill(_engine_pid(home), signal.SIGTERM)  # the first start failed: clean up
    assert _alive(engine_pid)  # the engine lives on in its own session
    db = home / "data" / "history.sqlite3"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    second = Driver("observe", home, log)
    try:
        done = second.line(90)
        assert second.proc.wait(30) == 0  # it quits normally and stops the engine
    finally:
        second.close()
        for pid in {engine_pid, _engine_pid(home)} - {0}:
            if _alive(pid):  # only if the app failed to stop its engine
                os.kill(pid, signal.SIGTERM)
    assert done["engine_pid"] == engine_pid  # the same engine, re-used
    for run_id, ids in runs_before.items():
        after = done["runs"][run_id]
        assert after["interaction_ids"] == ids  # re-attached, never re-created
        assert after["status"] == "completed", after
        assert after["tokens"] >= 150 and after["error"] == ""
    deadline = time.monotonic() + 10
    while _alive(engine_pid):
        assert time.monotonic() < deadline, "the engine did not stop"
        time.sleep(0.05)
    # Every history row is there: the first turn and both runs, with their whole answers.
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = dict(conn.execute("SELECT id, status FROM interactions").fetchall())
        data = dict(conn.execute("SELECT id, data FROM interactions").fetchall())
    assert len(rows) == 3
    assert sorted(rows.values()) == ["completed"] * 3
    for ids in runs_before.values():
        text = json.dumps(json.loads(data[ids[0]]))
        assert "t149" in text
    assert any("a turn before the crash" in d for d in data.values())
