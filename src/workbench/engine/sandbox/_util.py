"""Small helpers shared by the sandbox modules: timestamps, atomic writes, ids."""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..atomic import write_json_atomic

_ID_ALPHABET = string.ascii_lowercase + string.digits


def rfc3339(stamp: float | None = None) -> str:
    """An RFC 3339 UTC timestamp (microseconds, ``Z``) for ``stamp`` or now."""
    moment = datetime.now(UTC) if stamp is None else datetime.fromtimestamp(stamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id(prefix: str, length: int = 16) -> str:
    """A random identifier such as ``env_k3j9…`` (lower-case letters and digits)."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def atomic_write_json(path: Path, data: Any) -> None:
    """Write ``data`` as compact JSON to ``path`` atomically (:mod:`workbench.engine.atomic`)."""
    write_json_atomic(path, data, ensure_ascii=False, separators=(",", ":"))
