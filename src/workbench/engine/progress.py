"""What the engine is doing while it starts, told on stderr for whoever started it.

The engine announces readiness with one JSON line on stdout (``cli.py``); until then the only
sign of life used to be silence, for ~25 s on a first start while the default model is
assembled from its packages. Each startup phase is now reported as one stderr line,
``workbench-engine: progress {"phase": …, "message": …, "done": …, "total": …}``, which the
app shows as a progress bar (``core/engine_process.py`` reads it). ``done``/``total`` are
bytes when known and absent otherwise. Lines are written whatever the log level, at most a
few per second (``Reporter``), so a terminal user sees them too. Only the command
(``cli.main``) turns them on: an engine built in-process (tests, tools) stays quiet.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

PREFIX = "workbench-engine: progress "
HOLD_ENV = "WORKBENCH_ENGINE_HOLD_START"
"""The environment variable naming a hold file (``--hold-start``'s default)."""

PHASES = ("database", "verify", "assemble", "load", "held")
"""The phases reported: opening the database, hashing an unmarked model file, joining the
model from its packages (first start only), loading it into memory, and a test's hold."""


_enabled = False


def enable(on: bool = True) -> None:
    """Turn progress lines on (the ``workbench-engine`` command does, before it starts)."""
    global _enabled
    _enabled = on


def report(phase: str, message: str, done: int | None = None, total: int | None = None) -> None:
    """Write one progress line to stderr (never fails: progress is only a courtesy)."""
    if not _enabled:
        return
    line: dict[str, object] = {"phase": phase, "message": message}
    if done is not None and total:
        line["done"], line["total"] = int(done), int(total)
    try:
        sys.stderr.write(PREFIX + json.dumps(line) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


class Reporter:
    """Reports byte progress of one phase, at most every ``interval`` seconds (and at the end)."""

    def __init__(self, phase: str, message: str, total: int, interval: float = 0.25) -> None:
        self.phase, self.message, self.total, self.interval = phase, message, total, interval
        self._last = 0.0

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if done >= self.total or now - self._last >= self.interval:
            self._last = now
            report(self.phase, self.message, done, self.total)


async def hold(path: Path, poll: float = 0.05) -> None:
    """Wait while ``path`` exists, reporting phase ``held`` (for tests of a slow start).

    The file's last line, if it is a JSON object with ``message`` (and optionally ``done``
    and ``total``), is reported as the progress instead: a test can script what the app sees.
    """
    shown: str | None = None
    while True:
        try:
            text = path.read_text(encoding="utf-8")  # noqa: ASYNC240 (a tiny test file)
        except FileNotFoundError:
            return
        except OSError:
            text = ""
        last = text.strip().splitlines()[-1] if text.strip() else ""
        if last != shown:
            shown = last
            _report_held(last, path)
        await asyncio.sleep(poll)


def _report_held(line: str, path: Path) -> None:
    try:
        data = json.loads(line) if line else None
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        done, total = data.get("done"), data.get("total")
        report(
            str(data.get("phase") or "held"),
            data["message"],
            done if isinstance(done, int) else None,
            total if isinstance(total, int) else None,
        )
    else:
        report("held", f"Start held until {path} is removed.")
