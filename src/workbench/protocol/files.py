"""The classic Files API resource (``files/…``): the one camelCase neighbour of the protocol.

Media too large to send inline is uploaded first (``POST /upload/{v}/files``, resumable) and
then named by its ``uri`` in a content block. Gemini and the engine answer the same shape,
which the official SDK parses as ``google.genai.types.File``.
"""

from __future__ import annotations

from pydantic import ConfigDict
from pydantic.alias_generators import to_camel

from ._base import Int64, Timestamp, WireModel

FILE_STATES = frozenset({"STATE_UNSPECIFIED", "PROCESSING", "ACTIVE", "FAILED"})


class FileStatus(WireModel):
    """Why a file ``FAILED`` (a ``google.rpc.Status``)."""

    code: int | None = None
    message: str | None = None


class UploadedFile(WireModel):
    """A file of the Files API; ``name`` is ``files/ID`` and ``uri`` goes into content blocks."""

    model_config = ConfigDict(alias_generator=to_camel)

    name: str | None = None
    display_name: str | None = None
    mime_type: str | None = None
    size_bytes: Int64 | None = None
    create_time: Timestamp | None = None
    update_time: Timestamp | None = None
    expiration_time: Timestamp | None = None
    sha256_hash: str | None = None
    uri: str | None = None
    download_uri: str | None = None
    state: str | None = None
    source: str | None = None
    error: FileStatus | None = None


class ListFilesResponse(WireModel):
    """One page of ``GET /{v}/files``."""

    model_config = ConfigDict(alias_generator=to_camel)

    files: list[UploadedFile] | None = None
    next_page_token: str | None = None
