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
    # 3: webhooks with their delivery log, triggers with their executions, credentials'
    # metadata (engine/ops/). Secret values are never here: they live in the OS keyring.
    """
    CREATE TABLE webhooks (
        id TEXT PRIMARY KEY,
        created TEXT NOT NULL,
        resource TEXT NOT NULL,          -- Webhook JSON (signing_secrets as truncated forms)
        failures INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE webhook_deliveries (
        id TEXT PRIMARY KEY,             -- also the webhook-id header (the same on retries)
        webhook_id TEXT,                 -- the registered webhook whose secret signs it
        uri TEXT NOT NULL,
        event_type TEXT NOT NULL,
        payload TEXT NOT NULL,           -- the exact body sent
        state TEXT NOT NULL,             -- pending, delivered, failed
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt REAL NOT NULL,      -- unix time of the next attempt
        last_error TEXT,
        last_status INTEGER,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(state, next_attempt);
    CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(webhook_id, created);
    CREATE TABLE triggers (
        id TEXT PRIMARY KEY,
        created TEXT NOT NULL,
        resource TEXT NOT NULL           -- Trigger JSON
    );
    CREATE TABLE trigger_executions (
        id TEXT PRIMARY KEY,
        trigger_id TEXT NOT NULL,
        created TEXT NOT NULL,
        resource TEXT NOT NULL           -- TriggerExecution JSON
    );
    CREATE INDEX trigger_executions_by_trigger ON trigger_executions(trigger_id, created, id);
    CREATE TABLE credentials (
        id TEXT PRIMARY KEY,
        created TEXT NOT NULL,
        resource TEXT NOT NULL,          -- Credential JSON
        config TEXT NOT NULL             -- the non-secret fields (domains, header name, …)
    );
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
