"""Durable state in SQLite: interactions, their event logs, and saved agents.

Environments are not here: each keeps its metadata in ``environment.json`` next to its files
(``sandbox/store.py``), so a sandbox and what describes it cannot drift apart.

One connection lives on one dedicated worker thread; every call is submitted to that thread,
so the event loop never waits on disk and the writes happen in the order they were made.
The database runs in WAL mode with ``synchronous=NORMAL``: a crash can lose the last moments
of an event log, never corrupt it, and the restart rule (``runner.recover``) completes logs
that were cut short.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .migrations import migrate

T = TypeVar("T")

DB_NAME = "engine.db"


@dataclass
class InteractionRecord:
    """One stored interaction, split the way it is written (input once, output often)."""

    id: str
    status: str
    created: str
    updated: str
    resource: dict[str, Any]
    input_steps: list[dict[str, Any]] = field(default_factory=list)
    output_steps: list[dict[str, Any]] = field(default_factory=list)
    previous_interaction_id: str | None = None
    continuation_token: str | None = None
    request_input: Any = None
    has_request_input: bool = False

    @property
    def steps(self) -> list[dict[str, Any]]:
        """The whole timeline: echoed input steps, then output steps."""
        return self.input_steps + self.output_steps


@dataclass(frozen=True)
class StoredEvent:
    """One logged event: its number, type and the exact JSON that went on the wire."""

    seq: int
    event_type: str
    data: str


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Store:
    """Async facade over a SQLite database owned by one worker thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine-db")
        self._conn: sqlite3.Connection | None = None

    # -- plumbing -----------------------------------------------------------------------

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            if self._conn is None:
                raise RuntimeError("the store is closed")
            return fn(self._conn)

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(connection)`` on the database thread (for modules with their own tables)."""
        return await self._run(fn)

    async def open(self) -> None:
        """Open (creating if needed) the database and apply migrations."""

        def do_open() -> None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=5000")
            migrate(conn)
            self._conn = conn

        await asyncio.get_running_loop().run_in_executor(self._executor, do_open)

    async def close(self) -> None:
        """Close the connection and stop the worker thread (idempotent)."""

        def do_close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        if self._executor is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, do_close)
            self._executor.shutdown(wait=True)

    # -- interactions ---------------------------------------------------------------------

    async def insert_interaction(self, rec: InteractionRecord) -> None:
        """Write a new interaction row (input included)."""
        head = (
            rec.id,
            rec.status,
            rec.created,
            rec.updated,
            rec.previous_interaction_id,
            rec.continuation_token,
            _dumps(rec.resource),
        )
        output = _dumps(rec.output_steps)
        input_steps, request_input = rec.input_steps, rec.request_input
        has_input = rec.has_request_input

        def do(conn: sqlite3.Connection) -> None:
            # The input (possibly large media) never changes: serialize it on this thread.
            row = (
                *head,
                _dumps(input_steps),
                output,
                _dumps(request_input) if has_input else None,
            )
            conn.execute(
                "INSERT INTO interactions (id, status, created, updated, previous_interaction_id,"
                " continuation_token, resource, input_steps, output_steps, request_input)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

        await self._run(do)

    async def update_interaction(self, rec: InteractionRecord) -> None:
        """Rewrite the changing parts of a row: status, timestamps, resource, output steps."""
        row = (
            rec.status,
            rec.updated,
            rec.continuation_token,
            _dumps(rec.resource),
            _dumps(rec.output_steps),
            rec.id,
        )

        def do(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE interactions SET status=?, updated=?, continuation_token=?, resource=?,"
                " output_steps=? WHERE id=?",
                row,
            )

        await self._run(do)

    async def get_interaction(self, interaction_id: str) -> InteractionRecord | None:
        """The stored interaction, or None."""

        def do(conn: sqlite3.Connection) -> InteractionRecord | None:
            cur = conn.execute(
                "SELECT id, status, created, updated, previous_interaction_id, continuation_token,"
                " resource, input_steps, output_steps, request_input FROM interactions"
                " WHERE id=?",
                (interaction_id,),
            )
            row = cur.fetchone()
            return _record(row) if row else None

        return await self._run(do)

    async def unfinished_interactions(self) -> list[InteractionRecord]:
        """Interactions left ``queued`` or ``in_progress`` (by a previous process)."""

        def do(conn: sqlite3.Connection) -> list[InteractionRecord]:
            cur = conn.execute(
                "SELECT id, status, created, updated, previous_interaction_id, continuation_token,"
                " resource, input_steps, output_steps, request_input FROM interactions"
                " WHERE status IN ('queued', 'in_progress')"
            )
            return [_record(row) for row in cur.fetchall()]

        return await self._run(do)

    async def delete_interaction(self, interaction_id: str) -> bool:
        """Remove an interaction and its event log; False when it did not exist."""

        def do(conn: sqlite3.Connection) -> bool:
            conn.execute("BEGIN")
            try:
                conn.execute("DELETE FROM events WHERE interaction_id=?", (interaction_id,))
                cur = conn.execute("DELETE FROM interactions WHERE id=?", (interaction_id,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return cur.rowcount > 0

        return await self._run(do)

    # -- event logs -----------------------------------------------------------------------

    async def append_events(self, rows: list[tuple[str, int, str, str]]) -> None:
        """Append ``(interaction_id, seq, event_type, data)`` rows in one transaction."""
        if not rows:
            return

        def do(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN")
            try:
                conn.executemany(
                    "INSERT OR IGNORE INTO events (interaction_id, seq, event_type, data)"
                    " VALUES (?, ?, ?, ?)",
                    rows,
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        await self._run(do)

    async def events_after(self, interaction_id: str, after: int) -> list[StoredEvent]:
        """Logged events with ``seq > after``, in order."""

        def do(conn: sqlite3.Connection) -> list[StoredEvent]:
            cur = conn.execute(
                "SELECT seq, event_type, data FROM events WHERE interaction_id=? AND seq>?"
                " ORDER BY seq",
                (interaction_id, after),
            )
            return [StoredEvent(int(s), str(t), str(d)) for s, t, d in cur.fetchall()]

        return await self._run(do)

    async def last_event_seq(self, interaction_id: str) -> int:
        """The newest logged event id (0 when none): one indexed lookup, not the whole log."""

        def do(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT MAX(seq) FROM events WHERE interaction_id=?", (interaction_id,)
            ).fetchone()
            return int(row[0]) if row and row[0] is not None else 0

        return await self._run(do)

    # -- saved agents (protocol.md §8) -------------------------------------------------------

    async def insert_agent(self, agent_id: str, created: str, resource: dict[str, Any]) -> bool:
        """Store a new agent; False when the id is taken."""
        row = (agent_id, created, created, _dumps(resource))

        def do(conn: sqlite3.Connection) -> bool:
            try:
                conn.execute(
                    "INSERT INTO agents (id, created, updated, resource) VALUES (?, ?, ?, ?)", row
                )
            except sqlite3.IntegrityError:
                return False
            return True

        return await self._run(do)

    async def get_agent(self, agent_id: str) -> dict[str, Any] | None:
        """A saved agent's resource, or None."""

        def do(conn: sqlite3.Connection) -> dict[str, Any] | None:
            row = conn.execute("SELECT resource FROM agents WHERE id=?", (agent_id,)).fetchone()
            return json.loads(row[0]) if row else None

        return await self._run(do)

    async def list_agents(
        self, limit: int, after: tuple[str, str] | None
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """Up to ``limit`` agents as ``(created, id, resource)``, oldest first, after a key."""

        def do(conn: sqlite3.Connection) -> list[tuple[str, str, dict[str, Any]]]:
            if after is None:
                cur = conn.execute(
                    "SELECT created, id, resource FROM agents ORDER BY created, id LIMIT ?",
                    (limit,),
                )
            else:
                cur = conn.execute(
                    "SELECT created, id, resource FROM agents WHERE (created, id) > (?, ?)"
                    " ORDER BY created, id LIMIT ?",
                    (*after, limit),
                )
            return [(str(c), str(i), json.loads(r)) for c, i, r in cur.fetchall()]

        return await self._run(do)

    async def count_agents(self) -> int:
        """How many agents are saved."""

        def do(conn: sqlite3.Connection) -> int:
            return int(conn.execute("SELECT COUNT(*) FROM agents").fetchone()[0])

        return await self._run(do)

    async def delete_agent(self, agent_id: str) -> bool:
        """Remove a saved agent; False when it did not exist."""

        def do(conn: sqlite3.Connection) -> bool:
            return conn.execute("DELETE FROM agents WHERE id=?", (agent_id,)).rowcount > 0

        return await self._run(do)


def _record(row: tuple[Any, ...]) -> InteractionRecord:
    (iid, status, created, updated, prev, token, resource, in_steps, out_steps, req_in) = row
    return InteractionRecord(
        id=iid,
        status=status,
        created=created,
        updated=updated,
        previous_interaction_id=prev,
        continuation_token=token,
        resource=json.loads(resource),
        input_steps=json.loads(in_steps),
        output_steps=json.loads(out_steps),
        request_input=json.loads(req_in) if req_in is not None else None,
        has_request_input=req_in is not None,
    )
