"""The local history: every interaction the app has seen, in SQLite, searchable offline.

A *session* is a tree of interactions chained by ``previous_interaction_id``. Each row keeps
what was sent (``input``, the request settings) and the last snapshot of the interaction
(``data``), whatever server produced it, so sessions open, search and export offline.
Branches are siblings (interactions with the same parent); ``sessions.leaf_id`` remembers
which branch is shown.

The database uses WAL and ``PRAGMA user_version`` migrations (see ``MIGRATIONS``); search is
an FTS5 index over session titles, user input text and model output text.

A file that is not a readable SQLite database (damaged, truncated, overwritten) is never
deleted or changed: it is renamed aside with a timestamp (``history.sqlite3.damaged-…``, with
its ``-wal``/``-shm`` companions) and a new history is started; ``recovery_note`` then says so
in plain words for the window to show. A database locked by another program is left alone and
opening fails with :class:`HistoryError` saying so.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .run_outcome import answered_by

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3

QUICK_CHECK_MAX_BYTES = 64 * 1024 * 1024
"""Databases up to this size get a full ``PRAGMA quick_check`` when opened (a few ms per MB)."""

MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL,
        updated REAL NOT NULL,
        pinned INTEGER NOT NULL DEFAULT 0,
        profile TEXT NOT NULL DEFAULT '',
        leaf_id TEXT
    );
    CREATE TABLE interactions (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        parent_id TEXT,
        seq INTEGER NOT NULL,
        created REAL NOT NULL,
        status TEXT NOT NULL DEFAULT '',
        target TEXT NOT NULL DEFAULT '',
        input TEXT NOT NULL DEFAULT '[]',
        request TEXT NOT NULL DEFAULT '{}',
        data TEXT NOT NULL DEFAULT '{}',
        metrics TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX interactions_session ON interactions(session_id, seq);
    CREATE INDEX interactions_parent ON interactions(parent_id);
    CREATE VIRTUAL TABLE search USING fts5(
        session_id UNINDEXED, interaction_id UNINDEXED, body, tokenize = 'unicode61'
    );
    """,
    2: """
    CREATE TABLE attachments (
        interaction_id TEXT NOT NULL REFERENCES interactions(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        mime_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        sent_as TEXT NOT NULL,
        PRIMARY KEY (interaction_id, position)
    );
    """,
    # The run tracker's records (core/run_store.py), formerly runs.json: one row per run,
    # its request apart (written when a hop starts, not with every event).
    3: """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        created REAL NOT NULL,
        profile_id TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT '',
        interaction_id TEXT NOT NULL DEFAULT '',
        environment_id TEXT NOT NULL DEFAULT '',
        session_id TEXT NOT NULL DEFAULT '',
        record TEXT NOT NULL DEFAULT '{}',
        request TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX runs_created ON runs(created);
    CREATE TABLE app_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
}


class HistoryError(Exception):
    """The history database could not be opened or is from a newer Workbench."""


@dataclass(frozen=True)
class SessionInfo:
    """One row of the sessions list."""

    id: str
    title: str
    created: float
    updated: float
    pinned: bool
    profile: str
    leaf_id: str | None


@dataclass(frozen=True)
class AttachmentInfo:
    """What was attached to a turn (the bytes themselves live in the request, not here)."""

    name: str
    mime_type: str
    size: int
    sha256: str
    sent_as: str


@dataclass(frozen=True)
class InteractionRecord:
    """One interaction as stored: what was sent and the last snapshot received."""

    id: str
    session_id: str
    parent_id: str | None
    seq: int
    created: float
    status: str
    target: str
    input: list[Any]
    request: dict[str, Any]
    data: dict[str, Any]
    metrics: dict[str, Any]
    attachments: list[AttachmentInfo] = field(default_factory=list)


def _now() -> float:
    return time.time()


def new_session_id() -> str:
    return "s_" + uuid.uuid4().hex[:16]


def fts_query(text: str) -> str:
    """Turn what a user types into a safe FTS5 query: every word must occur, as a prefix."""
    words = re.findall(r"\w+", text, flags=re.UNICODE)
    return " ".join(f'"{w}"*' for w in words)


def _texts_of(value: Any) -> Iterator[str]:
    """Every text a user would search for: ``text`` fields, thought summaries, call names."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("text", "name") and isinstance(item, str):
                yield item
            elif key not in ("data", "signature"):
                yield from _texts_of(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts_of(item)


def search_body(input_blocks: Sequence[Any], data: dict[str, Any]) -> str:
    """The text indexed for one interaction."""
    return "\n".join([*_texts_of(list(input_blocks)), *_texts_of(data.get("steps", []))])


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


class HistoryStore:
    """The history database. One instance per process; call ``close`` when done.

    Args:
        path: the database file (created when missing).
        repair: move a damaged file aside and start a new one (the app), instead of raising
            :class:`HistoryError` (read-only commands such as ``workbench export``).
        timeout: seconds to wait for another program's lock before giving up.
    """

    def __init__(self, path: Path, *, repair: bool = True, timeout: float = 5.0) -> None:
        self.path = path
        self.recovered_from: Path | None = None
        self._listeners: list[Callable[[str], None]] = []
        self.closed = False
        """Set by :meth:`close`: a view's delayed re-read must not touch the database."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open(timeout)
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
                self.recovered_from = move_aside(path)
                self._db = self._open(timeout)
            except (OSError, sqlite3.Error) as again:
                raise HistoryError(
                    f"the history database {path} is damaged and could not be replaced "
                    f"({again}); nothing was deleted."
                ) from None
            log.warning(
                "history database %s was damaged (%s); moved to %s", path, exc, self.recovered_from
            )

    def add_listener(self, listener: Callable[[str], None]) -> None:
        """Hear the id of every session created, changed or deleted (issue 14 item 2).

        Views learn about a run's new session or a new answer from here instead of
        re-querying on a guess; listeners coalesce (the sessions list re-reads once a burst
        of changes settles).
        """
        self._listeners.append(listener)

    def _announce(self, session_id: str) -> None:
        for listener in list(self._listeners):
            try:
                listener(session_id)
            except Exception:  # a view's bug must not undo a saved write
                log.exception("history listener failed")

    def _open(self, timeout: float) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(str(self.path), isolation_level=None, timeout=timeout)
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot open the history database {self.path}: {exc}") from exc
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            if self.path.stat().st_size <= QUICK_CHECK_MAX_BYTES:
                result = db.execute("PRAGMA quick_check(1)").fetchone()[0]
                if result != "ok":
                    raise sqlite3.DatabaseError(f"database disk image is malformed: {result}")
            self._db = db
            self._migrate()
        except BaseException:
            db.close()
            raise
        return db

    @property
    def recovery_note(self) -> str:
        """Plain words for the user when a damaged file was moved aside ("" otherwise)."""
        if self.recovered_from is None:
            return ""
        return (
            f"The history database could not be read, so a new, empty history was started. "
            f"The old file was kept as {self.recovered_from} — nothing was deleted."
        )

    # --- plumbing ------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        current = self.schema_version
        if current > SCHEMA_VERSION:
            raise HistoryError(
                f"the history database was written by a newer Workbench (schema {current}, "
                f"this one knows {SCHEMA_VERSION}); update Workbench or move {self.path} aside"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            with self._tx():
                for statement in MIGRATIONS[version].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {version}")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, for stores that keep their tables in this database
        (:mod:`.run_store`); the database's recovery and migrations cover them too."""
        with self._tx() as db:
            yield db

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self._db.execute(sql, tuple(params)).fetchall()

    def close(self) -> None:
        self._db.close()
        self._listeners.clear()
        self.closed = True

    def journal_mode(self) -> str:
        return str(self._db.execute("PRAGMA journal_mode").fetchone()[0])

    # --- sessions ------------------------------------------------------------------------

    def create_session(self, title: str = "", profile: str = "") -> SessionInfo:
        sid = new_session_id()
        now = _now()
        with self._tx() as db:
            db.execute(
                "INSERT INTO sessions(id, title, created, updated, profile) VALUES (?,?,?,?,?)",
                (sid, title, now, now, profile),
            )
            db.execute(
                "INSERT INTO search(session_id, interaction_id, body) VALUES (?, '', ?)",
                (sid, title),
            )
        self._announce(sid)
        return self.session(sid)

    def session(self, session_id: str) -> SessionInfo:
        row = self._db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise KeyError(session_id)
        return _session(row)

    def sessions(self, query: str = "") -> list[SessionInfo]:
        """Pinned first, then most recently updated; ``query`` filters with full-text search."""
        order = " ORDER BY pinned DESC, updated DESC"
        if not query.strip():
            rows = self._db.execute("SELECT * FROM sessions" + order).fetchall()
        else:
            match = fts_query(query)
            if not match:
                return []
            rows = self._db.execute(
                "SELECT * FROM sessions WHERE id IN "
                "(SELECT session_id FROM search WHERE search MATCH ?)" + order,
                (match,),
            ).fetchall()
        return [_session(r) for r in rows]

    def latest_session(self) -> SessionInfo | None:
        row = self._db.execute("SELECT * FROM sessions ORDER BY updated DESC LIMIT 1").fetchone()
        return _session(row) if row else None

    def rename_session(self, session_id: str, title: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE sessions SET title = ? WHERE id = ?", (title, session_id))
            db.execute(
                "UPDATE search SET body = ? WHERE session_id = ? AND interaction_id = ''",
                (title, session_id),
            )
        self._announce(session_id)

    def set_pinned(self, session_id: str, pinned: bool) -> None:
        with self._tx() as db:
            db.execute("UPDATE sessions SET pinned = ? WHERE id = ?", (int(pinned), session_id))
        self._announce(session_id)

    def delete_session(self, session_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM search WHERE session_id = ?", (session_id,))
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        self._announce(session_id)

    def set_leaf(self, session_id: str, leaf_id: str | None) -> None:
        with self._tx() as db:
            db.execute("UPDATE sessions SET leaf_id = ? WHERE id = ?", (leaf_id, session_id))

    # --- interactions --------------------------------------------------------------------

    def save_interaction(
        self,
        session_id: str,
        interaction_id: str,
        *,
        parent_id: str | None,
        input_blocks: Sequence[Any],
        request: dict[str, Any],
        data: dict[str, Any],
        metrics: dict[str, Any] | None = None,
        attachments: Sequence[AttachmentInfo] = (),
    ) -> None:
        """Insert or update one interaction; it becomes the session's shown leaf."""
        status = str(data.get("status") or "")
        target = answered_by(data, request)
        now = _now()
        body = search_body(input_blocks, data)
        with self._tx() as db:
            exists = db.execute(
                "SELECT 1 FROM interactions WHERE id = ?", (interaction_id,)
            ).fetchone()
            if exists:
                db.execute(
                    "UPDATE interactions SET status=?, data=?, metrics=?,"
                    " target=CASE WHEN ? = '' THEN target ELSE ? END WHERE id=?",
                    (status, _dump(data), _dump(metrics or {}), target, target, interaction_id),
                )
                db.execute("DELETE FROM search WHERE interaction_id = ?", (interaction_id,))
            else:
                seq = db.execute(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM interactions WHERE session_id = ?",
                    (session_id,),
                ).fetchone()[0]
                db.execute(
                    "INSERT INTO interactions(id, session_id, parent_id, seq, created, status,"
                    " target, input, request, data, metrics) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        interaction_id,
                        session_id,
                        parent_id,
                        seq,
                        now,
                        status,
                        target,
                        _dump(list(input_blocks)),
                        _dump(request),
                        _dump(data),
                        _dump(metrics or {}),
                    ),
                )
                for pos, att in enumerate(attachments):
                    db.execute(
                        "INSERT INTO attachments VALUES (?,?,?,?,?,?,?)",
                        (
                            interaction_id,
                            pos,
                            att.name,
                            att.mime_type,
                            att.size,
                            att.sha256,
                            att.sent_as,
                        ),
                    )
            db.execute(
                "INSERT INTO search(session_id, interaction_id, body) VALUES (?,?,?)",
                (session_id, interaction_id, body),
            )
            db.execute(
                "UPDATE sessions SET updated = ?, leaf_id = ? WHERE id = ?",
                (now, interaction_id, session_id),
            )
        self._announce(session_id)

    def interaction(self, interaction_id: str) -> InteractionRecord | None:
        row = self._db.execute(
            "SELECT * FROM interactions WHERE id = ?", (interaction_id,)
        ).fetchone()
        return self._record(row) if row else None

    def interactions(self, session_id: str) -> list[InteractionRecord]:
        """Every interaction of a session, every branch, in the order they were made."""
        rows = self._db.execute(
            "SELECT * FROM interactions WHERE session_id = ? ORDER BY seq", (session_id,)
        ).fetchall()
        return [self._record(r) for r in rows]

    def session_of(self, interaction_id: str) -> str | None:
        row = self._db.execute(
            "SELECT session_id FROM interactions WHERE id = ?", (interaction_id,)
        ).fetchone()
        return str(row[0]) if row else None

    def _record(self, row: sqlite3.Row) -> InteractionRecord:
        atts = [
            AttachmentInfo(r["name"], r["mime_type"], r["size"], r["sha256"], r["sent_as"])
            for r in self._db.execute(
                "SELECT * FROM attachments WHERE interaction_id = ? ORDER BY position",
                (row["id"],),
            )
        ]
        return InteractionRecord(
            id=row["id"],
            session_id=row["session_id"],
            parent_id=row["parent_id"],
            seq=row["seq"],
            created=row["created"],
            status=row["status"],
            target=row["target"],
            input=json.loads(row["input"]),
            request=json.loads(row["request"]),
            data=json.loads(row["data"]),
            metrics=json.loads(row["metrics"]),
            attachments=atts,
        )


def _session(row: sqlite3.Row) -> SessionInfo:
    return SessionInfo(
        id=row["id"],
        title=row["title"],
        created=row["created"],
        updated=row["updated"],
        pinned=bool(row["pinned"]),
        profile=row["profile"],
        leaf_id=row["leaf_id"],
    )


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
