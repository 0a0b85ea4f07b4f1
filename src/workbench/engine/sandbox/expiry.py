"""Environment expiry (protocol.md §9.3): unused sandboxes lose their files, then their metadata.

An environment is kept ``environment_ttl_days`` after its last activity (``created``,
``updated`` or ``last_accessed``, whichever is newest: creation, every interaction that uses
it, a fork of it, sources added and files written through the files API). Past that the
sweeper removes its files and marks it ``expired`` — GET still shows it, with that status,
and an interaction naming it gets 404. ``expired_keep_hours`` later its metadata goes too
(GET → 404). Reads (GET, file listings, downloads) are not activity: browsing an old sandbox
does not keep it on disk.

An environment that a live interaction (running or queued) uses, or that has an open upload
session, is never expired: the caller says which ids are busy (``in_use``). The clock is
injectable so tests move time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .errors import NotFound, SandboxError
from .folders import remove_tree
from .records import EnvironmentRecord
from .store import EnvironmentStore

log = logging.getLogger("workbench.engine.sandbox")

SWEEP_INTERVAL_SECONDS = 3600.0
"""How often the engine looks for environments to expire (hourly: the TTL is in days)."""

FILE_PARTS = ("root", "scratch", "uploads")
"""What an environment folder holds besides its metadata: all of it goes at expiry."""


def utc_now() -> datetime:
    """The real clock (tests pass their own)."""
    return datetime.now(UTC)


def stamp_of(text: str) -> datetime | None:
    """A stored RFC 3339 timestamp as an aware datetime; None when it cannot be read."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def last_activity(record: EnvironmentRecord) -> datetime | None:
    """The newest of the record's timestamps: what the TTL is measured from."""
    stamps = [stamp_of(t) for t in (record.created, record.updated, record.last_accessed)]
    known = [s for s in stamps if s is not None]
    return max(known) if known else None


def _remove_files(folder: Path) -> bool:
    """Remove an environment's files, keeping its metadata; whether there were any."""
    parts = [folder / p for p in FILE_PARTS if os.path.lexists(folder / p)]
    for part in parts:
        remove_tree(part)
    return bool(parts)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class SweepReport:
    """What one sweep did (ids), for logs and tests."""

    expired: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    emptied: list[str] = field(default_factory=list)
    """Expired environments whose files were removed by this sweep."""


class EnvironmentSweeper:
    """Expires environments past their TTL and deletes the metadata of long-expired ones.

    Args:
        store: the engine's environments.
        ttl_days: days after the last activity an environment is kept; 0 never expires one.
        keep_hours: hours an expired environment's metadata stays visible (status
            ``expired``) before it is deleted.
        in_use: the ids of environments a live interaction or an upload is using now.
        clock: the current time (aware, UTC).
    """

    def __init__(
        self,
        store: EnvironmentStore,
        *,
        ttl_days: float,
        keep_hours: float,
        in_use: Callable[[], Collection[str]] = frozenset,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if ttl_days < 0:
            raise ValueError("environment_ttl_days must be 0 (never expire) or more")
        if keep_hours < 0:
            raise ValueError("environment_expired_keep_hours must be 0 or more")
        self.store = store
        self.ttl = timedelta(days=ttl_days) if ttl_days > 0 else None
        self.keep = timedelta(hours=keep_hours)
        self.in_use = in_use
        self.clock = clock

    async def mark(self) -> SweepReport:
        """Mark environments past the TTL ``expired`` and delete long-expired metadata.

        Only metadata is written here (fast, so the engine does it before serving); the
        files of what was marked go in :meth:`sweep`.
        """
        report, _left = await self._mark()
        return report

    async def sweep(self) -> SweepReport:
        """:meth:`mark`, then remove the files of every expired environment still holding any."""
        report, expired = await self._mark()
        for env_id in expired:
            async with self.store.lock(env_id):
                removed = await asyncio.to_thread(_remove_files, self.store.folder(env_id))
            if removed:
                report.emptied.append(env_id)
        if report.expired or report.deleted:
            log.info(
                "environments: %d expired, %d deleted", len(report.expired), len(report.deleted)
            )
        return report

    async def _mark(self) -> tuple[SweepReport, list[str]]:
        """One pass over the metadata; also returns the ids left expired (files may remain)."""
        report = SweepReport()
        expired: list[str] = []
        now = self.clock()
        for record in await self.store.records():
            try:
                if record.status == "active":
                    if self._due(record, now) and await self._expire(record.id, now):
                        report.expired.append(record.id)
                        expired.append(record.id)
                elif await self._purge(record, now):
                    report.deleted.append(record.id)
                else:
                    expired.append(record.id)
            except (SandboxError, OSError):
                log.exception("environment %s: expiry failed; the next sweep retries", record.id)
        return report, expired

    def _due(self, record: EnvironmentRecord, now: datetime) -> bool:
        active = last_activity(record)
        return self.ttl is not None and active is not None and now - active >= self.ttl

    async def run(self, interval: float = SWEEP_INTERVAL_SECONDS) -> None:
        """Sweep now and then every ``interval`` seconds, until cancelled."""
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("environment sweep failed")
            await asyncio.sleep(interval)

    async def _expire(self, env_id: str, now: datetime) -> bool:
        async with self.store.lock(env_id):
            # Read again under the lock: an interaction may have just used it.
            record = await self.store.get_any(env_id)
            if record.status != "active" or not self._due(record, now):
                return False
            if env_id in set(self.in_use()):
                return False
            record.status = "expired"
            record.expired_at = _rfc3339(now)
            await self.store.save(record)  # unusable from here on; files go in sweep()
        return True

    async def _purge(self, record: EnvironmentRecord, now: datetime) -> bool:
        since = stamp_of(record.expired_at) if record.expired_at else None
        if since is None:
            # Expired without a time (written by hand or by an older engine): the grace
            # starts now.
            async with self.store.lock(record.id):
                record = await self.store.get_any(record.id)
                if record.status == "active":
                    return False
                record.expired_at = _rfc3339(now)
                await self.store.save(record)
            return False
        if now - since < self.keep:
            return False
        # Nothing turns an expired environment active again, so no re-check is needed.
        with contextlib.suppress(NotFound):
            await self.store.delete(record.id)
        return True
