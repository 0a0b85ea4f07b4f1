"""The app's engine launcher: the token travels privately and is the one the engine checks."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from workbench.core.engine_process import EngineProcess, EngineStartError, read_engine_file


def _get(url: str, token: str | None) -> int:
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("x-goog-api-key", token)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


async def test_engine_starts_with_a_private_token(tmp_path: Path) -> None:
    engine = EngineProcess(tmp_path / "engine", backend="scripted")
    try:
        info = await engine.start()
        assert info.token not in repr(info)
        # The token is not on the command line, where `ps` would show it.
        cmdline = Path(f"/proc/{info.pid}/cmdline").read_bytes().decode(errors="replace")  # noqa: ASYNC240
        assert info.token not in cmdline
        assert _get(f"{info.url}/v1beta/models", info.token) == 200
        assert _get(f"{info.url}/v1beta/models", "wrong") == 401
        found = read_engine_file(tmp_path / "engine")
        assert found is not None
        assert (found.pid, found.token) == (info.pid, info.token)
        mode = os.stat(tmp_path / "engine" / "engine.json").st_mode & 0o777
        assert mode == 0o600
    finally:
        await engine.stop()
    assert not engine.running
    assert read_engine_file(tmp_path / "engine") is None


async def test_start_failure_explains_itself(tmp_path: Path) -> None:
    engine = EngineProcess(tmp_path / "engine", backend="scripted", extra_args=("--bogus",))
    with pytest.raises(EngineStartError, match="exited with code"):
        await engine.start(timeout=30)


def test_engine_file_of_a_dead_process_is_ignored(tmp_path: Path) -> None:
    record = {"url": "http://127.0.0.1:1", "port": 1, "pid": 999_999_999, "token": "t"}
    (tmp_path / "engine.json").write_text(json.dumps(record))
    assert read_engine_file(tmp_path) is None
