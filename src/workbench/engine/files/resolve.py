"""``files/…`` URIs in content → the bytes of an uploaded file (the hook ``inputs`` calls).

A file still ``PROCESSING`` is waited for (the request is built in a worker thread), so
``upload`` followed at once by an interaction works; a ``FAILED`` one is refused with the
reason processing found.
"""

from __future__ import annotations

from ..errors import ApiError, bad_request
from ..inputs import FileResolver, ResolvedFile
from .records import FAILED, PROCESSING
from .store import FilesError, FileStore


def content_resolver(store: FileStore) -> FileResolver:
    """The resolver ``inputs.set_file_resolver`` takes, backed by ``store``."""

    def resolve(file_id: str, where: str) -> ResolvedFile:
        try:
            record = store.wait_processed(file_id)
            path = store.blob(file_id)
        except FilesError as exc:
            raise ApiError(exc.status, f"{where}: {exc.message}") from exc
        if record.state == PROCESSING:
            raise ApiError(
                503, f"{where}: files/{file_id} is still being processed; try again shortly"
            )
        if record.state == FAILED:
            raise bad_request(
                f"{where}: files/{file_id} cannot be used: {record.error or 'processing failed'}"
            )
        return ResolvedFile(path, record.mime_type, record.display_name)

    return resolve
