"""The engine as a process: announcement, engine.json, SIGTERM, restart rule, startup errors."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from engine_helpers import ENGINE_BIN, EngineProcess, create, sse_events

from workbench.engine.backends import registry
from workbench.engine.backends.registry import BackendLoadError, create_backend


def test_announcement_and_engine_file(engine_factory: Any, tmp_path: Path) -> None:
    eng: EngineProcess = engine_factory(data_dir=tmp_path / "d")
    assert set(eng.info) == {"url", "port", "pid"}
    assert eng.info["pid"] == eng.pid
    assert eng.info["url"] == f"http://127.0.0.1:{eng.info['port']}"
    path = tmp_path / "d" / "engine.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert saved["token"] == eng.token and saved["port"] == eng.info["port"]
    assert not list((tmp_path / "d").glob(".engine.json*"))
    assert eng.terminate() == 0
    assert not path.exists()


def test_sigterm_is_clean_and_fails_background_runs(engine_factory: Any, tmp_path: Path) -> None:
    data = tmp_path / "d"
    eng: EngineProcess = engine_factory(data_dir=data)
    with eng.http() as http:
        bg = create(
            http, {"model": "scripted", "input": "[[delay: 60]]", "background": True}
        ).json()
        done = create(http, {"model": "scripted", "input": "kept"}).json()
    t0 = time.monotonic()
    assert eng.terminate() == 0
    assert time.monotonic() - t0 < 8
    assert "Traceback" not in eng.stderr()
    again: EngineProcess = engine_factory(data_dir=data)
    with again.http() as http:
        got = http.get(f"/v1beta/interactions/{bg['id']}").json()
        assert got["status"] == "failed"
        assert got["errors"][0]["code"] == "engine_stopped"
        assert http.get(f"/v1beta/interactions/{done['id']}").json()["status"] == "completed"


def test_sigterm_ends_open_foreground_stream(engine_factory: Any) -> None:
    eng: EngineProcess = engine_factory()
    body = {"model": "scripted", "input": "[[delay: 60]]", "stream": True}
    with eng.http() as http, http.stream("POST", "/v1beta/interactions", json=body) as resp:
        lines = resp.iter_lines()
        first = next(line for line in lines if line.startswith("data: "))
        assert "interaction.created" in first
        eng.proc.send_signal(15)  # type: ignore[union-attr]
        rest = "\n".join(lines)
    assert eng.proc.wait(timeout=10) == 0  # type: ignore[union-attr]
    events = sse_events(rest + "\n\n")
    assert events[-1]["event_type"] == "interaction.completed"
    assert events[-1]["interaction"]["status"] == "cancelled"
    assert rest.rstrip().endswith("data: [DONE]")


def test_restart_marks_unfinished_runs_failed(engine_factory: Any, tmp_path: Path) -> None:
    data = tmp_path / "d"
    eng: EngineProcess = engine_factory(data_dir=data)
    with eng.http() as http:
        bg = create(
            http,
            {
                "model": "scripted",
                "input": "[[text: partial answer]] [[delay: 60]]",
                "background": True,
            },
        ).json()
        deadline = time.monotonic() + 5
        while not http.get(f"/v1beta/interactions/{bg['id']}").json()["steps"][1:]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.3)  # let the event log reach the disk
    eng.proc.kill()  # type: ignore[union-attr]
    eng.proc.wait(timeout=10)  # type: ignore[union-attr]
    again: EngineProcess = engine_factory(data_dir=data)
    with again.http() as http:
        got = http.get(f"/v1beta/interactions/{bg['id']}").json()
        assert got["status"] == "failed"
        assert got["errors"][0]["code"] == "engine_restarted"
        assert "engine stopped" in got["errors"][0]["message"]
        assert got["steps"][1]["content"][0]["text"] == "partial answer"
        resp = http.get(f"/v1beta/interactions/{bg['id']}", params={"stream": "true"}, timeout=10)
        events = sse_events(resp.text)
        kinds = [e["event_type"] for e in events]
        assert kinds[0] == "interaction.created"
        assert kinds[-3:] == ["error", "interaction.status_update", "interaction.completed"]
        assert events[-1]["interaction"]["status"] == "failed"
        assert "step.stop" in kinds
        assert [e["event_id"] for e in events] == [str(i) for i in range(1, len(events) + 1)]
        assert resp.text.endswith("data: [DONE]\n\n")


def test_unknown_backend_module_gives_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        registry.BACKENDS, "llama", ("workbench.engine.backends.not_there", "LlamaBackend")
    )
    with pytest.raises(BackendLoadError, match="not available"):
        create_backend("llama")
    with pytest.raises(BackendLoadError, match="unknown backend"):
        create_backend("nope")
    assert create_backend("scripted").name == "scripted"


def test_cli_reports_bad_options(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            str(ENGINE_BIN),
            "--data-dir",
            str(tmp_path),
            "--host",
            "0.0.0.0",
            "--backend",
            "scripted",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "loopback" in result.stderr
    assert result.stdout == ""


def test_cli_broken_backend_exits_with_message(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from workbench.engine.backends import registry\n"
        "registry.BACKENDS['llama'] = ('workbench.engine.backends.absent_mod', 'X')\n"
        "from workbench.engine.cli import main\n"
        f"sys.exit(main(['--data-dir', {str(tmp_path)!r}, '--backend', 'llama']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 2
    assert "'llama' backend is not available" in result.stderr


def test_path_prefix(engine_factory: Any) -> None:
    eng: EngineProcess = engine_factory("--path-prefix", "/gem")
    assert eng.url.endswith("/gem")
    client = eng.client()
    assert client.interactions.create(model="scripted", input="pre").output_text == "pre"
    r = httpx.get(
        eng.url.removesuffix("/gem") + "/v1beta/models", headers={"x-goog-api-key": eng.token}
    )
    assert r.status_code == 200  # unprefixed paths keep working
    assert os.path.exists(eng.data_dir / "engine.db")
