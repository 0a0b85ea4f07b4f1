"""Issue 7 item 3 (files): damaged or locked databases give a clear message and lose nothing.

The app's history (``core/history_file.py``) and the engine's ``engine.db`` (``engine/dbcheck.py``):
a damaged file is renamed aside with a timestamp — byte for byte what it was — and a new one
is started; a locked file is left exactly as it was and the program says who holds it.
The window-level behaviour is in ``gui/test_rel_gui_databases.py``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from support.rel_engine import ENGINE_BIN, Engine
from workbench.core.history import HistoryError, HistoryStore

WORKBENCH_BIN = Path(sys.executable).with_name("workbench")
LOCKER = (
    "import sqlite3, sys, time\n"
    "c = sqlite3.connect(sys.argv[1])\n"
    "c.execute('PRAGMA locking_mode=EXCLUSIVE')\n"
    "c.execute('BEGIN EXCLUSIVE')\n"
    "print('locked', flush=True)\n"
    "time.sleep(120)\n"
)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Another process holds an exclusive lock on ``path`` (killed by PID afterwards)."""
    proc = subprocess.Popen([sys.executable, "-c", LOCKER, str(path)], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"locked\n"
        yield
    finally:
        proc.kill()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _history_with_rows(path: Path, sessions: int = 30) -> None:
    store = HistoryStore(path)
    for n in range(sessions):
        sid = store.create_session(f"session {n}").id
        store.save_interaction(
            sid,
            f"v1_{n}",
            parent_id=None,
            input_blocks=[{"type": "user_input", "content": [{"type": "text", "text": "q" * 500}]}],
            request={"model": "m"},
            data={
                "status": "completed",
                "steps": [
                    {
                        "type": "model_output",
                        "content": [{"type": "text", "text": f"answer {n} " * 200}],
                    }
                ],
            },
            metrics={},
        )
    store.close()


def _damage_header(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[:16] = b"definitely not!!"
    path.write_bytes(bytes(raw))


def _truncate(path: Path) -> None:
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 3])


def _scribble_pages(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    page = 4096
    for start in range(2 * page, len(raw) - page, 3 * page):
        raw[start + 8 : start + 200] = os.urandom(192)
    path.write_bytes(bytes(raw))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "not a database": _damage_header,
    "truncated": _truncate,
    "scribbled pages": _scribble_pages,
}


def _checkpointed(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_history_is_kept_aside_and_a_new_one_starts(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "history.sqlite3"
    _history_with_rows(path)
    _checkpointed(path)
    DAMAGE[damage](path)
    before = _digest(path)
    store = HistoryStore(path)
    try:
        kept = store.recovered_from
        assert kept is not None and kept.name.startswith("history.sqlite3.damaged-")
        assert _digest(kept) == before  # the original, byte for byte
        assert str(kept) in store.recovery_note and "nothing was deleted" in store.recovery_note
        assert store.sessions() == []  # a new history …
        store.create_session("after the repair")  # … that works
        assert [s.title for s in store.sessions()] == ["after the repair"]
    finally:
        store.close()
    again = HistoryStore(path)  # the new file is healthy: no second move
    assert again.recovered_from is None
    again.close()


def test_a_healthy_history_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    _history_with_rows(path, sessions=3)
    store = HistoryStore(path)
    assert store.recovered_from is None and store.recovery_note == ""
    assert len(store.sessions()) == 3
    store.close()
    assert sorted(p.name for p in tmp_path.iterdir() if "damaged" in p.name) == []


def test_export_never_moves_a_damaged_history(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = home / "data" / "history.sqlite3"
    path.parent.mkdir(parents=True)
    _history_with_rows(path, sessions=2)
    _checkpointed(path)
    _damage_header(path)
    before = _digest(path)
    with pytest.raises(HistoryError, match="cannot be read"):
        HistoryStore(path, repair=False)
    done = subprocess.run(
        [str(WORKBENCH_BIN), "--basedir", str(home), "export", "--latest",
         "--format", "md", "--output", "-"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "cannot be read" in done.stderr and "Nothing was changed" in done.stderr
    assert _digest(path) == before and not list(path.parent.glob("*damaged*"))


def test_a_locked_history_is_refused_and_left_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = home / "data" / "history.sqlite3"
    path.parent.mkdir(parents=True)
    _history_with_rows(path, sessions=2)
    _checkpointed(path)
    before = _digest(path)
    with locked(path):
        with pytest.raises(HistoryError, match="locked by another program") as info:
            HistoryStore(path, timeout=0.3)
        assert "nothing was changed" in str(info.value)
        # The app itself says so and stops (exit 1), instead of starting half-working.
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        done = subprocess.run(
            [str(WORKBENCH_BIN), "--basedir", str(home)],
            capture_output=True, text=True, timeout=60, env=env,
        )  # fmt: skip
        assert done.returncode == 1
        assert "locked by another program" in done.stderr
    assert _digest(path) == before
    assert not list(path.parent.glob("*damaged*"))


def _engine_with_rows(eng: Engine) -> str:
    with httpx.Client(base_url=eng.url, headers={"x-goog-api-key": eng.token}) as http:
        for n in range(20):
            reply = http.post(
                "/v1beta/interactions", json={"model": "scripted", "input": f"[[tokens: 50]] {n}"}
            )
            assert reply.status_code == 200
        return str(reply.json()["id"])


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_engine_db_is_kept_aside(
    engines: Callable[..., Engine], tmp_path: Path, damage: str
) -> None:
    data = tmp_path / "engine-data"
    first = engines(data_dir=data)
    old_id = _engine_with_rows(first)
    first.stop()
    db = data / "engine.db"
    _checkpointed(db)
    DAMAGE[damage](db)
    before = _digest(db)
    eng = engines(data_dir=data)
    kept = sorted(data.glob("engine.db.damaged-*"))
    assert [k.name for k in kept if not k.name.endswith(("-wal", "-shm"))] == [kept[0].name]
    assert _digest(kept[0]) == before
    notice = eng.info.get("notice", "")
    assert "could not be read" in notice and str(kept[0]) in notice
    assert "could not be read" in eng.stderr()
    with httpx.Client(base_url=eng.url, headers={"x-goog-api-key": eng.token}) as http:
        assert http.get(f"/v1beta/interactions/{old_id}").status_code == 404  # new database
        fresh = http.post("/v1beta/interactions", json={"model": "scripted", "input": "works"})
        assert fresh.status_code == 200 and fresh.json()["status"] == "completed"
    engine_file = json.loads((data / "engine.json").read_text())
    assert engine_file["notice"] == notice


def test_locked_engine_db_stops_the_engine_with_a_message(
    engines: Callable[..., Engine], tmp_path: Path
) -> None:
    data = tmp_path / "engine-data"
    first = engines(data_dir=data)
    _engine_with_rows(first)
    first.stop()
    db = data / "engine.db"
    _checkpointed(db)
    before = _digest(db)
    with locked(db):
        done = subprocess.run(
            [str(ENGINE_BIN), "--backend", "scripted", "--data-dir", str(data)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 1
    assert "is locked by another process" in done.stderr and "nothing was changed" in done.stderr
    assert _digest(db) == before and not list(data.glob("*damaged*"))
