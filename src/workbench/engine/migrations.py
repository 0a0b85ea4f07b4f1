"""SQLite schema, versioned with ``PRAGMA user_version``.

Each entry of ``MIGRATIONS`` moves the database from version ``i`` to ``i + 1``; a new release
appends entries and never edits old ones. ``migrate`` applies whatever is missing, in one
transaction per step.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    # 1: interactions with their event logs, plus tables ready for agents and environments.
    """
    CREATE TABLE interactions (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        previous_interaction_id TEXT,
        continuation_token TEXT,
        resource TEXT NOT NULL,          -- Interaction JSON without "steps"
        input_steps TEXT NOT NULL,       -- JSON list: the echoed input steps
        output_steps TEXT NOT NULL,      -- JSON list: the steps the run produced
        request_input TEXT               -- JSON of "input" exactly as received (include_input)
    );
    CREATE INDEX interactions_status ON interactions(status);
    CREATE TABLE events (
        interaction_id TEXT NOT NULL,
        seq INTEGER NOT NULL,            -- the event_id, as a number
        event_type TEXT NOT NULL,
        data TEXT NOT NULL,              -- the exact serialized JSON sent on the wire
        PRIMARY KEY (interaction_id, seq)
    ) WITHOUT ROWID;
    CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        resource TEXT NOT NULL
    );
    CREATE TABLE environments (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        last_accessed TEXT,
        resource TEXT NOT NULL
    );
    """,
    # 2: environments keep their metadata as environment.json next to their files
    # (sandbox/store.py), so the table made for them in 1 is dropped; agents get an index.
    """
    DROP TABLE environments;
    CREATE INDEX agents_created ON agents(created, id);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer engine."""


def migrate(conn: sqlite3.Connection) -> int:
    """Bring ``conn`` up to ``SCHEMA_VERSION``; returns the version it started at."""
    (start,) = conn.execute("PRAGMA user_version").fetchone()
    if start > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"the database has schema version {start}, newer than this engine's "
            f"{SCHEMA_VERSION}; use a newer engine or another data directory"
        )
    for version in range(start, SCHEMA_VERSION):
        script = MIGRATIONS[version]
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {version + 1};\nCOMMIT;")
    return int(start)
