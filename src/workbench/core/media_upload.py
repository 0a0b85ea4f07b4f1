"""Attachments too large to send inline go through the Files API, then by ``uri``.

Gemini (and the engine) cap an inline request at about 100 MB, and base64 makes every byte
cost four thirds; past ``UPLOAD_THRESHOLD`` an attachment is uploaded with the resumable Files
API instead (progress reported, resumed after a dropped connection, cancelled by cancelling
the task) and the content block names the file's ``uri``. A file the server could not process
is refused with the server's reason before anything is sent. Qt-free: the composer's
controller awaits ``content_for`` and draws the progress.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workbench.client import Client

from .attachments import Attachment, AttachmentError

UPLOAD_THRESHOLD = 16 * 1024 * 1024
"""Attachments larger than this are uploaded first (the Gemini SDK's advice is ~20 MB)."""

Progress = Callable[[int, int], None]


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
    if attachment.kind == "text" or attachment.size <= threshold:
        return attachment.to_content()
    uploaded = await client.files.upload(
        attachment.data,
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
