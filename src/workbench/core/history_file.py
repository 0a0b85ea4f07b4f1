"""Opening the history's SQLite file: pragmas, an integrity check, migrations, recovery.

Kept apart from the queries (:mod:`.history`) because it is about the file, not its rows: the
database uses WAL and ``PRAGMA user_version`` migrations (:mod:`.history_schema`).

A file that is not a readable SQLite database (damaged, truncated, overwritten) is never
deleted or changed: it is renamed aside with a timestamp (``history.sqlite3.damaged-…``, with
its ``-wal``/``-shm`` companions) and a new history is started; :func:`recovery_note` then
says so in plain words for the window to show. A database locked by another program is left
alone and opening fails with :class:`HistoryError` saying so.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .history_schema import MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

QUICK_CHECK_MAX_BYTES = 64 * 1024 * 1024
"""Databases up to this size get a full ``PRAGMA quick_check`` when opened (a few ms per MB)."""


class HistoryError(Exception):
    """The history database could not be opened or is from a newer Workbench."""


def _is_locked(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def move_aside(path: Path, label: str = "damaged") -> Path:
    """Rename ``path`` (and its ``-wal``/``-shm`` files) to ``<name>.<label>-<time>``; never
    deletes anything. Returns the new path of the main file."""
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


@contextmanager
def write_transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back when the block raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def schema_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Apply the migrations ``db`` lacks, one transaction each; refuse a newer schema."""
    current = schema_version(db)
    if current > SCHEMA_VERSION:
        raise HistoryError(
            f"the history database was written by a newer Workbench (schema {current}, "
            f"this one knows {SCHEMA_VERSION}); update Workbench or move {path} aside"
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        with write_transaction(db):
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {version}")


def connect(path: Path, timeout: float) -> sqlite3.Connection:
    """Open, check and migrate the database; ``sqlite3.DatabaseError`` when it is unusable."""
    try:
        db = sqlite3.connect(str(path), isolation_level=None, timeout=timeout)
    except sqlite3.Error as exc:
        raise HistoryError(f"cannot open the history database {path}: {exc}") from exc
    try:
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if path.stat().st_size <= QUICK_CHECK_MAX_BYTES:
            result = db.execute("PRAGMA quick_check(1)").fetchone()[0]
            if result != "ok":
                raise sqlite3.DatabaseError(f"database disk image is malformed: {result}")
        migrate(db, path)
    except BaseException:
        db.close()
        raise
    return db


def open_history(
    path: Path, *, repair: bool, timeout: float
) -> tuple[sqlite3.Connection, Path | None]:
    """The open database and, when a damaged file was moved aside (``repair``), where to.

    Raises :class:`HistoryError` for a locked file, or a damaged one without ``repair``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return connect(path, timeout), None
    except sqlite3.DatabaseError as exc:
        if _is_locked(exc):
            raise HistoryError(
                f"the history database {path} is locked by another program (another "
                "Workbench, or a database tool). Close it and start Workbench again; "
                "nothing was changed."
            ) from None
        if not repair or not path.exists():
            raise HistoryError(
                f"the history database {path} cannot be read ({exc}). Nothing was changed; "
                "start the app to move it aside and begin a new history."
            ) from None
        try:
            recovered_from = move_aside(path)
            db = connect(path, timeout)
        except (OSError, sqlite3.Error) as again:
            raise HistoryError(
                f"the history database {path} is damaged and could not be replaced "
                f"({again}); nothing was deleted."
            ) from None
        log.warning("history database %s was damaged (%s); moved to %s", path, exc, recovered_from)
        return db, recovered_from


def recovery_note(recovered_from: Path | None) -> str:
    """Plain words for the user when a damaged file was moved aside ("" otherwise)."""
    if recovered_from is None:
        return ""
    return (
        f"The history database could not be read, so a new, empty history was started. "
        f"The old file was kept as {recovered_from} — nothing was deleted."
    )
