"""The Files API resource as stored, and its wire form (the classic, camelCase ``File``).

The wire form follows what Gemini answers and the official SDK parses (``google.genai.types
.File``): ``name`` (``files/ID``), ``displayName``, ``mimeType``, ``sizeBytes`` (an int64, so
a JSON string), ``createTime`` / ``updateTime`` / ``expirationTime`` (RFC 3339, UTC),
``sha256Hash`` (base64, as Gemini sends it: of the hex digest), ``uri``, ``downloadUri``,
``state`` (``PROCESSING`` → ``ACTIVE`` or ``FAILED``), ``source`` (``UPLOADED``),
``videoMetadata.videoDuration`` for videos and, when failed, ``error`` (a
``google.rpc.Status``: ``code``, ``message``).
"""

from __future__ import annotations

import base64
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

FILE_ID = re.compile(r"^[a-z0-9-]{1,40}$")
"""What Gemini allows in a file id (the part after ``files/``)."""

PROCESSING = "PROCESSING"
ACTIVE = "ACTIVE"
FAILED = "FAILED"


def rfc3339(stamp: float) -> str:
    """An epoch time as ``2025-01-31T12:00:00.123456Z``."""
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class FileRecord:
    """One uploaded file.

    Attributes:
        id: the id after ``files/``.
        display_name: the name people gave it (may be empty).
        mime_type: the declared MIME type.
        size_bytes: its size.
        sha256: hex digest of its bytes.
        created, updated, expires: epoch seconds.
        state: ``PROCESSING``, ``ACTIVE`` or ``FAILED``.
        error: why it failed (``FAILED`` only).
        video_seconds: a video's duration, once processing probed it.
    """

    id: str
    display_name: str
    mime_type: str
    size_bytes: int
    sha256: str
    created: float
    updated: float
    expires: float
    state: str = PROCESSING
    error: str | None = None
    video_seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The stored form (snake_case, as this dataclass)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileRecord:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def to_wire(self, base_url: str, version: str = "v1beta") -> dict[str, Any]:
        """The ``File`` resource as the API answers it, with URIs under ``base_url``."""
        digest = base64.b64encode(self.sha256.encode("ascii")).decode("ascii")
        wire: dict[str, Any] = {
            "name": f"files/{self.id}",
            "mimeType": self.mime_type,
            "sizeBytes": str(self.size_bytes),
            "createTime": rfc3339(self.created),
            "updateTime": rfc3339(self.updated),
            "expirationTime": rfc3339(self.expires),
            "sha256Hash": digest,
            "uri": f"{base_url}/{version}/files/{self.id}",
            "downloadUri": f"{base_url}/{version}/files/{self.id}:download?alt=media",
            "state": self.state,
            "source": "UPLOADED",
        }
        if self.display_name:
            wire["displayName"] = self.display_name
        if self.video_seconds is not None:
            wire["videoMetadata"] = {"videoDuration": f"{self.video_seconds:.3f}s"}
        if self.state == FAILED:
            wire["error"] = {"code": 400, "message": self.error or "the file could not be read"}
        return wire
