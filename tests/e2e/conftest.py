"""End-to-end harness: the real app window against a real engine subprocess (scripted)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support.qt_harness import qasync_loop, wait_until
from workbench.app import prepare
from workbench.ui.main_window import MainWindow


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    return {"qasync": qasync_loop}


@pytest.fixture
def make_window(qtbot: object, _workbench_home: Path) -> Iterator[Callable[..., MainWindow]]:
    """Main windows on this test's WORKBENCH_HOME; any engine left running is killed."""
    made: list[MainWindow] = []

    def make(backend: str | None = "scripted") -> MainWindow:
        paths, settings, history, secrets = prepare(backend=backend)
        window = MainWindow(paths, settings, history, secrets)
        qtbot.addWidget(window)  # type: ignore[attr-defined]
        made.append(window)
        return window

    yield make
    for window in made:
        conn = window.controller.connection
        if conn is not None and conn.engine is not None and conn.engine._proc is not None:
            proc = conn.engine._proc
            if proc.returncode is None:
                proc.kill()
        window.history.close()


@pytest.fixture
def until() -> Callable[..., object]:
    """The polling helper, for tests (never qtbot.waitUntil inside an async test)."""
    return wait_until
