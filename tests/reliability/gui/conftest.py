"""GUI reliability harness: the real main window on a qasync loop, pointed at any server.

``remote_window(url, key)`` builds a window whose active profile is a custom server (an
engine behind a cut proxy, a fake server with scripted faults); the key is kept for the
session only, as the app does when no keyring is wanted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support.qt_harness import qasync_loop, wait_until
from workbench.app import prepare
from workbench.core.profiles import Profile
from workbench.ui.main_window import MainWindow


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    return {"qasync": qasync_loop}


@pytest.fixture
def until() -> Callable[..., object]:
    return wait_until


@pytest.fixture
def local_window(qtbot: object, _workbench_home: Path) -> Iterator[Callable[..., MainWindow]]:
    """Main windows on the local engine (scripted backend), as ``workbench --backend
    scripted`` opens them; an engine still running afterwards is killed by its PID."""
    made: list[MainWindow] = []

    def make() -> MainWindow:
        paths, settings, history, secrets = prepare(backend="scripted")
        window = MainWindow(paths, settings, history, secrets)
        qtbot.addWidget(window)  # type: ignore[attr-defined]
        made.append(window)
        return window

    yield make
    _cleanup(made)


def _cleanup(made: list[MainWindow]) -> None:
    for window in made:
        conn = window.controller.connection
        proc = conn.engine._proc if conn is not None and conn.engine is not None else None
        if proc is not None and proc.returncode is None:
            proc.kill()
        window.history.close()


@pytest.fixture
def remote_window(qtbot: object, _workbench_home: Path) -> Iterator[Callable[..., MainWindow]]:
    """Main windows whose active profile is a custom server at ``url`` with ``key``."""
    made: list[MainWindow] = []

    def make(url: str, key: str, *, profile_id: str = "remote") -> MainWindow:
        paths, settings, history, secrets = prepare()
        settings.upsert_profile(Profile(id=profile_id, name="Remote", kind="custom", base_url=url))
        settings.active_profile = profile_id
        secrets.set(profile_id, key, session_only=True)
        window = MainWindow(paths, settings, history, secrets)
        qtbot.addWidget(window)  # type: ignore[attr-defined]
        made.append(window)
        return window

    yield make
    _cleanup(made)
