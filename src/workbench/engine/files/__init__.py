"""The Files API (classic Gemini ``files`` resource): uploads, states, expiry.

* ``records`` — ``FileRecord`` and its camelCase wire form;
* ``store``   — ``FileStore``: resumable upload sessions that survive restarts, files by id,
  processing (``PROCESSING`` → ``ACTIVE`` / ``FAILED``), 48-hour expiry;
* ``checks``  — what processing verifies about a file's bytes.

Routes are in ``routes/files.py``; ``inputs.py`` resolves ``files/…`` URIs through the store.
"""

from __future__ import annotations

from .records import ACTIVE, FAILED, PROCESSING, FileRecord
from .store import MAX_FILE_BYTES, FilesError, FileStore

__all__ = [
    "ACTIVE",
    "FAILED",
    "MAX_FILE_BYTES",
    "PROCESSING",
    "FileRecord",
    "FileStore",
    "FilesError",
]
