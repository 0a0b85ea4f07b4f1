"""Test harness shared by every test: relocated paths, headless Qt, no stray network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _workbench_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every path the code derives goes under a fresh temporary directory."""
    home = tmp_path / "workbench-home"
    home.mkdir()
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    return home
