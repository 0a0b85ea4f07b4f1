"""Attachments marked ``upload`` go through the Files API, then by ``uri``.

Gemini (and the engine) cap an inline request, and base64 makes every byte cost four thirds;
an attachment over ``UPLOAD_THRESHOLD`` (or one that would make the turn's inline part too
big, ``attachments.place``) is uploaded with the resumable Files API instead (progress
reported, resumed after a dropped connection, cancelled by cancelling the task; a big file is
streamed from disk) and the content block names the file's ``uri``. A file the server could
not process is refused with the server's reason before anything is sent. Qt-free: the
composer's feed awaits ``content_for`` and draws the progress.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workbench.client import Client

from .attachments import UPLOAD_THRESHOLD, Attachment, AttachmentError

__all__ = ["UPLOAD_THRESHOLD", "Progress", "content_for", "needs_upload"]

Progress = Callable[[int, int], None]


def needs_upload(attachment: Attachment, threshold: int = UPLOAD_THRESHOLD) -> bool:
    """Whether ``attachment`` goes through the Files API rather than inline."""
    return attachment.kind != "text" and (attachment.upload or attachment.size > threshold)


async def content_for(
    client: Client,
    attachment: Attachment,
    *,
    threshold: int = UPLOAD_THRESHOLD,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The content block for ``attachment``: inline when small, a Files API ``uri`` when not.

    Raises:
        AttachmentError: the server could not process the uploaded file (its reason given).
    """
    if not needs_upload(attachment, threshold):
        return attachment.to_content()
    source: Any = attachment.data or attachment.path
    if not source:
        raise AttachmentError(f"“{attachment.name}” has no bytes to upload.")
    uploaded = await client.files.upload(
        source,
        mime_type=attachment.mime_type,
        display_name=attachment.name,
        progress=progress,
    )
    if uploaded.state == "PROCESSING" and uploaded.name:
        uploaded = await client.files.wait_active(uploaded.name)
    if uploaded.state == "FAILED" or not uploaded.uri:
        reason = uploaded.error.message if uploaded.error is not None else None
        raise AttachmentError(
            f"“{attachment.name}” was uploaded but the server cannot use it: "
            f"{reason or 'processing failed'}"
        )
    return {"type": attachment.kind, "uri": uploaded.uri, "mime_type": attachment.mime_type}
