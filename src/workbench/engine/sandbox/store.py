"""Environments on disk (protocol.md §9.1–§9.4): one folder per sandbox under the data dir.

Layout of ``<data_dir>/environments/<env_id>/``:

* ``environment.json`` — metadata, written atomically (id, timestamps, status, sources,
  network, env, the environment it was forked from);
* ``root/`` — the workspace: wire path ``/`` (the files API root and the code's working
  directory);
* ``scratch/`` — per-run temporary folders (the code's ``/tmp``), removed after each run;
* ``uploads/`` — partial resumable uploads.

Structural operations on one environment (create, fork, update, delete, upload finalize) are
serialised by a per-environment ``asyncio.Lock``. Blocking disk work runs in worker threads.
The metadata format and request checks are ``records.py``, whole-folder disk operations
``folders.py``, and what an interaction's ``environment`` means ``materialize.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.protocol import Environment

from . import files
from . import sources as srcmod
from ._util import atomic_write_json, new_id, rfc3339
from .errors import InvalidRequest, NotFound
from .folders import copy_tree, make_folder, remove_tree
from .network import DEFAULT_WHEN_OMITTED, NetworkPolicy, parse_network, validate_network
from .records import (
    META,
    EnvironmentRecord,
    bare_id,
    check_env_vars,
    decode_page_token,
    encode_page_token,
    plain,
)

ENV_PAGE_DEFAULT = 50
ENV_PAGE_MAX = 1000
UNSET: Any = object()
"""``update``/``fork`` argument default: keep what the environment has."""


class EnvironmentStore:
    """All environments of one engine.

    Args:
        data_dir: the engine's data directory; environments live in ``data_dir/environments``.
        default_network: the policy of an environment whose ``network`` was omitted.
        git_timeout: seconds a repository clone may take.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        default_network: NetworkPolicy = DEFAULT_WHEN_OMITTED,
        git_timeout: float = srcmod.GIT_TIMEOUT_SECONDS,
    ) -> None:
        self.base = Path(data_dir) / "environments"
        self.base.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.default_network = default_network
        self.git_timeout = git_timeout
        self._locks: dict[str, asyncio.Lock] = {}

    # --- paths and locks ----------------------------------------------------------------

    def lock(self, env_id: str) -> asyncio.Lock:
        """The lock that serialises structural changes of one environment."""
        return self._locks.setdefault(env_id, asyncio.Lock())

    def folder(self, env_id: str) -> Path:
        """The environment's folder (metadata, root, scratch, uploads)."""
        return self.base / bare_id(env_id)

    def root(self, env_id: str) -> Path:
        """The workspace root of an existing environment (404 otherwise)."""
        folder = self.folder(env_id)
        if not (folder / META).is_file():
            raise NotFound(f"Environment {env_id!r} was not found.")
        return folder / "root"

    def scratch_base(self, env_id: str) -> Path:
        """Where per-run temporary folders of this environment go."""
        return self.folder(env_id) / "scratch"

    def uploads_dir(self, env_id: str) -> Path:
        """Where partial uploads of this environment go."""
        return self.folder(env_id) / "uploads"

    def _default_network_wire(self) -> Any:
        if self.default_network.mode == "all":
            return {"allowlist": [{"domain": "*"}]}
        if self.default_network.mode == "disabled":
            return "disabled"
        return {"allowlist": [{"domain": r.domain} for r in self.default_network.rules]}

    async def get_any(self, env_id: str) -> EnvironmentRecord:
        """The record of an environment even when it has expired (GET reports the status)."""
        return await asyncio.to_thread(self._read, env_id)

    def network_policy(self, record: EnvironmentRecord) -> NetworkPolicy:
        """The enforced policy of an environment (the engine default when omitted)."""
        return parse_network(record.network, default_when_omitted=self.default_network)

    # --- reading ------------------------------------------------------------------------

    def _read(self, env_id: str) -> EnvironmentRecord:
        path = self.folder(env_id) / META
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise NotFound(f"Environment {env_id!r} was not found.") from exc
        except (OSError, ValueError) as exc:
            raise NotFound(f"Environment {env_id!r} is unreadable.") from exc
        return EnvironmentRecord.from_json(data)

    def _write(self, record: EnvironmentRecord) -> None:
        atomic_write_json(self.folder(record.id) / META, record.to_json())

    async def records(self) -> list[EnvironmentRecord]:
        """Every environment's record, active or expired, newest first (the sweeper's scan)."""
        return await asyncio.to_thread(self._all)

    async def save(self, record: EnvironmentRecord) -> None:
        """Write a record's metadata; the caller holds ``lock(record.id)``."""
        await asyncio.to_thread(self._write, record)

    async def get(self, env_id: str) -> EnvironmentRecord:
        """The record of an environment (404 when unknown, deleted or expired)."""
        record = await asyncio.to_thread(self._read, env_id)
        if record.status != "active":
            raise NotFound(f"Environment {env_id!r} has expired.")
        return record

    async def touch(self, env_id: str, *, modified: bool = False) -> EnvironmentRecord:
        """Mark an environment as used now (``last_accessed``, and ``updated`` when
        ``modified``: call it after a file upload, write or delete); returns its record."""
        async with self.lock(bare_id(env_id)):
            record = await self.get(env_id)
            record.last_accessed = rfc3339()
            if modified:
                record.updated = record.last_accessed
            await asyncio.to_thread(self._write, record)
            return record

    def _all(self) -> list[EnvironmentRecord]:
        records: list[EnvironmentRecord] = []
        try:
            names = os.listdir(self.base)
        except FileNotFoundError:
            return records
        for name in names:
            try:
                records.append(self._read(name))
            except (NotFound, InvalidRequest, KeyError):
                continue
        records.sort(key=lambda r: (r.created, r.id), reverse=True)
        return records

    async def list(
        self, page_size: int | None = None, page_token: str | None = None
    ) -> tuple[list[EnvironmentRecord], str | None]:
        """One page of environments, newest first, and the next page's token."""
        size = files.page_size_of(page_size, ENV_PAGE_DEFAULT, ENV_PAGE_MAX)
        after = decode_page_token(page_token) if page_token else None
        records = await asyncio.to_thread(self._all)
        if after is not None:
            records = [r for r in records if (r.created, r.id) < after]
        page = records[:size]
        more = len(records) > size
        token = encode_page_token(page[-1]) if more and page else None
        return page, token

    async def to_wire(self, record: EnvironmentRecord, *, counts: bool = True) -> Environment:
        """The ``Environment`` resource (§9.2): ``id`` and ``environment_id``, ``type``."""
        wire: dict[str, Any] = {
            "id": record.id,
            "environment_id": record.id,
            "type": "remote",
            "status": record.status,
            "created": record.created,
            "updated": record.updated,
            "last_accessed": record.last_accessed,
        }
        if counts:
            root = self.folder(record.id) / "root"
            count, size = await asyncio.to_thread(files.tree_stats, root)
            wire["file_count"] = count
            wire["size_bytes"] = size
        if record.sources:
            wire["sources"] = record.sources
        # Always the effective value: an omitted network is the engine's default, and
        # clients must see what the sandbox will really be allowed (issue 13).
        wire["network"] = (
            record.network if record.network is not None else self._default_network_wire()
        )
        if record.env is not None:
            wire["env"] = record.env
        return Environment.model_validate(wire)

    # --- changing -----------------------------------------------------------------------

    async def create(
        self,
        *,
        sources: Sequence[Any] | None = None,
        network: Any = None,
        env: Any = None,
        from_environment: str | None = None,
    ) -> EnvironmentRecord:
        """Create an environment from sources, or fork one (``from_environment``).

        Everything is validated before any work; a failure while applying sources (a clone
        that fails) removes the half-made environment and raises ``InvalidRequest``.
        """
        network = plain(network)
        if network is not None:
            validate_network(network)
        env_vars = check_env_vars(env)
        if from_environment:
            if sources:
                raise InvalidRequest("from_environment cannot be combined with sources.")
            return await self.fork(from_environment, network=network, env=env_vars)
        prepared = srcmod.prepare(sources)
        now = rfc3339()
        record = EnvironmentRecord(
            id=new_id("env_"),
            created=now,
            updated=now,
            last_accessed=now,
            sources=srcmod.stored(sources),
            network=network,
            env=env_vars,
        )
        async with self.lock(record.id):
            folder = self.folder(record.id)
            await asyncio.to_thread(make_folder, folder)
            try:
                await srcmod.apply(
                    folder / "root",
                    prepared,
                    self.network_policy(record),
                    git_timeout=self.git_timeout,
                )
                await asyncio.to_thread(self._write, record)
            except BaseException:
                await asyncio.to_thread(shutil.rmtree, folder, True)
                raise
        return record

    async def fork(
        self, env_id: str, *, network: Any = UNSET, env: Any = UNSET
    ) -> EnvironmentRecord:
        """A new environment with a copy of another's files, sources, network and env."""
        parent = await self.get(env_id)
        now = rfc3339()
        record = EnvironmentRecord(
            id=new_id("env_"),
            created=now,
            updated=now,
            last_accessed=now,
            sources=list(parent.sources),
            network=parent.network if network is UNSET or network is None else network,
            env=parent.env if env is UNSET or env is None else env,
            forked_from=parent.id,
        )
        async with self.lock(parent.id), self.lock(record.id):
            # A fork uses its parent (a saved agent's base_environment): that is activity,
            # so the parent's expiry clock restarts (protocol.md §9.3).
            parent = await self.get(parent.id)
            parent.last_accessed = now
            await asyncio.to_thread(self._write, parent)
            folder = self.folder(record.id)
            try:
                await asyncio.to_thread(make_folder, folder, with_root=False)
                await asyncio.to_thread(copy_tree, self.folder(parent.id) / "root", folder / "root")
                await asyncio.to_thread(self._write, record)
            except BaseException:
                await asyncio.to_thread(shutil.rmtree, folder, True)
                raise
        return record

    async def update(
        self,
        env_id: str,
        *,
        sources: Sequence[Any] | None = None,
        network: Any = UNSET,
        env: Any = UNSET,
    ) -> EnvironmentRecord:
        """Add sources to an existing environment and replace its network / env when given."""
        network = UNSET if network is UNSET else plain(network)
        if network is not UNSET and network is not None:
            validate_network(network)
        env_vars = UNSET if env is UNSET or env is None else check_env_vars(env)
        prepared = srcmod.prepare(sources)
        async with self.lock(bare_id(env_id)):
            record = await self.get(env_id)
            if network is not UNSET and network is not None:
                record.network = network
            if env_vars is not UNSET:
                record.env = env_vars
            await srcmod.apply(
                self.folder(record.id) / "root",
                prepared,
                self.network_policy(record),
                git_timeout=self.git_timeout,
            )
            record.sources = [*record.sources, *srcmod.stored(sources)]
            record.updated = record.last_accessed = rfc3339()
            await asyncio.to_thread(self._write, record)
            return record

    async def delete(self, env_id: str) -> None:
        """Remove an environment and all its files (404 when unknown)."""
        env_id = bare_id(env_id)
        async with self.lock(env_id):
            await asyncio.to_thread(self._read, env_id)
            folder = self.folder(env_id)
            # Make it invisible first, then remove the tree.
            await asyncio.to_thread(os.unlink, folder / META)
            await asyncio.to_thread(remove_tree, folder)
        self._locks.pop(env_id, None)
