"""A new user's first session, driven for real: Xvfb (1400×900), openbox, the app, its engine.

The app runs in a child process (``drive.py``) because this test process already has an
offscreen QApplication; it gets its own X server and window manager, a fresh data home and
no keyring — what the issue-19 walkthrough found. Every process started here is stopped by
its own pid in ``finally``.

The screenshots go to the test's tmp dir; with ``WORKBENCH_SCREENSHOTS=docs/screenshots``
they replace the ones in the README and the user guide.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = (
    "walkthrough-first-start",
    "walkthrough-chat",
    "walkthrough-attachments",
    "walkthrough-agent-run",
    "walkthrough-sandbox",
    "walkthrough-settings",
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(400),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Xvfb is Linux-only"),
]


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, then SIGKILL: by this process's own pid, never by name."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(5)


def _free_display() -> int:
    for n in range(140, 400):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


def test_first_time_walkthrough(tmp_path: Path) -> None:
    missing = [tool for tool in ("Xvfb", "openbox") if shutil.which(tool) is None]
    assert not missing, f"{missing} not installed: run scripts/setup.sh (as root) first"
    out = Path(os.environ.get("WORKBENCH_SCREENSHOTS") or tmp_path / "shots")
    display = f":{_free_display()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "WAYLAND"))}
    env.update(
        DISPLAY=display,
        QT_QPA_PLATFORM="xcb",
        XDG_RUNTIME_DIR=str(tmp_path / "run"),
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")]),
        # No keyring: the Secret Service of the session bus is not there.
        DBUS_SESSION_BUS_ADDRESS="disabled:",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    (tmp_path / "run").mkdir(mode=0o700)
    xvfb = wm = app = None
    try:
        xvfb = subprocess.Popen(
            ["Xvfb", display, "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{display[1:]}").exists():
            assert xvfb.poll() is None, "Xvfb did not start"
            assert time.monotonic() < deadline, "Xvfb did not open its socket"
            time.sleep(0.1)
        wm = subprocess.Popen(
            ["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(0.5)
        app = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "walkthrough" / "drive.py"), str(out)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        output, _ = app.communicate(timeout=330)
        text = output.decode("utf-8", "replace")
        assert app.returncode == 0, f"the walkthrough failed (screenshots in {out}):\n{text}"
        print(text)
    finally:
        _stop(app)
        _stop(wm)
        _stop(xvfb)
    for name in SHOTS:
        assert (out / f"{name}.png").stat().st_size > 10_000, f"{name}.png is empty"
