"""The qasync loop and polling helper shared by every GUI test folder (ui, e2e, reliability).

Each folder's conftest registers ``qasync_loop`` through pytest-asyncio's
``pytest_asyncio_loop_factories`` hook, so only GUI tests run on a Qt-driven loop.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable

import qasync
from PySide6.QtWidgets import QApplication


def qasync_loop() -> asyncio.AbstractEventLoop:
    """One qasync loop on the (single) QApplication, with asyncgen hooks installed."""
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # closing a window must not stop the loop
    loop = qasync.QEventLoop(app)
    sys.set_asyncgen_hooks(
        firstiter=loop._asyncgen_firstiter_hook, finalizer=loop._asyncgen_finalizer_hook
    )
    return loop


async def wait_until(cond: Callable[[], object], limit: float = 20.0, what: str = "") -> None:
    """Await ``cond()`` becoming true while the loop (and Qt) keep running.

    Never use qtbot.waitUntil inside an async test: its nested Qt loop cannot step asyncio.
    """
    deadline = time.monotonic() + limit
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        await asyncio.sleep(0.02)
