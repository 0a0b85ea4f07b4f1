"""Fixtures for the sandbox layer: a store in a temporary data dir and a code runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.engine.sandbox import CodeRunner, EnvironmentStore, ExecLimits


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fake engine data dir with the files code must never see."""
    d = tmp_path / "data"
    d.mkdir()
    (d / "engine.db").write_text("SECRET-DATABASE")
    (d / "engine.json").write_text('{"token": "SECRET-TOKEN-123"}')
    return d


@pytest.fixture
def store(data_dir: Path) -> EnvironmentStore:
    return EnvironmentStore(data_dir)


@pytest.fixture
def runner() -> CodeRunner:
    return CodeRunner(limits=ExecLimits(wall_seconds=10, cpu_seconds=5))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "root"
    r.mkdir()
    return r
