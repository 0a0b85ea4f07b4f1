"""Small helpers shared by the sandbox modules: timestamps, atomic writes, ids."""

from __future__ import annotations

import json
import os
import secrets
import string
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_ID_ALPHABET = string.ascii_lowercase + string.digits


def rfc3339(stamp: float | None = None) -> str:
    """An RFC 3339 UTC timestamp (microseconds, ``Z``) for ``stamp`` or now."""
    moment = datetime.now(UTC) if stamp is None else datetime.fromtimestamp(stamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id(prefix: str, length: int = 16) -> str:
    """A random identifier such as ``env_k3j9…`` (lower-case letters and digits)."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def atomic_write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` via a temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, separators=(",", ":"))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
