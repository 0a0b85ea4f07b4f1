"""UI test harness: a qasync event loop for async tests, a polling helper, a main window."""

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


@pytest.fixture(autouse=True)
def _current_loop(request: pytest.FixtureRequest) -> Iterator[None]:
    """Synchronous tests that build windows start background tasks (attachment summaries)
    with ``asyncio.get_event_loop()``, as the app does under its qasync loop. An async test
    before them leaves no current loop, so they get one of their own (never run)."""
    if asyncio.iscoroutinefunction(getattr(request, "function", None)):
        yield
        return
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield
    finally:
        for task in asyncio.all_tasks(loop):
            task.cancel()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()
        asyncio.set_event_loop(None)


@pytest.fixture
def make_window(qtbot: object, _workbench_home: Path) -> Iterator[Callable[..., MainWindow]]:
    """Build main windows on the test's WORKBENCH_HOME; closed and freed afterwards."""
    made: list[MainWindow] = []

    def make(backend: str | None = "scripted") -> MainWindow:
        paths, settings, history, secrets = prepare(backend=backend)
        window = MainWindow(paths, settings, history, secrets)
        qtbot.addWidget(window)  # type: ignore[attr-defined]
        made.append(window)
        return window

    yield make
    for window in made:
        window.history.close()


@pytest.fixture
def until() -> Callable[..., object]:
    """The polling helper, for tests (never qtbot.waitUntil inside an async test)."""
    return wait_until
