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
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import shutil
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.protocol import Environment, EnvironmentConfig

from . import files
from . import sources as srcmod
from ._util import atomic_write_json, new_id, rfc3339
from .errors import InvalidRequest, NotFound
from .network import DEFAULT_WHEN_OMITTED, NetworkPolicy, parse_network, validate_network

META = "environment.json"
ENV_PAGE_DEFAULT = 50
ENV_PAGE_MAX = 1000
_UNSET: Any = object()


@dataclass
class EnvironmentRecord:
    """What the store knows about one environment (the metadata file's content)."""

    id: str
    created: str
    updated: str
    last_accessed: str
    status: str = "active"
    sources: list[dict[str, Any]] = field(default_factory=list)
    network: Any = None
    env: dict[str, Any] | None = None
    forked_from: str | None = None
    expired_at: str | None = None
    """When the sweeper (``expiry.py``) removed its files; the metadata goes a grace later."""

    def to_json(self) -> dict[str, Any]:
        """The metadata file's content."""
        data: dict[str, Any] = {
            "id": self.id,
            "created": self.created,
            "updated": self.updated,
            "last_accessed": self.last_accessed,
            "status": self.status,
            "sources": self.sources,
        }
        for key in ("network", "env", "forked_from", "expired_at"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EnvironmentRecord:
        """Read a metadata file's content."""
        return cls(
            id=str(data["id"]),
            created=str(data["created"]),
            updated=str(data.get("updated", data["created"])),
            last_accessed=str(data.get("last_accessed", data["created"])),
            status=str(data.get("status", "active")),
            sources=list(data.get("sources") or []),
            network=data.get("network"),
            env=data.get("env"),
            forked_from=data.get("forked_from"),
            expired_at=data.get("expired_at"),
        )


def bare_id(value: str) -> str:
    """``environments/{id}`` or ``{id}`` → ``{id}`` (400 when it is not a plausible id)."""
    env_id = value.strip().removeprefix("environments/")
    if not env_id or "/" in env_id or env_id in (".", "..") or len(env_id) > 128:
        raise InvalidRequest(f"{value!r} is not an environment id.")
    if not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in env_id):
        raise InvalidRequest(f"{value!r} is not an environment id.")
    return env_id


def _plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump(mode="json", exclude_none=True) if callable(dump) else value


def check_env_vars(env: Any) -> dict[str, Any] | None:
    """``env`` as ``NAME: value`` strings or ``NAME: {"credential": id}`` references.

    Values are strings, the object form ``{"value": …}``, or ``{"credential": id}``: the
    reference is kept as it is (never the secret) and resolved from the keyring when code
    runs (``ops/credentials.py``). ``InvalidRequest`` for what a run would refuse. Saved
    agents are checked with this when they are saved.
    """
    env = _plain(env)
    if env is None:
        return None
    if not isinstance(env, dict):
        raise InvalidRequest("env must be an object of NAME: value.")
    out: dict[str, Any] = {}
    for name, value in env.items():
        if not isinstance(name, str) or not name or "=" in name or "\x00" in name:
            raise InvalidRequest(f"env has an invalid variable name {name!r}.")
        value = _plain(value)  # the object form {"value": …} arrives as a parsed EnvVar
        if isinstance(value, dict):
            credential = value.get("credential")
            if credential is not None:
                if not isinstance(credential, str) or not credential:
                    raise InvalidRequest(f"env {name}: credential must be a credential id.")
                if value.get("value") is not None:
                    raise InvalidRequest(f"env {name}: give a value or a credential, not both.")
                out[name] = {"credential": credential}
                continue
            value = value.get("value")
        if not isinstance(value, str) or "\x00" in value:
            raise InvalidRequest(f"env {name} must have a string value.")
        out[name] = value
    return out


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
        after = _decode_token(page_token) if page_token else None
        records = await asyncio.to_thread(self._all)
        if after is not None:
            records = [r for r in records if (r.created, r.id) < after]
        page = records[:size]
        more = len(records) > size
        token = _encode_token(page[-1]) if more and page else None
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
        network = _plain(network)
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
            await asyncio.to_thread(_make_folder, folder)
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
        self, env_id: str, *, network: Any = _UNSET, env: Any = _UNSET
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
            network=parent.network if network is _UNSET or network is None else network,
            env=parent.env if env is _UNSET or env is None else env,
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
                await asyncio.to_thread(_make_folder, folder, with_root=False)
                await asyncio.to_thread(
                    _copy_tree, self.folder(parent.id) / "root", folder / "root"
                )
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
        network: Any = _UNSET,
        env: Any = _UNSET,
    ) -> EnvironmentRecord:
        """Add sources to an existing environment and replace its network / env when given."""
        network = _UNSET if network is _UNSET else _plain(network)
        if network is not _UNSET and network is not None:
            validate_network(network)
        env_vars = _UNSET if env is _UNSET or env is None else check_env_vars(env)
        prepared = srcmod.prepare(sources)
        async with self.lock(bare_id(env_id)):
            record = await self.get(env_id)
            if network is not _UNSET and network is not None:
                record.network = network
            if env_vars is not _UNSET:
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
            await asyncio.to_thread(_remove_tree, folder)
        self._locks.pop(env_id, None)

    # --- interactions (§3.7, §8) ----------------------------------------------------------

    async def materialize(self, spec: Any, *, base: Any = None) -> EnvironmentRecord:
        """The environment an interaction runs in.

        Args:
            spec: the request's ``environment``: None or ``"remote"`` (a fresh sandbox, or a
                fresh fork of ``base``), an id / ``environments/{id}`` (reuse, files kept), or
                a config (object or ``EnvironmentConfig``): with ``environment_id`` it updates
                that environment, otherwise it makes a new one from ``base`` plus its own
                sources, and its ``network`` replaces the saved rules.
            base: a custom agent's ``base_environment`` (same three forms), or None.

        Raises:
            NotFound: an id that does not exist (or has expired).
            InvalidRequest: bad sources, network or env.
        """
        if isinstance(spec, str) and spec.strip().lower() != "remote":
            return await self.touch(spec)
        config = _config(spec)
        if config is not None and config.environment_id:
            return await self.update(
                config.environment_id,
                sources=config.sources,
                network=config.network if config.network is not None else _UNSET,
                env=config.env if config.env is not None else _UNSET,
            )
        base_config = _config(base)
        if isinstance(base, str) and base.strip().lower() != "remote":
            record = await self.fork(base)
        elif base_config is not None and base_config.environment_id:
            record = await self.fork(base_config.environment_id, network=base_config.network)
        elif base_config is not None:
            record = await self.create(
                sources=base_config.sources, network=base_config.network, env=base_config.env
            )
        else:
            record = await self.create()
        if config is not None and (config.sources or config.network is not None or config.env):
            try:
                record = await self.update(
                    record.id,
                    sources=config.sources,
                    network=config.network if config.network is not None else _UNSET,
                    env=config.env if config.env is not None else _UNSET,
                )
            except BaseException:
                await self.delete(record.id)
                raise
        return record


def _config(spec: Any) -> EnvironmentConfig | None:
    if spec is None or isinstance(spec, str):
        return None
    if isinstance(spec, EnvironmentConfig):
        return spec
    if isinstance(spec, dict):
        return EnvironmentConfig.model_validate(spec)
    raise InvalidRequest("environment must be 'remote', an environment id or a config object.")


def _make_folder(folder: Path, *, with_root: bool = True) -> None:
    folder.mkdir(mode=0o700)
    if with_root:
        (folder / "root").mkdir()


def _copy_tree(src: Path, dst: Path) -> None:
    """Copy a workspace: symlinks stay links, sockets/FIFOs/devices are left out."""

    def skip_special(directory: str, names: list[str]) -> list[str]:
        skipped = []
        for name in names:
            try:
                mode = os.lstat(os.path.join(directory, name)).st_mode
            except OSError:
                skipped.append(name)
                continue
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
                skipped.append(name)
        return skipped

    shutil.copytree(src, dst, symlinks=True, ignore=skip_special)


def _remove_tree(folder: Path) -> None:
    def make_writable(func: Any, path: str, _exc: Any) -> None:
        try:
            os.chmod(os.path.dirname(path), 0o700)
            func(path)
        except OSError:
            pass

    shutil.rmtree(folder, onerror=make_writable)


def _encode_token(record: EnvironmentRecord) -> str:
    raw = json.dumps([record.created, record.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        created, env_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidRequest("page_token is not valid.") from exc
    if not isinstance(created, str) or not isinstance(env_id, str):
        raise InvalidRequest("page_token is not valid.")
    return created, env_id
