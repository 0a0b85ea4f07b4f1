"""The PyInstaller bundle really works: its window opens under Xvfb and its engine answers.

Runs ``scripts/package.sh`` (what ``make package`` runs: the full bundle with llama.cpp and
the default model, ~50 s cold, a few seconds from PyInstaller's cache) unless dist/Workbench
is newer than every source. Then it runs the bundle's ``workbench`` (not the virtualenv's)
under its own Xvfb with the scripted backend, with an empty PATH and no virtualenv
variables, and checks that:

* the window appears (xdotool) and belongs to the bundle's process;
* the engine is the bundle's ``workbench-engine``, a child of the app, loading the bundle's
  libpython; it answers an authenticated request;
* text typed into the composer goes through the engine and back into the app's history;
* SIGTERM closes the app cleanly and stops the engine.

A second test runs the bundle's engine with the llama backend: it assembles the default model
from the bundled chunk packages and generates an answer.

A screenshot of the screen is saved as ``bundle.png`` in the test's tmp dir. Every process
started here is stopped by its pid in ``finally``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist" / "Workbench"
SOURCES = (ROOT / "src" / "workbench", ROOT / "packaging", ROOT / "scripts" / "package.sh")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="the bundle test is Linux-only"
    ),
]


def _newest_source() -> float:
    newest = (ROOT / "pyproject.toml").stat().st_mtime
    stamp = ROOT / ".venv" / ".workbench-installed"  # the installed dependencies changed
    if stamp.exists():
        newest = max(newest, stamp.stat().st_mtime)
    for source in SOURCES:
        files = [source] if source.is_file() else source.rglob("*")
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts:
                newest = max(newest, path.stat().st_mtime)
    return newest


def _variant(bundle: Path) -> str:
    """What scripts/package.sh built (full, no-model, lite), or "" when it is out of date."""
    stamp = bundle / ".bundle-variant"
    if not (bundle / "workbench").is_file() or not stamp.is_file():
        return ""
    if stamp.stat().st_mtime <= _newest_source():
        return ""
    return stamp.read_text().strip()


@pytest.fixture(scope="module")
def bundle() -> Iterator[Path]:
    """`make package`'s dist/Workbench, rebuilt first unless it is newer than every source.

    A lock serialises test runs sharing this checkout, so one never runs a bundle that
    another is rebuilding. ``WORKBENCH_TEST_BUNDLE=DIR`` tests a bundle built elsewhere.
    """
    given = os.environ.get("WORKBENCH_TEST_BUNDLE")
    if given:
        yield Path(given).resolve()
        return
    (ROOT / "build").mkdir(exist_ok=True)
    with (ROOT / "build" / "bundle-test.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _variant(DIST):
            started = time.monotonic()
            proc = subprocess.run(
                ["bash", str(ROOT / "scripts" / "package.sh")],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=540,
                check=False,
            )
            output = f"{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
            assert proc.returncode == 0, f"scripts/package.sh failed:\n{output}"
            print(f"bundle built in {time.monotonic() - started:.1f} s")
        yield DIST


def _stop(proc: subprocess.Popen[bytes] | None, grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL: by this process's own pid, never by name."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(5)


def _is(pid: int, exe: Path) -> bool:
    """Whether ``pid`` still runs ``exe`` (so a recycled pid is never killed)."""
    try:
        return Path(f"/proc/{pid}/exe").resolve() == exe.resolve()
    except OSError:
        return False


def _kill_pid(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait(what: str, check: Callable[[], Any], limit: float, app: subprocess.Popen[bytes]) -> Any:
    deadline = time.monotonic() + limit
    while True:
        value = check()
        if value:
            return value
        if app.poll() is not None:
            raise AssertionError(f"the app exited with {app.returncode} waiting for {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {limit:.0f} s waiting for {what}")
        time.sleep(0.2)


@contextlib.contextmanager
def _xvfb(tmp_path: Path) -> Iterator[str]:
    """A private X server (what ``xvfb-run -a -s "-screen 0 1400x900x24"`` runs); its display.

    The server must answer with our screen size before it is used: with other X servers
    starting and stopping on the same machine, a display number can briefly lead elsewhere.
    """
    for attempt in range(3):
        read, write = os.pipe()
        log = (tmp_path / f"xvfb-{attempt}.log").open("wb")
        proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
            pass_fds=(write,),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        os.close(write)
        try:
            with os.fdopen(read, "rb") as pipe:
                number = pipe.readline().strip().decode()
            display = f":{number}"
            deadline = time.monotonic() + 10
            ready = False
            while number.isdigit() and proc.poll() is None and time.monotonic() < deadline:
                if _xdotool(display, "getdisplaygeometry") == "1400 900":
                    ready = True
                    break
                time.sleep(0.2)
            if ready:
                yield display
                return
        finally:
            _stop(proc, 5)
            log.close()
    raise AssertionError(f"Xvfb did not start; see {tmp_path}/xvfb-*.log")


def _xdotool(display: str, *args: str) -> str:
    proc = subprocess.run(
        ["xdotool", *args],
        env={"DISPLAY": display, "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    return proc.stdout.strip() if proc.returncode == 0 else ""


def _screenshot(display: str, target: Path) -> None:
    """Grab the whole X screen with Qt (a test-side helper; the bundle is not involved)."""
    code = (
        "import sys\n"
        "from PySide6.QtGui import QGuiApplication\n"
        "app = QGuiApplication(sys.argv[:1])\n"
        "ok = app.primaryScreen().grabWindow(0).save(sys.argv[1])\n"
        "raise SystemExit(0 if ok else 1)\n"
    )
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    subprocess.run([sys.executable, "-c", code, str(target)], env=env, timeout=60, check=True)


def _get(url: str, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if body else "GET")
    request.add_header("x-goog-api-key", token)
    request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as reply:
        result: dict[str, Any] = json.loads(reply.read())
    return result


def _saved_answer(history_db: Path) -> tuple[str, str, str] | None:
    """(interaction id, status, data) of the newest turn in the app's history, if any."""
    if not history_db.exists():
        return None
    try:
        con = sqlite3.connect(f"file:{history_db}?mode=ro", uri=True, timeout=1)
        try:
            row = con.execute(
                "SELECT id, status, data FROM interactions ORDER BY created DESC LIMIT 1"
            ).fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    if row is None or row[1] != "completed":
        return None
    return str(row[0]), str(row[1]), str(row[2])


@pytest.mark.skipif(
    not (shutil.which("Xvfb") and shutil.which("xdotool")),
    reason="needs Xvfb and xdotool (scripts/setup.sh installs them)",
)
def test_bundle_opens_its_window_and_its_engine_answers(
    bundle: Path, tmp_path: Path, _workbench_home: Path
) -> None:
    app_exe, engine_exe = bundle / "workbench", bundle / "workbench-engine"
    assert app_exe.is_file() and engine_exe.is_file()
    engine_file = _workbench_home / "data" / "engine" / "engine.json"
    # No Python to find: PATH is an empty folder, and no VIRTUAL_ENV/PYTHON* variables.
    (tmp_path / "empty-bin").mkdir()
    env = {
        "PATH": str(tmp_path / "empty-bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "WORKBENCH_HOME": str(_workbench_home),
        "QT_QPA_PLATFORM": "xcb",
        "XDG_RUNTIME_DIR": str(tmp_path / "xdg-runtime"),
    }
    (tmp_path / "xdg-runtime").mkdir(mode=0o700)
    app: subprocess.Popen[bytes] | None = None
    engine_pid: int | None = None
    started = time.monotonic()
    log = (tmp_path / "app.log").open("wb")
    with _xvfb(tmp_path) as display:
        try:
            app = subprocess.Popen(
                [str(app_exe), "--backend", "scripted"],
                env={**env, "DISPLAY": display},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=tmp_path,
                start_new_session=True,
            )
            running = app

            # The window: mapped, titled Workbench, owned by the bundle's process.
            wid = _wait(
                "the window",
                lambda: _xdotool(display, "search", "--onlyvisible", "--name", "^Workbench$"),
                60,
                running,
            ).split()[0]
            window_seconds = time.monotonic() - started
            assert _xdotool(display, "getwindowpid", wid) == str(app.pid)
            # WM_CLASS matches the desktop entry's StartupWMClass (docks, taskbars group by it)
            assert wid in _xdotool(display, "search", "--class", "^Workbench$").split()
            assert Path(f"/proc/{app.pid}/exe").resolve() == app_exe.resolve()

            # The engine: the bundle's executable, started by the app, on the bundle's Python.
            info = _wait("engine.json", lambda: _read_json(engine_file), 60, running)
            engine_pid = int(info["pid"])
            assert Path(f"/proc/{engine_pid}/exe").resolve() == engine_exe.resolve()
            stat = Path(f"/proc/{engine_pid}/stat").read_text().rsplit(")", 1)[1].split()
            assert int(stat[1]) == app.pid, "the engine is not the app's child"
            for pid in (app.pid, engine_pid):
                maps = Path(f"/proc/{pid}/maps").read_text()
                libpython = {line.split()[-1] for line in maps.splitlines() if "libpython" in line}
                assert libpython, f"no libpython mapped in {pid}"
                assert all(p.startswith(str(bundle.resolve())) for p in libpython), libpython
            models = _get(f"{info['url']}/v1beta/models", info["token"])
            assert "scripted" in {m.get("baseModelId") for m in models["models"]}

            # A turn through the window, once the app is connected (it logs its requests at
            # INFO): type into the composer, which has the focus, and send.
            app_log = tmp_path / "app.log"
            _wait(
                "the app to list the engine's models",
                lambda: f"GET {info['url']}/v1beta/models" in app_log.read_text(errors="replace"),
                60,
                running,
            )
            _xdotool(display, "windowfocus", "--sync", wid)
            time.sleep(0.5)
            _xdotool(display, "type", "--delay", "20", "Hello from the bundle")
            _xdotool(display, "key", "Return")
            history_db = _workbench_home / "data" / "history.sqlite3"
            iid, _status, _data = _wait(
                "the answer in the app's history", lambda: _saved_answer(history_db), 60, running
            )
            stored = _get(f"{info['url']}/v1beta/interactions/{iid}", info["token"])
            assert stored["status"] == "completed"
            texts = [
                part.get("text", "")
                for step in stored.get("steps", [])
                if step.get("type") == "model_output"
                for part in step.get("content", [])
            ]
            assert "Hello from the bundle" in "".join(texts)

            time.sleep(1.0)  # let the transcript paint the answer
            shot = tmp_path / "bundle.png"
            _screenshot(display, shot)
            assert shot.stat().st_size > 10_000

            # SIGTERM closes the window the normal way, which stops the engine too.
            app.send_signal(signal.SIGTERM)
            assert app.wait(30) == 0
            deadline = time.monotonic() + 15
            while _alive(engine_pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not _alive(engine_pid), "the engine outlived the app"
            print(
                f"window after {window_seconds:.1f} s; whole run {time.monotonic() - started:.1f} s;"
                f" screenshot {shot}"
            )
        finally:
            _stop(app)
            if engine_pid is not None and _alive(engine_pid) and _is(engine_pid, engine_exe):
                _kill_pid(engine_pid)
            log.close()


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "pid" in data else None


@pytest.mark.model
def test_bundled_engine_serves_the_packaged_model(bundle: Path, tmp_path: Path) -> None:
    """The bundle's llama.cpp runtime and model chunks work: join, verify, load, answer."""
    if _variant(bundle) != "full":
        pytest.skip(f"the bundle was built without the model ({_variant(bundle)})")
    engine_exe = bundle / "workbench-engine"
    data_dir = tmp_path / "engine"
    token = "bundle-test-token"
    (tmp_path / "empty-bin").mkdir()
    env = {
        "PATH": str(tmp_path / "empty-bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "WORKBENCH_ENGINE_TOKEN": token,
    }
    engine: subprocess.Popen[bytes] | None = None
    started = time.monotonic()
    log = (tmp_path / "engine.log").open("wb")
    try:
        engine = subprocess.Popen(
            [str(engine_exe), "--data-dir", str(data_dir), "--port", "0", "--backend", "llama"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            start_new_session=True,
        )
        assert engine.stdout is not None
        ready = engine.stdout.readline()
        assert ready, f"no ready line: {(tmp_path / 'engine.log').read_text()[-3000:]}"
        url = json.loads(ready)["url"]
        body = {
            "model": "qwen2.5-coder-0.5b",
            "input": "Name one primary colour. Answer with one word.",
            "generation_config": {"max_output_tokens": 8, "temperature": 0},
        }
        reply = _get(f"{url}/v1beta/interactions", token, body)
        assert reply["status"] == "completed", reply
        texts = [
            part.get("text", "")
            for step in reply.get("steps", [])
            if step.get("type") == "model_output"
            for part in step.get("content", [])
        ]
        assert "".join(texts).strip(), reply
        assert (data_dir / "models" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf.verified").exists()
        engine.send_signal(signal.SIGTERM)
        assert engine.wait(20) == 0
        print(f"bundled llama engine answered in {time.monotonic() - started:.1f} s")
    finally:
        _stop(engine)
        if engine is not None and engine.stdout is not None:
            engine.stdout.close()
        log.close()
        shutil.rmtree(data_dir / "models", ignore_errors=True)  # 491 MB
