"""What the screenshot scripts share: waiting on the Qt-driven loop, and running a coroutine
against a real main window on a scripted local engine.

Import it after the script has set ``QT_QPA_PLATFORM`` and ``WORKBENCH_HOME`` (it imports Qt
and the app).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import qasync
from PySide6.QtWidgets import QApplication

from workbench.app import prepare
from workbench.ui.main_window import MainWindow


async def until(cond: Callable[[], object], limit: float = 20.0) -> None:
    """Await ``cond()`` becoming true; TimeoutError after ``limit`` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not cond():
        if loop.time() > end:
            raise TimeoutError(str(cond))
        await asyncio.sleep(0.05)


def run_in_window(main: Callable[[MainWindow], Coroutine[Any, Any, None]], out: Path) -> None:
    """Run ``main(window)`` on a qasync loop: a 1400×900 main window, scripted backend."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    sys.set_asyncgen_hooks(
        firstiter=loop._asyncgen_firstiter_hook, finalizer=loop._asyncgen_finalizer_hook
    )
    paths, settings, history, secrets = prepare(backend="scripted")
    window = MainWindow(paths, settings, history, secrets)
    window.resize(1400, 900)
    window.show()
    with loop:
        loop.run_until_complete(main(window))
    history.close()
    print("saved to", out)
