"""Hashing, atomic joining and "verified" markers for large model files made of parts.

Split out of ``model_files`` because two kinds of model share it: the packaged GGUF models
(``packaged_models``) and the speech model of ``perception/whisper_files``. A marker file
next to a model (``<file>.verified``) remembers the verified sha256 with the file's size and
mtime, so later starts skip re-hashing hundreds of megabytes; a file whose size or mtime
changed since is not trusted until it is hashed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from workbench.engine.atomic import write_atomic

_READ_SIZE = 4 * 1024 * 1024

_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def file_lock(path: Path) -> threading.Lock:
    """The process-wide lock that serializes assembling the file at ``path``."""
    key = path.resolve()
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def marker_path(target: Path) -> Path:
    """Where the verified marker of ``target`` lives."""
    return target.with_name(target.name + ".verified")


def is_verified(target: Path, expected_sha256: str) -> bool:
    """True when ``target``'s marker records ``expected_sha256`` for the file as it is now."""
    try:
        marker = json.loads(marker_path(target).read_text(encoding="utf-8"))
        st = target.stat()
    except (OSError, ValueError):
        return False
    return (
        isinstance(marker, dict)
        and marker.get("sha256") == expected_sha256
        and marker.get("size") == st.st_size
        and marker.get("mtime_ns") == st.st_mtime_ns
    )


def mark_verified(target: Path, sha256: str) -> None:
    """Record that ``target`` (as it is now on disk) has the verified hash ``sha256``."""
    st = target.stat()
    body = json.dumps({"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    write_atomic(marker_path(target), body)


def sha256_file(path: Path, progress: Callable[[int], None] | None = None) -> str:
    """Hex sha256 of a file, read in large blocks; ``progress`` is told the bytes read."""
    digest = hashlib.sha256()
    buf = bytearray(_READ_SIZE)
    view = memoryview(buf)
    done = 0
    with path.open("rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            digest.update(view[:n])
            done += n
            if progress is not None:
                progress(done)
    return digest.hexdigest()


def join_chunks(
    chunks: Sequence[Path],
    target: Path,
    expected_sha256: str,
    progress: Callable[[int], None] | None = None,
) -> str:
    """Join ``chunks`` into ``target`` atomically, hashing on the way; returns the sha256.

    The bytes go to a temp file beside ``target``, which replaces ``target`` only if the hash
    matches ``expected_sha256``; otherwise the temp file is removed and the actual hash is
    returned (the caller reports the mismatch). ``progress`` is told the bytes joined so far.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    buf = bytearray(_READ_SIZE)
    view = memoryview(buf)
    done = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                with chunk.open("rb", buffering=0) as fh:
                    while n := fh.readinto(buf):
                        digest.update(view[:n])
                        out.write(view[:n])
                        done += n
                        if progress is not None:
                            progress(done)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != expected_sha256:
            tmp.unlink()
            return actual
        os.replace(tmp, target)
        return actual
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
