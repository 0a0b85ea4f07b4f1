"""A slow engine start is reported as it goes, and a failed one says what failed (real engine)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from workbench.core.connection import ConnectionProblem, connect
from workbench.core.engine_process import (
    EngineProcess,
    EngineProgress,
    EngineStartError,
    parse_progress,
)
from workbench.core.paths import resolve_paths
from workbench.core.profiles import Profile
from workbench.core.secrets import SecretStore
from workbench.engine.backends import verified_files


async def _until(cond: object, what: str, limit: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not cond():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def test_a_held_start_reports_its_phases_then_becomes_ready(tmp_path: Path) -> None:
    hold = tmp_path / "hold"
    step = {"phase": "assemble", "message": "Preparing the local model", "done": 240_000_000}
    hold.write_text(json.dumps({**step, "total": 491_400_064}) + "\n")
    seen: list[EngineProgress] = []
    engine = EngineProcess(
        tmp_path / "engine",
        backend="scripted",
        extra_args=("--hold-start", str(hold)),
        on_progress=seen.append,
    )
    start = asyncio.ensure_future(engine.start(timeout=60))
    try:
        await _until(lambda: any(p.phase == "assemble" for p in seen), "the scripted phase")
        assert not start.done()  # held: not ready while the file exists
        assert "database" in [p.phase for p in seen]  # phases come in the order they happen
        shown = next(p for p in seen if p.phase == "assemble")
        assert shown.describe() == "Preparing the local model: 240 of 491 MB"
        assert shown.fraction == pytest.approx(240_000_000 / 491_400_064)
        hold.unlink()
        info = await asyncio.wait_for(start, 60)
        assert info.url.startswith("http://127.0.0.1:")
        assert all("progress" not in line for line in engine._stderr_tail)  # not log lines
    finally:
        start.cancel()
        await engine.stop()


async def test_an_engine_that_exits_while_starting_names_its_last_words(tmp_path: Path) -> None:
    engine = EngineProcess(tmp_path / "engine", backend="no-such-backend")
    with pytest.raises(EngineStartError) as caught:
        await engine.start(timeout=30)
    assert caught.value.exited
    assert "no-such-backend" in caught.value.last_line


async def test_connection_problem_for_a_failed_start_is_not_the_profiles_fault(
    tmp_path: Path,
) -> None:
    paths = resolve_paths(str(tmp_path / "home")).ensure()
    profile = Profile(id="local", name="Local engine", kind="local", local_backend="no-such")
    with pytest.raises(ConnectionProblem) as caught:
        await connect(profile, SecretStore(), paths)
    words = str(caught.value)
    assert "stopped while starting" in words and "no-such" in words
    assert "Reconnect" in words and "Settings" not in words
    assert not caught.value.profile_fault
    assert "exited with code" in caught.value.details


def test_progress_lines_are_told_apart_from_log_lines() -> None:
    assert parse_progress("2026-12-02 INFO workbench.engine: loaded") is None
    assert parse_progress("workbench-engine: progress {not json") is None
    line = 'workbench-engine: progress {"phase": "load", "message": "Loading the model"}'
    got = parse_progress(line)
    assert got == EngineProgress("load", "Loading the model")
    assert got.fraction is None and got.describe() == "Loading the model…"


def test_assembling_a_model_tells_how_far_it_is(tmp_path: Path) -> None:
    parts = []
    for i, size in enumerate((5 * 1024 * 1024, 3 * 1024 * 1024 + 7)):
        part = tmp_path / f"part{i}.bin"
        part.write_bytes(bytes([i + 1]) * size)
        parts.append(part)
    expected = verified_files.sha256_file(parts[0])  # wrong on purpose: the join is refused
    told: list[int] = []
    actual = verified_files.join_chunks(parts, tmp_path / "m.gguf", expected, told.append)
    assert actual != expected and not (tmp_path / "m.gguf").exists()
    total = sum(p.stat().st_size for p in parts)
    assert told[-1] == total and told == sorted(told) and len(told) >= 3
    hashed: list[int] = []
    verified_files.sha256_file(parts[1], hashed.append)
    assert hashed[-1] == parts[1].stat().st_size
