"""The sandbox path model (protocol.md §9.4, §9.6, §13 Q10).

A *wire path* names a file inside an environment: ``workspace/src/main.py``,
``/workspace/src/main.py`` and ``./workspace//src/main.py`` are the same file; ``""``, ``.``
and ``/`` are the root. Absolute paths are read against the sandbox root, never the host's.

Rules enforced here:

* a ``..`` segment is refused outright (even when it would stay inside: it is never needed);
* NUL bytes, over-long names and over-long paths are refused;
* after resolving symlinks the real path must still lie inside the root, so a symlink that
  leads out (``ln -s /etc x``) is refused wherever it sits in the path;
* opening goes through a directory descriptor that is checked again after it was opened and
  the last component is opened with ``O_NOFOLLOW``, so swapping a directory for a symlink
  between the check and the open cannot redirect the operation outside.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

from .errors import NotFound, SandboxPathError

MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096


def normalize(wire_path: str | None, *, percent_decoded: bool = True) -> str:
    """The canonical relative form of a wire path: ``""`` for the root, no leading slash.

    Args:
        wire_path: the path as received (relative or absolute; ``None`` is the root).
        percent_decoded: decode ``%2F``-style escapes first (the files API route does).

    Raises:
        SandboxPathError: the path holds a ``..`` segment, a NUL byte or is too long.
    """
    text = wire_path or ""
    if percent_decoded and "%" in text:
        try:
            text = unquote(text, errors="strict")
        except UnicodeDecodeError as exc:
            raise SandboxPathError("The path has an invalid percent escape.") from exc
    if "\x00" in text:
        raise SandboxPathError("The path contains a NUL character.")
    if len(text.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
        raise SandboxPathError("The path is too long.")
    parts: list[str] = []
    for segment in text.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            raise SandboxPathError(f"The path {wire_path!r} must not contain '..' segments.")
        if len(segment.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
            raise SandboxPathError("A name in the path is too long.")
        parts.append(segment)
    return "/".join(parts)


def is_inside(root: str, real: str) -> bool:
    """True when the real path ``real`` is ``root`` or lies below it (both already real)."""
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def resolve(root: Path, wire_path: str | None, *, percent_decoded: bool = True) -> Path:
    """The real host path a wire path names, proven to lie inside ``root``.

    The path need not exist (a write may create it); every symlink along it is followed and
    the result is checked against the real root.

    Raises:
        SandboxPathError: malformed, or it leads outside the environment.
    """
    rel = normalize(wire_path, percent_decoded=percent_decoded)
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, rel)) if rel else real_root
    if not is_inside(real_root, real):
        raise SandboxPathError(f"The path {wire_path!r} leads outside the environment.")
    return Path(real)


def resolve_existing(root: Path, wire_path: str | None, *, percent_decoded: bool = True) -> Path:
    """Like ``resolve`` but the path must exist (404 otherwise)."""
    real = resolve(root, wire_path, percent_decoded=percent_decoded)
    if not os.path.lexists(real):
        raise NotFound(f"No file or directory at {normalize(wire_path, percent_decoded=False)!r}.")
    return real


def relative(root: Path, path: Path | str) -> str:
    """The wire form (relative, no leading slash) of a host path below ``root``."""
    rel = os.path.relpath(path, os.path.realpath(root))
    return "" if rel == "." else rel.replace(os.sep, "/")


def _fd_path(fd: int) -> str | None:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None


@contextlib.contextmanager
def open_dir(root: Path, real_dir: Path) -> Iterator[int]:
    """A descriptor of the directory ``real_dir``, checked to lie inside ``root`` once open."""
    real_root = os.path.realpath(root)
    try:
        fd = os.open(real_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise NotFound("The folder does not exist.") from exc
    except NotADirectoryError as exc:
        raise SandboxPathError("A parent of the path is not a folder.") from exc
    try:
        opened = _fd_path(fd)
        if opened is not None and not is_inside(real_root, opened):
            raise SandboxPathError("The path leads outside the environment.")
        yield fd
    finally:
        os.close(fd)


def open_file(root: Path, real: Path, flags: int, mode: int = 0o644) -> int:
    """Open the file ``real`` (a result of ``resolve``) without following a final symlink.

    The parent directory is opened and checked first, then the name is opened relative to it
    with ``O_NOFOLLOW``; reads refuse anything but regular files (no FIFOs or devices).
    Returns a raw descriptor that the caller closes.

    Raises:
        SandboxPathError: the file is a symlink, a device or leads outside.
        NotFound: it does not exist (and ``O_CREAT`` was not given).
    """
    with open_dir(root, real.parent) as dir_fd:
        try:
            fd = os.open(
                real.name,
                flags | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK,
                mode,
                dir_fd=dir_fd,
            )
        except FileNotFoundError as exc:
            raise NotFound("No such file.") from exc
        except IsADirectoryError as exc:
            raise SandboxPathError("The path is a folder, not a file.") from exc
        except OSError as exc:
            raise SandboxPathError(f"The file cannot be opened ({exc.strerror}).") from exc
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise SandboxPathError("The path is not a regular file.")
    os.set_blocking(fd, True)
    return fd
