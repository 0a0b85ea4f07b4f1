"""Startup check of ``engine.db``: a damaged file is moved aside, a locked one is refused.

Run by the command line before the server starts (``cli.main``):

* a file that SQLite cannot read (not a database, truncated, malformed pages found by
  ``PRAGMA quick_check`` on files up to 64 MiB) is **renamed**, never deleted or changed:
  ``engine.db.damaged-YYYYmmdd-HHMMSS`` (plus its ``-wal``/``-shm`` files), and the engine
  starts with a new, empty database. The returned note says so; the engine logs it and adds
  it to its ready line (``"notice"``) so the app can tell the user;
* a file locked by another process (another engine on the same data dir, a database tool)
  raises :class:`DatabaseLocked`: the engine stops with that message and touches nothing.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path

from .store import DB_NAME

QUICK_CHECK_MAX_BYTES = 64 * 1024 * 1024


class DatabaseLocked(Exception):
    """Another process holds ``engine.db``; the message says what to do."""


def _is_locked(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def move_aside(path: Path, label: str = "damaged") -> Path:
    """Rename ``path`` and its ``-wal``/``-shm`` files to ``<name>.<label>-<time>``."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.{label}-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.{label}-{stamp}-{n}")
    os.replace(path, target)
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            os.replace(companion, target.with_name(target.name + suffix))
    return target


def _probe(path: Path, timeout: float) -> None:
    with contextlib.closing(sqlite3.connect(path, timeout=timeout)) as conn:
        conn.execute("PRAGMA journal_mode").fetchone()
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("PRAGMA user_version").fetchone()
        if path.stat().st_size <= QUICK_CHECK_MAX_BYTES:
            result = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
            if result != "ok":
                raise sqlite3.DatabaseError(f"database disk image is malformed: {result}")


def check_database(data_dir: Path, *, timeout: float = 5.0) -> str:
    """Check ``data_dir/engine.db``; returns a note when it had to be moved aside, else ""."""
    path = data_dir / DB_NAME
    if not path.exists():
        return ""
    try:
        _probe(path, timeout)
    except sqlite3.DatabaseError as exc:
        if _is_locked(exc):
            raise DatabaseLocked(
                f"{path} is locked by another process (is another engine running on this "
                "data dir?). Stop it and start again; nothing was changed."
            ) from None
        moved = move_aside(path)
        return (
            f"{path} could not be read ({exc}); it was kept as {moved} and the engine "
            "started with a new, empty database (earlier interactions are in the kept file)."
        )
    return ""
