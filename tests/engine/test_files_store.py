"""FileStore on its own: expiry with cleanup, offsets, over-long chunks, restart of state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from workbench.engine.files import ACTIVE, FilesError, FileStore


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def upload(store: FileStore, data: bytes, mime: str = "text/plain") -> str:
    session = await store.start_upload(
        total=len(data), mime_type=mime, display_name="t.txt", name=None
    )
    record = await store.append(session.id, 0, chunks(data), finalize=True)
    assert record is not None
    return record.id


async def test_files_expire_and_are_swept(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files", ttl_seconds=0.5)
    await store.open()
    file_id = await upload(store, b"short-lived")
    assert (await asyncio.to_thread(store.wait_processed, file_id)).state == ACTIVE
    assert (tmp_path / "files" / "blobs" / file_id).is_file()
    await asyncio.sleep(0.6)
    with pytest.raises(FilesError, match="expired"):
        store.get(file_id)
    assert await store.sweep() == 1
    assert not (tmp_path / "files" / "blobs" / file_id).exists()
    assert not (tmp_path / "files" / "meta" / f"{file_id}.json").exists()
    await store.close()


async def test_offsets_and_lengths_are_enforced(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    await store.open()
    session = await store.start_upload(total=6, mime_type="text/plain", display_name="", name=None)
    with pytest.raises(FilesError, match="Offset is 3 but 0"):
        await store.append(session.id, 3, chunks(b"abc"), finalize=False)
    await store.append(session.id, 0, chunks(b"abc"), finalize=False)
    with pytest.raises(FilesError, match="longer than the announced 6"):
        await store.append(session.id, 3, chunks(b"defg"), finalize=False)
    assert store.received(session.id) == 3  # the refused chunk left nothing behind
    with pytest.raises(FilesError, match="ended after 5 bytes"):
        await store.append(session.id, 3, chunks(b"de"), finalize=True)
    await store.close()


async def test_names_and_state_survive_a_restart(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    await store.open()
    session = await store.start_upload(
        total=2, mime_type="text/plain", display_name="", name="files/my-notes"
    )
    with pytest.raises(FilesError, match="already exists"):
        await store.start_upload(total=2, mime_type="", display_name="", name="my-notes")
    with pytest.raises(FilesError, match="a-z0-9-"):
        await store.start_upload(total=2, mime_type="", display_name="", name="Bad_Name")
    await store.append(session.id, 0, chunks(b"hi"), finalize=True)
    await asyncio.to_thread(store.wait_processed, "my-notes")
    await store.close()
    orphan = tmp_path / "files" / "blobs" / "orphan"
    orphan.write_bytes(b"bytes whose record was never written")
    again = FileStore(tmp_path / "files")
    await again.open()
    record = again.get("my-notes")
    assert record.state == ACTIVE and record.size_bytes == 2
    assert again.blob("my-notes").read_bytes() == b"hi"
    assert not orphan.exists()
    await again.close()
