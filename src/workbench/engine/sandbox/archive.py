"""Tar archives: the whole-sandbox download (protocol.md §9.8) and safe extraction of an
uploaded ``.tar`` / ``.tar.gz`` (§9.7, ``extract=true``).

Export writes POSIX ustar headers with names relative to the root (``workspace/src/main.py``,
``.agents/AGENTS.md``), directories included, symlinks stored as links (never followed).
Only an entry that ustar cannot represent (a name over 100+155 bytes, a non-ASCII name, a file
over 8 GiB) gets a pax extended header in front of its ustar header; ordinary trees produce a
plain ustar archive. Files are read in chunks, so big trees never sit in memory.

Extraction refuses the whole archive, before writing anything, when any member has an absolute
name, a ``..`` segment, a link pointing outside, or is a device or FIFO; it then extracts with
Python's ``data`` filter as a second line of defence.
"""

from __future__ import annotations

import asyncio
import os
import stat
import tarfile
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO, Any

from workbench.protocol import EnvironmentFile

from . import files, paths
from .errors import Conflict, InvalidRequest, NotFound, SandboxError

MAX_EXTRACT_BYTES = 2 * 1024**3
MAX_EXTRACT_MEMBERS = 100_000
CHUNK = 64 * 1024


# --- export --------------------------------------------------------------------------------


def _add(tar: tarfile.TarFile, root: Path, host: str, rel: str) -> None:
    info = os.lstat(host)
    ti = tarfile.TarInfo(rel)
    ti.mtime = int(info.st_mtime)
    ti.mode = stat.S_IMODE(info.st_mode) & 0o755 | (
        0o600 if not stat.S_ISDIR(info.st_mode) else 0o700
    )
    ti.uname = ti.gname = ""
    if stat.S_ISDIR(info.st_mode):
        ti.type = tarfile.DIRTYPE
        tar.addfile(ti)
    elif stat.S_ISLNK(info.st_mode):
        ti.type = tarfile.SYMTYPE
        ti.linkname = os.readlink(host)
        tar.addfile(ti)
    elif stat.S_ISREG(info.st_mode):
        fd = paths.open_file(root, Path(host), os.O_RDONLY)
        with os.fdopen(fd, "rb") as fh:
            ti.size = os.fstat(fh.fileno()).st_size
            tar.addfile(ti, fh)
    # sockets, FIFOs and devices are left out


def write_tar(root: Path, out: IO[bytes]) -> None:
    """Write the whole workspace tree under ``root`` as a tar stream to ``out``."""
    root_real = os.path.realpath(root)
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, names in os.walk(root_real):
            dirnames.sort()
            rel_dir = paths.relative(Path(root_real), dirpath)
            for name in sorted([*dirnames, *names]):
                host = os.path.join(dirpath, name)
                rel = f"{rel_dir}/{name}" if rel_dir else name
                try:
                    _add(tar, root, host, rel)
                except (OSError, SandboxError):
                    continue  # vanished or replaced while we walked: leave it out


class _Stopped(Exception):
    pass


class _ChunkWriter:
    """A write-only file object that hands fixed-size chunks to ``emit``."""

    def __init__(self, emit: Callable[[bytes], None]) -> None:
        self._emit = emit
        self._buf = bytearray()

    def write(self, data: bytes) -> int:
        self._buf += data
        while len(self._buf) >= CHUNK:
            self._emit(bytes(self._buf[:CHUNK]))
            del self._buf[:CHUNK]
        return len(data)

    def flush(self) -> None:
        if self._buf:
            self._emit(bytes(self._buf))
            self._buf.clear()


async def tar_stream(root: Path, *, queue_chunks: int = 16) -> AsyncIterator[bytes]:
    """The workspace as an async stream of tar chunks (at most ``queue_chunks`` buffered).

    The archive is produced in a worker thread; closing the iterator early stops it.
    """
    loop = asyncio.get_running_loop()
    out: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
    slots = threading.Semaphore(queue_chunks)
    stop = threading.Event()

    def emit(item: bytes | BaseException | None) -> None:
        while not slots.acquire(timeout=0.1):
            if stop.is_set():
                raise _Stopped
        if stop.is_set():
            raise _Stopped
        loop.call_soon_threadsafe(out.put_nowait, item)

    def produce() -> None:
        try:
            writer = _ChunkWriter(emit)
            write_tar(root, writer)  # type: ignore[arg-type]
            writer.flush()
            emit(None)
        except _Stopped:
            return
        except RuntimeError:
            return  # the event loop closed under us
        except BaseException as exc:
            try:
                emit(exc)
            except (_Stopped, RuntimeError):
                return

    thread = threading.Thread(target=produce, name="tar-export", daemon=True)
    thread.start()
    try:
        while True:
            item = await out.get()
            slots.release()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        await asyncio.to_thread(thread.join, 10)


# --- extraction ------------------------------------------------------------------------------


def _check_member(member: tarfile.TarInfo) -> str:
    """The member's normalized relative name; raises InvalidRequest for anything unsafe."""
    name = member.name
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise InvalidRequest(f"The archive entry {name!r} has an absolute name.")
    try:
        rel = paths.normalize(name, percent_decoded=False)
    except SandboxError as exc:
        raise InvalidRequest(f"The archive entry {name!r} is not allowed: {exc.message}") from exc
    if member.ischr() or member.isblk() or member.isfifo() or member.isdev():
        raise InvalidRequest(f"The archive entry {name!r} is a device or FIFO.")
    if member.issym():
        link = member.linkname
        if link.startswith("/"):
            raise InvalidRequest(f"The archive link {name!r} points to an absolute path.")
        target = os.path.normpath(os.path.join(os.path.dirname(rel), link))
        if target == ".." or target.startswith("../") or "\x00" in link:
            raise InvalidRequest(f"The archive link {name!r} points outside the folder.")
    elif member.islnk():
        try:
            paths.normalize(member.linkname, percent_decoded=False)
        except SandboxError as exc:
            raise InvalidRequest(f"The archive hard link {name!r} points outside.") from exc
        if member.linkname.startswith("/"):
            raise InvalidRequest(f"The archive hard link {name!r} points to an absolute path.")
    elif not (member.isreg() or member.isdir()):
        raise InvalidRequest(f"The archive entry {name!r} has an unsupported type.")
    return rel


def extract_archive(
    root: Path, archive: Path, dest_wire: str | None, *, overwrite: bool
) -> list[EnvironmentFile]:
    """Unpack a tar or tar.gz into the folder ``dest_wire``; returns the extracted entries.

    Raises:
        InvalidRequest: not a tar archive, an unsafe member, or too big.
        Conflict: a member would replace an existing file and ``overwrite`` is false.
    """
    dest_rel = paths.normalize(dest_wire)
    dest_real = paths.resolve(root, dest_rel)
    if dest_real.exists() and not dest_real.is_dir():
        raise InvalidRequest(f"{dest_rel!r} is a file; extract needs a folder path.")
    try:
        tar = tarfile.open(archive, mode="r:*")  # noqa: SIM115 (closed by the with below)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InvalidRequest("The upload is not a tar or tar.gz archive.") from exc
    with tar:
        try:
            members = tar.getmembers()
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise InvalidRequest("The archive is damaged.") from exc
        if len(members) > MAX_EXTRACT_MEMBERS:
            raise InvalidRequest(f"The archive has more than {MAX_EXTRACT_MEMBERS} entries.")
        total = 0
        names: list[str] = []
        for member in members:
            rel = _check_member(member)
            total += max(member.size, 0) if member.isreg() else 0
            if total > MAX_EXTRACT_BYTES:
                raise InvalidRequest("The archive unpacks to more than 2 GiB.")
            full = f"{dest_rel}/{rel}" if dest_rel and rel else dest_rel or rel
            if not rel:
                continue
            target = paths.resolve(root, full)
            if (
                not overwrite
                and os.path.lexists(target)
                and not (member.isdir() and target.is_dir())
            ):
                raise Conflict(f"{full!r} already exists (set overwrite to replace it).")
            if full not in names:
                names.append(full)
        dest = files.make_dirs(root, dest_rel)
        try:
            tar.extractall(dest, filter=_filter(overwrite))
        except (tarfile.FilterError, tarfile.TarError) as exc:
            raise InvalidRequest(f"The archive cannot be extracted safely: {exc}") from exc
    entries: list[EnvironmentFile] = []
    for full in names:
        try:
            entries.append(files.stat_path(root, full))
        except (NotFound, SandboxError):
            continue
    return entries


def _filter(overwrite: bool) -> Callable[[tarfile.TarInfo, str], tarfile.TarInfo | None]:
    def keep(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
        checked: Any = tarfile.data_filter(member, dest)
        if overwrite and not member.isdir():
            target = os.path.join(dest, member.name)
            if os.path.islink(target):
                os.unlink(target)  # replace a link itself, never write through it
        return checked  # type: ignore[no-any-return]

    return keep
