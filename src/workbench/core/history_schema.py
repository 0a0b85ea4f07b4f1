"""The history database's tables, one migration per schema version.

Pure data: :mod:`.history_file` applies the migrations a database lacks when it opens it
(``PRAGMA user_version`` holds the version reached), so each step here is written once and
never changed — a new table or column is a new version.
"""

from __future__ import annotations

SCHEMA_VERSION = 3

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
