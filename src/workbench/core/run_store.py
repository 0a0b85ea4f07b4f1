"""Where the run tracker keeps its runs: a ``runs`` table in the history database.

Issue 14: runs used to live in ``runs.json``, the whole file rewritten every second while
runs streamed. Now each run is one row; a save writes only the rows whose record changed,
and a run's request (an agent's definition can be megabytes) is a column of its own written
when it changes (a new hop), not with every event. The history database's WAL, migrations
and recovery (a damaged file moved aside) cover the runs too.

An existing ``runs.json`` is imported once, on the first start that finds it, and renamed
``runs.json.migrated``; nothing in it is dropped (interaction ids, sandbox, status, agent,
session, tokens, budget, pending calls, answers).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .history import HistoryStore
from .history_file import move_aside
from .run_records import RunRecord

log = logging.getLogger(__name__)

BUDGET_KEY = "runs.default_budget"
MIGRATED_SUFFIX = ".migrated"


def without_inline_sources(request: dict[str, Any]) -> dict[str, Any]:
    """A request as stored: inline environment sources by size, not content.

    An agent run's request carries its whole definition inline (AGENTS.md, skills, data
    files: 2.7 MB for three runs). The sandbox holds those files once the run started; a
    later hop continues with ``environment_id`` (``RunTracker.continuation_body``), so
    only a note of what was sent is kept. The request in memory stays whole.
    """
    for key in ("environment", "base_environment"):
        env = request.get(key)
        if not isinstance(env, dict) or not isinstance(env.get("sources"), list):
            continue
        kept = []
        for source in env["sources"]:
            if isinstance(source, dict) and isinstance(source.get("content"), str):
                size = len(source["content"])
                source = {k: v for k, v in source.items() if k != "content"}
                source["content_chars"] = size
            kept.append(source)
        request = {**request, key: {**env, "sources": kept}}
    return request


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class RunStore:
    """Rows of the ``runs`` table; remembers what it wrote so unchanged runs cost nothing."""

    def __init__(self, history: HistoryStore) -> None:
        self.history = history
        self._written: dict[str, tuple[str, str]] = {}
        """Per run id, the record and request JSON last written (or read)."""
        self._budget: int | None = None

    def load(self) -> tuple[int | None, list[RunRecord]]:
        """The default budget and every run, oldest first."""
        runs: list[RunRecord] = []
        for row in self.history.query("SELECT id, record, request FROM runs ORDER BY created"):
            try:
                data = json.loads(row["record"])
                data["request"] = json.loads(row["request"])
                run = RunRecord.model_validate(data)
            except ValueError as exc:
                log.warning("run %s unreadable (%s); skipped", row["id"], exc)
                continue
            runs.append(run)
            self._written[run.id] = (row["record"], row["request"])
        rows = self.history.query("SELECT value FROM app_state WHERE key = ?", (BUDGET_KEY,))
        self._budget = _budget(json.loads(rows[0]["value"])) if rows else None
        return self._budget, runs

    def save(self, runs: Iterable[RunRecord], default_budget: int | None) -> int:
        """Write the runs whose record changed since last time, in one transaction.

        Returns how many rows were written.
        """
        changed: list[tuple[RunRecord, str, str, bool]] = []
        for run in runs:
            record = _dump(run.model_dump(exclude={"request"}))
            before = self._written.get(run.id)
            request = before[1] if before else ""
            if before is None or before[0] != record:
                fresh = _dump(without_inline_sources(run.request))
                changed.append((run, record, fresh, before is None or fresh != request))
        budget_changed = default_budget != self._budget
        if not changed and not budget_changed:
            return 0
        with self.history.transaction() as db:
            for run, record, request, with_request in changed:
                _upsert(db, run, record, request, with_request)
            if budget_changed:
                db.execute(
                    "INSERT INTO app_state(key, value) VALUES (?, ?)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (BUDGET_KEY, _dump(default_budget)),
                )
        for run, record, request, _with in changed:
            self._written[run.id] = (record, request)
        self._budget = default_budget
        return len(changed)

    def delete(self, run_id: str) -> None:
        with self.history.transaction() as db:
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        self._written.pop(run_id, None)

    def import_json(self, path: Path) -> int:
        """Take the runs of an old ``runs.json`` once, then rename it ``….migrated``.

        Runs already in the table are kept as they are. An unreadable file is moved aside
        (``runs.json.unreadable-…``) with a warning, so it is not read at every start.
        Returns how many runs were imported.
        """
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                raise ValueError("not a JSON object")
        except FileNotFoundError:
            return 0
        except (OSError, ValueError) as exc:
            log.warning("runs file %s unreadable (%s); moved aside", path, exc)
            move_aside(path, "unreadable")
            return 0
        runs = []
        for item in raw.get("runs") or []:
            try:
                runs.append(RunRecord.model_validate(item))
            except ValueError as exc:
                log.warning("a run in %s is unreadable (%s); skipped", path, exc)
        known = {row["id"] for row in self.history.query("SELECT id FROM runs")}
        fresh = [r for r in runs if r.id not in known]
        with self.history.transaction() as db:
            for run in fresh:
                record = _dump(run.model_dump(exclude={"request"}))
                _upsert(db, run, record, _dump(without_inline_sources(run.request)), True)
            budget = _budget(raw.get("default_budget"))
            if budget is not None:
                db.execute(
                    "INSERT OR IGNORE INTO app_state(key, value) VALUES (?, ?)",
                    (BUDGET_KEY, _dump(budget)),
                )
        target = path.with_name(path.name + MIGRATED_SUFFIX)
        if target.exists():
            target = move_aside(path, "migrated")
        else:
            path.replace(target)
        log.info("imported %d run(s) from %s; the file is now %s", len(fresh), path, target)
        return len(fresh)


def _budget(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _upsert(
    db: sqlite3.Connection, run: RunRecord, record: str, request: str, with_request: bool
) -> None:
    columns = (
        run.created,
        run.profile_id,
        run.status,
        run.interaction_id,
        run.environment_id,
        run.session_id,
        record,
    )
    if with_request:
        db.execute(
            "INSERT INTO runs(id, created, profile_id, status, interaction_id, environment_id,"
            " session_id, record, request) VALUES (?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(id) DO UPDATE SET created=excluded.created,"
            " profile_id=excluded.profile_id, status=excluded.status,"
            " interaction_id=excluded.interaction_id, environment_id=excluded.environment_id,"
            " session_id=excluded.session_id, record=excluded.record, request=excluded.request",
            (run.id, *columns, request),
        )
        return
    db.execute(
        "UPDATE runs SET created=?, profile_id=?, status=?, interaction_id=?, environment_id=?,"
        " session_id=?, record=? WHERE id=?",
        (*columns, run.id),
    )
