"""The engine's one atomic write: a temporary file beside the target, then a rename.

A crash leaves either the old file or the new one, never half of either. The engine cannot
import ``workbench.core`` (layer contract), so it keeps this helper of its own; the app's is
:func:`workbench.core.atomic.write_atomic`. The temporary file is created with mode 0600
(``mkstemp``); pass ``mode`` for another.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_atomic(
    path: Path, data: str | bytes, *, durable: bool = True, mode: int | None = None
) -> None:
    """Replace ``path`` with ``data``; ``durable`` fsyncs first (caches may skip it)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_json_atomic(path: Path, value: Any, *, durable: bool = True, **dump: Any) -> None:
    """:func:`write_atomic` of ``json.dumps(value, **dump)``."""
    write_atomic(path, json.dumps(value, **dump), durable=durable)
