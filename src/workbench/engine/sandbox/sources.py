"""Environment sources (protocol.md §9.4): validated up front, then written into a root.

* ``inline``: ``content`` written at ``target`` (text, or ``encoding: "base64"``); at most
  1 MiB per file and 2 MiB per request.
* ``repository``: ``git clone`` from a local path / ``file://`` URL, or from an http(s) URL
  when the environment's network rules allow its host (``transform`` headers are sent along);
  at most 500 MiB.
* ``gcs``, ``skill_registry`` and unknown types are refused with a message naming the source.

``target`` may be relative or absolute (both resolve against the sandbox root) but never the
root itself.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import files, paths
from .errors import InvalidRequest, SandboxError
from .network import NetworkPolicy

INLINE_FILE_LIMIT = 1024 * 1024
INLINE_REQUEST_LIMIT = 2 * 1024 * 1024
REPOSITORY_LIMIT = 500 * 1024 * 1024
GIT_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class InlineFile:
    """A validated inline source: where it goes and its bytes."""

    target: str
    data: bytes


@dataclass(frozen=True)
class Repository:
    """A validated repository source."""

    source: str
    target: str
    local: bool


Prepared = InlineFile | Repository


def source_dict(source: Any) -> dict[str, Any]:
    """A plain dict of a source (pydantic model or mapping) with a lower-case ``type``."""
    dump = getattr(source, "model_dump", None)
    data = dump(mode="json", exclude_none=True) if callable(dump) else source
    if not isinstance(data, Mapping):
        raise InvalidRequest("Each source must be an object with a type.")
    out = dict(data)
    if isinstance(out.get("type"), str):
        out["type"] = out["type"].lower()
    return out


def _target(data: Mapping[str, Any], kind: str) -> str:
    target = data.get("target")
    if not isinstance(target, str) or not target.strip():
        raise InvalidRequest(f"The {kind} source needs a target path.")
    try:
        rel = paths.normalize(target, percent_decoded=False)
    except SandboxError as exc:
        raise InvalidRequest(f"The {kind} source target {target!r}: {exc.message}") from exc
    if not rel:
        raise InvalidRequest(f"The {kind} source target must not be '/' (the sandbox root).")
    return rel


def _inline(data: Mapping[str, Any]) -> InlineFile:
    target = _target(data, "inline")
    content = data.get("content")
    if not isinstance(content, str):
        raise InvalidRequest(f"The inline source for {target!r} needs a string content.")
    encoding = str(data.get("encoding") or "utf-8").lower()
    if encoding == "base64":
        try:
            raw = base64.b64decode(content.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise InvalidRequest(f"The inline source for {target!r} is not valid base64.") from exc
    elif encoding in ("utf-8", "utf8", "text", "plain"):
        raw = content.encode("utf-8")
    else:
        raise InvalidRequest(f"The inline source encoding {encoding!r} is not supported.")
    if len(raw) > INLINE_FILE_LIMIT:
        raise InvalidRequest(f"The inline source for {target!r} is over 1 MiB.")
    return InlineFile(target, raw)


def _repository(data: Mapping[str, Any]) -> Repository:
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise InvalidRequest("The repository source needs a 'source' (a git URL or local path).")
    source = source.strip()
    raw_target = data.get("target")
    if raw_target is None:
        name = source.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git") or "repository"
        target = paths.normalize(name, percent_decoded=False)
    else:
        target = _target(data, "repository")
    parts = urlsplit(source)
    if parts.scheme in ("http", "https") and parts.hostname:
        return Repository(source, target, local=False)
    if parts.scheme == "file" or (not parts.scheme and source.startswith("/")):
        local = parts.path if parts.scheme == "file" else source
        if not os.path.isdir(local):
            raise InvalidRequest(f"The repository source {source!r} is not a local folder.")
        return Repository(local, target, local=True)
    raise InvalidRequest(
        f"The repository source {source!r} is not supported: use an https URL or a local path."
    )


def prepare(sources: Sequence[Any] | None) -> list[Prepared]:
    """Validate sources before any work; the prepared list is applied by ``apply``.

    Raises:
        InvalidRequest: an unsupported type, a bad target, bad content or a size limit.
    """
    prepared: list[Prepared] = []
    inline_total = 0
    for source in sources or []:
        data = source_dict(source)
        kind = data.get("type")
        if kind == "inline":
            item = _inline(data)
            inline_total += len(item.data)
            if inline_total > INLINE_REQUEST_LIMIT:
                raise InvalidRequest("Inline sources are over 2 MiB in total for one request.")
            prepared.append(item)
        elif kind == "repository":
            prepared.append(_repository(data))
        elif kind == "gcs":
            raise InvalidRequest(
                f"The gcs source {data.get('source')!r} is not available: the local engine has "
                "no Cloud Storage access. Upload the files instead."
            )
        elif kind == "skill_registry":
            raise InvalidRequest(
                f"The skill_registry source {data.get('source')!r} is not available: the local "
                "engine has no skill registry. Add the skill as inline sources under "
                ".agents/skills/<name>/SKILL.md instead."
            )
        else:
            raise InvalidRequest(f"The source type {kind!r} is not supported.")
    return prepared


def stored(sources: Sequence[Any] | None) -> list[dict[str, Any]]:
    """The sources as they are echoed in the Environment resource (lower-case types)."""
    return [source_dict(s) for s in sources or []]


def check_reachable(prepared: Sequence[Prepared], policy: NetworkPolicy) -> None:
    """``InvalidRequest`` for a remote repository the network rules would not let us clone.

    ``apply`` refuses the same at run time; checking a saved agent's sources with this when
    it is saved means a run never fails for what the save accepted.
    """
    for item in prepared:
        if isinstance(item, Repository) and not item.local:
            host = urlsplit(item.source).hostname or ""
            if policy.rule_for(host) is None:
                raise InvalidRequest(_unreachable(item, policy, host))


def _unreachable(repo: Repository, policy: NetworkPolicy, host: str) -> str:
    return (
        f"The repository {repo.source!r} cannot be cloned: {policy.describe()} "
        f"(allow {host!r} in network.allowlist)."
    )


async def apply(
    root: Path,
    prepared: Sequence[Prepared],
    policy: NetworkPolicy,
    *,
    git_timeout: float = GIT_TIMEOUT_SECONDS,
) -> None:
    """Write prepared sources into ``root`` in order (later ones may overwrite earlier ones).

    Raises:
        InvalidRequest: a repository cannot be cloned (unreachable, network not allowed,
            too big) or a target collides with a folder.
    """
    for item in prepared:
        if isinstance(item, InlineFile):
            await asyncio.to_thread(files.write_bytes, root, item.target, item.data)
        else:
            await _clone(root, item, policy, git_timeout)


def _git_env() -> dict[str, str]:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/nonexistent",
        "LANG": "C.UTF-8",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
    }


async def _clone(root: Path, repo: Repository, policy: NetworkPolicy, limit_s: float) -> None:
    git = shutil.which("git")
    if git is None:
        raise InvalidRequest("The repository source needs git, which is not installed.")
    args = [git, "-c", "protocol.allow=never", "-c", "core.hooksPath=/dev/null"]
    if repo.local:
        args += ["-c", "protocol.file.allow=always"]
    else:
        host = urlsplit(repo.source).hostname or ""
        rule = policy.rule_for(host)
        if rule is None:
            raise InvalidRequest(_unreachable(repo, policy, host))
        args += ["-c", "protocol.https.allow=always", "-c", "protocol.http.allow=always"]
        for name, value in rule.headers:
            args += ["-c", f"http.extraHeader={name}: {value}"]
    dest = paths.resolve(root, repo.target)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise InvalidRequest(f"The repository target {repo.target!r} already exists.")
    files.make_dirs(root, repo.target)
    args += ["clone", "--quiet", "--no-hardlinks"]
    if not repo.local:
        args += ["--depth", "1"]
    args += ["--", repo.source, str(dest)]
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=_git_env(),
        start_new_session=True,
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), limit_s)
    except TimeoutError as exc:
        proc.kill()
        await proc.wait()
        raise InvalidRequest(f"Cloning {repo.source!r} took longer than {limit_s:.0f} s.") from exc
    if proc.returncode != 0:
        message = err.decode("utf-8", "replace").strip().splitlines()
        detail = message[-1] if message else f"git exited with {proc.returncode}"
        raise InvalidRequest(f"The repository {repo.source!r} could not be cloned: {detail}")
    _, size = await asyncio.to_thread(files.tree_stats, dest)
    if size > REPOSITORY_LIMIT:
        await asyncio.to_thread(shutil.rmtree, dest, True)
        raise InvalidRequest(f"The repository {repo.source!r} is over 500 MiB.")
