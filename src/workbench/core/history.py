"""The local history: every interaction the app has seen, in SQLite, searchable offline.

A *session* is a tree of interactions chained by ``previous_interaction_id``. Each row keeps
what was sent (``input``, the request settings) and the last snapshot of the interaction
(``data``), whatever server produced it, so sessions open, search and export offline.
Branches are siblings (interactions with the same parent); ``sessions.leaf_id`` remembers
which branch is shown.

This module is the store's queries and writes. Opening the file — WAL, migrations
(:mod:`.history_schema`), moving a damaged file aside, refusing a locked one — is
:mod:`.history_file`; what search indexes is :mod:`.history_search`; the records handed out
are :mod:`.history_records` (re-exported here with :class:`HistoryError`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from . import history_file
from .history_file import HistoryError, open_history
from .history_records import (
    AttachmentInfo,
    InteractionRecord,
    SessionInfo,
    attachment_info,
    interaction_record,
    session_info,
)
from .history_search import fts_query, search_body
from .run_outcome import answered_by

__all__ = ["AttachmentInfo", "HistoryError", "HistoryStore", "InteractionRecord", "SessionInfo"]

log = logging.getLogger(__name__)


def _now() -> float:
    return time.time()


def new_session_id() -> str:
    return "s_" + uuid.uuid4().hex[:16]


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
        self._listeners: list[Callable[[str], None]] = []
        self.closed = False
        """Set by :meth:`close`: a view's delayed re-read must not touch the database."""
        self._db, self.recovered_from = open_history(path, repair=repair, timeout=timeout)

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

    @property
    def recovery_note(self) -> str:
        """Plain words for the user when a damaged file was moved aside ("" otherwise)."""
        return history_file.recovery_note(self.recovered_from)

    # --- plumbing ------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return history_file.schema_version(self._db)

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        return history_file.write_transaction(self._db)

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction, for stores that keep their tables in this database
        (:mod:`.run_store`); the database's recovery and migrations cover them too."""
        return history_file.write_transaction(self._db)

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
        return session_info(row)

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
        return [session_info(r) for r in rows]

    def latest_session(self) -> SessionInfo | None:
        row = self._db.execute("SELECT * FROM sessions ORDER BY updated DESC LIMIT 1").fetchone()
        return session_info(row) if row else None

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
            attachment_info(r)
            for r in self._db.execute(
                "SELECT * FROM attachments WHERE interaction_id = ? ORDER BY position",
                (row["id"],),
            )
        ]
        return interaction_record(row, atts)


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
