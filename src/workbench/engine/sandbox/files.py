"""Files inside one environment root: list, stat, read, write, delete (protocol.md §9.6).

Every function takes the environment's workspace ``root`` and a *wire path* (see
``paths.py``) and never touches anything outside the root. They are blocking; async callers
run them with ``asyncio.to_thread`` (the store and the agent tools do).
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

from workbench.protocol import EnvironmentFile

from . import paths
from ._util import rfc3339
from .errors import Conflict, InvalidRequest, NotFound, SandboxPathError

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

_EXTRA_TYPES = {
    ".py": "text/x-python",
    ".md": "text/markdown",
    ".ipynb": "application/x-ipynb+json",
    ".toml": "application/toml",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".ts": "text/x-typescript",
    ".rs": "text/x-rust",
    ".go": "text/x-go",
}


def mime_type(name: str) -> str | None:
    """The MIME type guessed from a file name, or None when unknown."""
    ext = os.path.splitext(name)[1].lower()
    if ext in _EXTRA_TYPES:
        return _EXTRA_TYPES[ext]
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed


def _entry(root: Path, rel: str, info: os.stat_result) -> EnvironmentFile:
    is_dir = stat.S_ISDIR(info.st_mode)
    name = rel.rsplit("/", 1)[-1] if rel else ""
    entry = EnvironmentFile(
        name=name,
        path=rel,
        type="directory" if is_dir else "file",
        created=rfc3339(min(info.st_ctime, info.st_mtime)),
        modified=rfc3339(info.st_mtime),
    )
    if not is_dir:
        entry.size_bytes = info.st_size
        kind = mime_type(name)
        if kind:
            entry.mime_type = kind
    return entry


def _visible_stat(root_real: str, host_path: str) -> os.stat_result | None:
    """The stat of an entry as the sandbox shows it: symlinks are followed only when their
    target lies inside the root; links leading out, dangling links, sockets, FIFOs and devices
    are hidden (None)."""
    try:
        info = os.lstat(host_path)
        if stat.S_ISLNK(info.st_mode):
            real = os.path.realpath(host_path)
            if not paths.is_inside(root_real, real):
                return None
            info = os.stat(real)
    except OSError:
        return None
    if stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode):
        return info
    return None


def stat_path(root: Path, wire_path: str | None) -> EnvironmentFile:
    """The entry for one file or directory (404 when missing)."""
    real = paths.resolve_existing(root, wire_path)
    info = _visible_stat(os.path.realpath(root), str(real))
    if info is None:
        raise NotFound("No file or directory at that path.")
    return _entry(root, paths.normalize(wire_path), info)


def iter_entries(
    root: Path, wire_path: str | None, *, recursive: bool
) -> Iterator[EnvironmentFile]:
    """Entries below a directory in a stable order (sorted by path, depth first).

    Symlinked directories are listed but not descended into, so link cycles cannot loop.
    """
    root_real = os.path.realpath(root)
    base_rel = paths.normalize(wire_path)
    real = paths.resolve_existing(root, wire_path)
    if not real.is_dir():
        raise InvalidRequest("The path is a file, not a folder.")

    def walk(host_dir: str, rel_dir: str) -> Iterator[EnvironmentFile]:
        try:
            with os.scandir(host_dir) as it:
                names = sorted(e.name for e in it)
        except OSError:
            return
        for name in names:
            host = os.path.join(host_dir, name)
            info = _visible_stat(root_real, host)
            if info is None:
                continue
            rel = f"{rel_dir}/{name}" if rel_dir else name
            yield _entry(root, rel, info)
            if recursive and stat.S_ISDIR(info.st_mode) and not os.path.islink(host):
                yield from walk(host, rel)

    yield from walk(str(real), base_rel)


def encode_page_token(last_path: str) -> str:
    """An opaque token meaning "after this path"."""
    return base64.urlsafe_b64encode(("p:" + last_path).encode()).decode().rstrip("=")


def decode_page_token(token: str) -> str:
    """The path a page token points after; 400 when the token is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest("page_token is not valid.") from exc
    if not raw.startswith("p:"):
        raise InvalidRequest("page_token is not valid.")
    return raw[2:]


def page_size_of(
    value: int | None, default: int = DEFAULT_PAGE_SIZE, cap: int = MAX_PAGE_SIZE
) -> int:
    """Validated page size: default when None or 0, capped at ``cap``, 400 when negative."""
    if value is None or value == 0:
        return default
    if value < 0:
        raise InvalidRequest("page_size must not be negative.")
    return min(value, cap)


def list_files(
    root: Path,
    wire_path: str | None,
    *,
    recursive: bool = False,
    page_size: int | None = None,
    page_token: str | None = None,
) -> tuple[list[EnvironmentFile], str | None]:
    """One page of a listing (§9.6): a directory's entries, or a one-element list for a file.

    Returns:
        The entries and the token of the next page (None on the last page).
    """
    real = paths.resolve_existing(root, wire_path)
    if not real.is_dir():
        return [stat_path(root, wire_path)], None
    size = page_size_of(page_size)
    after = decode_page_token(page_token) if page_token else None
    page: list[EnvironmentFile] = []
    more = False
    for entry in iter_entries(root, wire_path, recursive=recursive):
        if after is not None and _sort_key(entry.path or "") <= _sort_key(after):
            continue
        if len(page) == size:
            more = True
            break
        page.append(entry)
    token = encode_page_token(page[-1].path or "") if more and page else None
    return page, token


def _sort_key(rel: str) -> tuple[str, ...]:
    # The walk order: siblings sorted by name, a directory's children right after it.
    return tuple(rel.split("/"))


def read_bytes(root: Path, wire_path: str | None, *, limit: int | None = None) -> bytes:
    """The content of a file (at most ``limit`` bytes when given).

    Raises:
        InvalidRequest: the path is a directory (or not a regular file).
        NotFound: nothing is there.
    """
    real = paths.resolve_existing(root, wire_path)
    if real.is_dir():
        raise InvalidRequest("The path is a folder; only files can be downloaded.")
    fd = paths.open_file(root, real, os.O_RDONLY)
    with os.fdopen(fd, "rb") as fh:
        return fh.read() if limit is None else fh.read(limit)


def open_download(root: Path, wire_path: str | None) -> tuple[int, int, str]:
    """Open a file for streaming: (raw descriptor, size in bytes, MIME type).

    The caller reads and closes the descriptor; MIME falls back to application/octet-stream.
    """
    real = paths.resolve_existing(root, wire_path)
    if real.is_dir():
        raise InvalidRequest("The path is a folder; only files can be downloaded.")
    fd = paths.open_file(root, real, os.O_RDONLY)
    size = os.fstat(fd).st_size
    return fd, size, mime_type(real.name) or "application/octet-stream"


def make_dirs(root: Path, wire_path: str | None) -> Path:
    """Create a directory (and its parents) inside the root; returns its real path."""
    rel = paths.normalize(wire_path)
    real = paths.resolve(root, rel)
    if real.exists() and not real.is_dir():
        raise InvalidRequest(f"{rel!r} exists and is not a folder.")
    real.mkdir(parents=True, exist_ok=True)
    # A racing symlink swap could have redirected mkdir; check the result again.
    return paths.resolve(root, rel)


def write_bytes(
    root: Path, wire_path: str | None, data: bytes, *, overwrite: bool = True
) -> EnvironmentFile:
    """Write a file, creating parent folders; returns its entry.

    Raises:
        SandboxPathError: the path is the root, or leads outside.
        Conflict: the file exists and ``overwrite`` is false.
        InvalidRequest: a folder is in the way.
    """
    rel = paths.normalize(wire_path)
    if not rel:
        raise SandboxPathError("A file cannot be written at the root itself.")
    real = paths.resolve(root, rel)
    if real.is_dir():
        raise InvalidRequest(f"{rel!r} is a folder.")
    if os.path.lexists(real) and not overwrite:
        raise Conflict(f"{rel!r} already exists (set overwrite to replace it).")
    parent_rel = rel.rsplit("/", 1)[0] if "/" in rel else ""
    make_dirs(root, parent_rel)
    real = paths.resolve(root, rel)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (0 if overwrite else os.O_EXCL)
    try:
        fd = paths.open_file(root, real, flags)
    except SandboxPathError as exc:
        if not overwrite and os.path.lexists(real):
            raise Conflict(f"{rel!r} already exists (set overwrite to replace it).") from exc
        raise
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return stat_path(root, rel)


def place_file(
    root: Path, wire_path: str | None, source: Path, *, overwrite: bool
) -> EnvironmentFile:
    """Move a finished temporary file into place (same file system), like ``write_bytes``."""
    rel = paths.normalize(wire_path)
    if not rel:
        raise SandboxPathError("A file cannot be written at the root itself.")
    real = paths.resolve(root, rel)
    if real.is_dir():
        raise InvalidRequest(f"{rel!r} is a folder.")
    if os.path.lexists(real) and not overwrite:
        raise Conflict(f"{rel!r} already exists (set overwrite to replace it).")
    parent_rel = rel.rsplit("/", 1)[0] if "/" in rel else ""
    parent = make_dirs(root, parent_rel)
    with paths.open_dir(root, parent) as dir_fd:
        if not overwrite:
            try:
                os.link(source, real.name, dst_dir_fd=dir_fd)
            except FileExistsError as exc:
                raise Conflict(f"{rel!r} already exists (set overwrite to replace it).") from exc
            os.unlink(source)
        else:
            os.replace(source, real.name, dst_dir_fd=dir_fd)
    return stat_path(root, rel)


def delete_path(root: Path, wire_path: str | None, *, recursive: bool = False) -> None:
    """Delete a file, a symlink (never its target) or, with ``recursive``, a folder.

    Raises:
        SandboxPathError: the path is the root, or leads outside.
        InvalidRequest: a non-empty folder without ``recursive``.
        NotFound: nothing is there.
    """
    rel = paths.normalize(wire_path)
    if not rel:
        raise SandboxPathError("The environment root cannot be deleted.")
    parent_rel, _, name = rel.rpartition("/")
    parent = paths.resolve(root, parent_rel)
    host = parent / name
    if not os.path.lexists(host):
        raise NotFound(f"No file or directory at {rel!r}.")
    with paths.open_dir(root, parent) as dir_fd:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if stat.S_ISDIR(info.st_mode):
            if recursive:
                shutil.rmtree(name, dir_fd=dir_fd)
            else:
                try:
                    os.rmdir(name, dir_fd=dir_fd)
                except OSError as exc:
                    raise InvalidRequest(f"{rel!r} is a folder that is not empty.") from exc
        else:
            os.unlink(name, dir_fd=dir_fd)


def tree_stats(root: Path) -> tuple[int, int]:
    """(number of regular files, their total size) below the root; links are not followed."""
    count = 0
    total = 0
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            try:
                info = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                count += 1
                total += info.st_size
    return count, total
