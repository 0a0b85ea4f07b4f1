"""What the history hands out: sessions, interactions and attachments as frozen records.

Plain data with no database behind it. :class:`.history.HistoryStore` builds them from its
rows (the functions at the end) and :mod:`.history` re-exports them with the store, whose
API they are part of; this module holds only their shape.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SessionInfo:
    """One row of the sessions list."""

    id: str
    title: str
    created: float
    updated: float
    pinned: bool
    profile: str
    leaf_id: str | None


@dataclass(frozen=True)
class AttachmentInfo:
    """What was attached to a turn (the bytes themselves live in the request, not here)."""

    name: str
    mime_type: str
    size: int
    sha256: str
    sent_as: str


@dataclass(frozen=True)
class InteractionRecord:
    """One interaction as stored: what was sent and the last snapshot received."""

    id: str
    session_id: str
    parent_id: str | None
    seq: int
    created: float
    status: str
    target: str
    input: list[Any]
    request: dict[str, Any]
    data: dict[str, Any]
    metrics: dict[str, Any]
    attachments: list[AttachmentInfo] = field(default_factory=list)


def session_info(row: sqlite3.Row) -> SessionInfo:
    return SessionInfo(
        id=row["id"],
        title=row["title"],
        created=row["created"],
        updated=row["updated"],
        pinned=bool(row["pinned"]),
        profile=row["profile"],
        leaf_id=row["leaf_id"],
    )


def attachment_info(row: sqlite3.Row) -> AttachmentInfo:
    return AttachmentInfo(row["name"], row["mime_type"], row["size"], row["sha256"], row["sent_as"])


def interaction_record(row: sqlite3.Row, attachments: list[AttachmentInfo]) -> InteractionRecord:
    return InteractionRecord(
        id=row["id"],
        session_id=row["session_id"],
        parent_id=row["parent_id"],
        seq=row["seq"],
        created=row["created"],
        status=row["status"],
        target=row["target"],
        input=json.loads(row["input"]),
        request=json.loads(row["request"]),
        data=json.loads(row["data"]),
        metrics=json.loads(row["metrics"]),
        attachments=attachments,
    )
