"""Issue 7 item 3 (files, in the window): damaged databases are moved aside, the app says so
in plain words and stays usable; nothing is deleted."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from workbench.ui.main_window import MainWindow


def _damage(path: Path) -> str:
    raw = bytearray(path.read_bytes())
    raw[:16] = b"definitely not!!"
    path.write_bytes(bytes(raw))
    return hashlib.sha256(raw).hexdigest()


@pytest.mark.timeout(90)
async def test_damaged_history_and_engine_db_then_a_turn_works(
    local_window: Callable[..., MainWindow], _workbench_home: Path, until: Any
) -> None:
    data = _workbench_home / "data"
    # A history and an engine database from an earlier run, both damaged since.
    w0 = local_window()
    await w0.start()
    w0.composer.set_text("[[text: before the damage]]")
    w0.composer.submit()
    await until(lambda: not w0.controller.busy, what="the first turn")
    await w0.controller.shutdown()
    w0.history.close()
    history_digest = _damage(data / "history.sqlite3")
    engine_digest = _damage(data / "engine" / "engine.db")

    w = local_window()
    box = w.history_box
    assert box is not None and box.isVisible()
    assert "a new, empty history was started" in box.text()
    kept = next(data.glob("history.sqlite3.damaged-*"))
    assert str(kept) in box.text()
    assert hashlib.sha256(kept.read_bytes()).hexdigest() == history_digest
    box.close()
    await w.start()
    try:
        notice = w.transcript._notice
        assert notice.startswith("The local engine:") and "could not be read" in notice
        kept_engine = next((data / "engine").glob("engine.db.damaged-*"))
        assert hashlib.sha256(kept_engine.read_bytes()).hexdigest() == engine_digest
        # Still usable: a new turn is answered and stored in the new history.
        w.composer.set_text("[[text: after the repair]]")
        w.composer.submit()
        await until(lambda: not w.controller.busy, what="the turn")
        w.transcript.flush()
        assert "after the repair" in w.transcript.toPlainText()
        assert [s.title for s in w.history.sessions()] == ["[[text: after the repair]]"]
    finally:
        await w.controller.shutdown()
