"""One environment's metadata, and the checks of what a request may put into it.

Split from ``store.py`` so the record format, id syntax, ``env`` rules and page tokens can be
read and used (saved agents check ``env`` with ``check_env_vars``) without the disk and lock
machinery of ``EnvironmentStore``. Nothing here touches the file system.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidRequest

META = "environment.json"
"""The metadata file inside an environment's folder."""


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


def plain(value: Any) -> Any:
    """A parsed protocol model as its JSON data (``None`` fields left out); others as given."""
    dump = getattr(value, "model_dump", None)
    return dump(mode="json", exclude_none=True) if callable(dump) else value


def check_env_vars(env: Any) -> dict[str, Any] | None:
    """``env`` as ``NAME: value`` strings or ``NAME: {"credential": id}`` references.

    Values are strings, the object form ``{"value": …}``, or ``{"credential": id}``: the
    reference is kept as it is (never the secret) and resolved from the keyring when code
    runs (``ops/credentials.py``). ``InvalidRequest`` for what a run would refuse. Saved
    agents are checked with this when they are saved.
    """
    env = plain(env)
    if env is None:
        return None
    if not isinstance(env, dict):
        raise InvalidRequest("env must be an object of NAME: value.")
    out: dict[str, Any] = {}
    for name, value in env.items():
        if not isinstance(name, str) or not name or "=" in name or "\x00" in name:
            raise InvalidRequest(f"env has an invalid variable name {name!r}.")
        value = plain(value)  # the object form {"value": …} arrives as a parsed EnvVar
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


def encode_page_token(record: EnvironmentRecord) -> str:
    """The token of the page after ``record`` (the list is ordered by created, then id)."""
    raw = json.dumps([record.created, record.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str) -> tuple[str, str]:
    """``(created, id)`` of the last record of the previous page (400 when malformed)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        created, env_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidRequest("page_token is not valid.") from exc
    if not isinstance(created, str) or not isinstance(env_id, str):
        raise InvalidRequest("page_token is not valid.")
    return created, env_id
