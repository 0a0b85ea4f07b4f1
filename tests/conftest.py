"""Test harness shared by every test: relocated paths, headless Qt, no stray network."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.keyring_service import keyring_env, secret_service

__all__ = ["keyring_env", "secret_service"]  # fixtures shared with every test directory

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _workbench_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every path the code derives goes under a fresh temporary directory."""
    home = tmp_path / "workbench-home"
    home.mkdir()
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def _collect_qt_garbage(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a Qt test, free its unreachable Qt objects now, on the main thread.

    Left to the cyclic collector, they are freed whenever and wherever it next runs — possibly
    on a worker thread (a fake server, a proxy, an executor) while the main thread delivers a
    timer event to one of them: a segmentation fault in a later test.
    """
    yield
    if "qtbot" in request.fixturenames:
        gc.collect()
