"""Environment files: list/stat/read/write/delete (§9.6), tar download (§9.8), uploads (§9.7)."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from workbench.engine.sandbox import (
    Conflict,
    EnvironmentStore,
    InvalidRequest,
    NotFound,
    SandboxPathError,
    UploadManager,
    archive,
    files,
)


def _touch(path: Path) -> Path:
    path.touch()
    return path


def _tree(root: Path) -> None:
    (root / "workspace/src").mkdir(parents=True)
    (root / "workspace/src/main.py").write_text("print(1)\n")
    (root / "workspace/src/data").mkdir()
    (root / "workspace/src/data/x.csv").write_text("a,b\n")
    (root / ".agents").mkdir()
    (root / ".agents/AGENTS.md").write_text("hi")


def test_list_and_stat(root: Path, tmp_path: Path) -> None:
    _tree(root)
    (root / "out").symlink_to(tmp_path)  # leads out: hidden
    entries, token = files.list_files(root, "workspace/src")
    assert token is None
    assert [(e.name, e.path, e.type) for e in entries] == [
        ("data", "workspace/src/data", "directory"),
        ("main.py", "workspace/src/main.py", "file"),
    ]
    main = entries[1].to_wire()
    assert main["size_bytes"] == "9" and main["mime_type"] == "text/x-python"
    assert main["created"].endswith("Z") and main["modified"].endswith("Z")
    assert "size_bytes" not in entries[0].to_wire()
    one, _ = files.list_files(root, "/workspace/src/main.py")
    assert [e.path for e in one] == ["workspace/src/main.py"]
    top = [e.path for e in files.list_files(root, ".")[0]]
    assert top == [".agents", "workspace"]
    assert [e.path for e in files.list_files(root, "")[0]] == top
    with pytest.raises(NotFound):
        files.list_files(root, "nope")
    with pytest.raises(SandboxPathError):
        files.list_files(root, "out")


def test_recursive_paging(root: Path) -> None:
    _tree(root)
    for i in range(5):
        (root / f"f{i}.txt").write_text(str(i))
    everything = [e.path for e in files.list_files(root, "", recursive=True, page_size=1000)[0]]
    assert ".agents/AGENTS.md" in everything and "workspace/src/data/x.csv" in everything
    paged: list[str] = []
    token = None
    while True:
        page, token = files.list_files(root, "", recursive=True, page_size=2, page_token=token)
        paged += [e.path or "" for e in page]
        if not token:
            break
    assert paged == everything
    with pytest.raises(InvalidRequest):
        files.list_files(root, "", page_token="%%%")


def test_read_write_delete(root: Path, tmp_path: Path) -> None:
    entry = files.write_bytes(root, "/a/b/c.txt", b"hello")
    assert entry.path == "a/b/c.txt"
    assert files.read_bytes(root, "a/b/c.txt") == b"hello"
    with pytest.raises(Conflict):
        files.write_bytes(root, "a/b/c.txt", b"x", overwrite=False)
    with pytest.raises(InvalidRequest):
        files.read_bytes(root, "a/b")  # a directory
    with pytest.raises(SandboxPathError):
        files.write_bytes(root, "/", b"x")
    with pytest.raises(InvalidRequest):
        files.delete_path(root, "a")  # not empty
    (tmp_path / "victim.txt").write_text("keep me")
    (root / "lnk").symlink_to(tmp_path / "victim.txt")
    with pytest.raises(SandboxPathError):
        files.read_bytes(root, "lnk")
    with pytest.raises(SandboxPathError):
        files.write_bytes(root, "lnk", b"overwritten")
    (root / "inner").symlink_to("a/b/c.txt")
    files.delete_path(root, "inner")  # deletes the link, not the target
    assert (root / "a/b/c.txt").exists()
    files.delete_path(root, "a", recursive=True)
    assert not (root / "a").exists()
    with pytest.raises(SandboxPathError):
        files.delete_path(root, "")
    with pytest.raises(NotFound):
        files.delete_path(root, "a")
    assert (tmp_path / "victim.txt").read_text() == "keep me"


def test_download_stream(root: Path) -> None:
    (root / "blob.bin").write_bytes(b"\x00" * 10)
    fd, size, mime = files.open_download(root, "blob.bin")
    os.close(fd)
    assert size == 10 and mime == "application/octet-stream"


async def test_tar_export_is_ustar_with_relative_names(root: Path, tmp_path: Path) -> None:
    _tree(root)
    (root / "link").symlink_to("workspace/src/main.py")
    (root / "escape").symlink_to(tmp_path / "data" / "engine.json")
    os.mkfifo(root / "fifo")
    raw = b"".join([chunk async for chunk in archive.tar_stream(root)])
    assert raw[257:263] == b"ustar\x00"  # POSIX ustar magic in the first header
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert set(members) == {
            ".agents",
            ".agents/AGENTS.md",
            "workspace",
            "workspace/src",
            "workspace/src/main.py",
            "workspace/src/data",
            "workspace/src/data/x.csv",
            "link",
            "escape",
        }
        assert all(not n.startswith("/") for n in members)
        assert members["workspace/src"].isdir()
        assert members["link"].issym() and members["escape"].issym()  # links never followed
        fh = tar.extractfile("workspace/src/main.py")
        assert fh is not None and fh.read() == b"print(1)\n"


async def test_tar_export_big_file_streams(root: Path) -> None:
    os.truncate(_touch(root / "big.bin"), 8 * 1024 * 1024)
    stream = archive.tar_stream(root, queue_chunks=2)
    first = await stream.__anext__()
    assert len(first) == archive.CHUNK
    await stream.aclose()  # stopping early ends the producer thread


# --- uploads -----------------------------------------------------------------------------


async def test_upload_chunks(store: EnvironmentStore) -> None:
    rec = await store.create()
    up = UploadManager(store)
    s = await up.start(rec.id, "/workspace/data.bin", total=10)
    r1 = await up.append(s.id, 0, b"01234")
    assert not r1.final and r1.received == 5
    r2 = await up.append(s.id, 5, b"56789", finalize=True)
    assert r2.final and r2.files is not None
    assert r2.files[0].path == "workspace/data.bin" and r2.files[0].size_bytes == 10
    assert (store.root(rec.id) / "workspace/data.bin").read_bytes() == b"0123456789"
    with pytest.raises(NotFound):
        up.get(s.id)  # the session is over
    assert not any(store.uploads_dir(rec.id).iterdir())


async def test_upload_offset_and_length_mismatch(store: EnvironmentStore) -> None:
    rec = await store.create()
    up = UploadManager(store)
    s = await up.start(rec.id, "f.bin", total=4)
    with pytest.raises(InvalidRequest, match="Offset"):
        await up.append(s.id, 3, b"xx")
    with pytest.raises(NotFound):
        await up.append(s.id, 0, b"xx")  # an error ends the session
    s = await up.start(rec.id, "f.bin", total=4)
    with pytest.raises(InvalidRequest, match="longer than the announced"):
        await up.append(s.id, 0, b"12345")
    s = await up.start(rec.id, "f.bin", total=4)
    await up.append(s.id, 0, b"12")
    with pytest.raises(InvalidRequest, match="announced"):
        await up.append(s.id, 2, b"3", finalize=True)
    assert not (store.root(rec.id) / "f.bin").exists()


async def test_upload_overwrite_conflict(store: EnvironmentStore) -> None:
    rec = await store.create(sources=[{"type": "inline", "target": "f.txt", "content": "old"}])
    up = UploadManager(store)
    with pytest.raises(Conflict) as err:
        await up.start(rec.id, "f.txt", total=3)
    assert err.value.http_status == 409 and err.value.code == "already_exists"
    s = await up.start(rec.id, "g.txt", total=3)
    (store.root(rec.id) / "g.txt").write_text("raced")  # appeared meanwhile
    with pytest.raises(Conflict):
        await up.append(s.id, 0, b"new", finalize=True)
    s = await up.start(rec.id, "f.txt", total=3, overwrite=True)
    await up.append(s.id, 0, b"new", finalize=True)
    assert (store.root(rec.id) / "f.txt").read_text() == "new"


async def test_upload_async_iterable(store: EnvironmentStore) -> None:
    rec = await store.create()
    up = UploadManager(store)
    s = await up.start(rec.id, "x", total=6)

    async def body():  # type: ignore[no-untyped-def]
        yield b"abc"
        yield b"def"

    res = await up.append(s.id, 0, body(), finalize=True)
    assert res.files and res.files[0].size_bytes == 6


def _tar_bytes(members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:  # type: ignore[call-overload]
        for info, data in members:
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return buf.getvalue()


def _reg(name: str) -> tarfile.TarInfo:
    return tarfile.TarInfo(name)


async def _upload(up: UploadManager, env_id: str, path: str, data: bytes, **kw: bool) -> list[str]:
    s = await up.start(env_id, path, total=len(data), **kw)
    res = await up.append(s.id, 0, data, finalize=True)
    return [f.path or "" for f in res.files or []]


@pytest.mark.parametrize("mode", ["w", "w:gz"])
async def test_upload_extract(store: EnvironmentStore, mode: str) -> None:
    rec = await store.create()
    up = UploadManager(store)
    d = tarfile.TarInfo("pkg")
    d.type = tarfile.DIRTYPE
    link = tarfile.TarInfo("pkg/alias")
    link.type = tarfile.SYMTYPE
    link.linkname = "a.txt"
    data = _tar_bytes([(d, None), (_reg("pkg/a.txt"), b"A"), (link, None)], mode)
    paths = await _upload(up, rec.id, "/workspace", data, extract=True)
    assert paths == ["workspace/pkg", "workspace/pkg/a.txt", "workspace/pkg/alias"]
    assert (store.root(rec.id) / "workspace/pkg/alias").read_text() == "A"
    with pytest.raises(Conflict):
        await _upload(up, rec.id, "/workspace", data, extract=True)
    await _upload(up, rec.id, "/workspace", data, extract=True, overwrite=True)


@pytest.mark.parametrize(
    "member",
    ["absolute", "dotdot", "symlink_out", "symlink_abs", "hardlink_out", "device", "fifo"],
)
async def test_upload_extract_refuses_malicious(
    store: EnvironmentStore, member: str, data_dir: Path
) -> None:
    rec = await store.create()
    up = UploadManager(store)
    info = tarfile.TarInfo("ok.txt")
    payload: bytes | None = b"x"
    if member == "absolute":
        info = tarfile.TarInfo("/etc/evil")
    elif member == "dotdot":
        info = tarfile.TarInfo("a/../../../engine.json")
    elif member in ("symlink_out", "symlink_abs"):
        info = tarfile.TarInfo("l")
        info.type = tarfile.SYMTYPE
        info.linkname = (
            "../../../../engine.json" if member == "symlink_out" else str(data_dir / "engine.json")
        )
        payload = None
    elif member == "hardlink_out":
        info = tarfile.TarInfo("h")
        info.type = tarfile.LNKTYPE
        info.linkname = "../../engine.json"
        payload = None
    elif member == "device":
        info = tarfile.TarInfo("dev")
        info.type = tarfile.CHRTYPE
        payload = None
    elif member == "fifo":
        info = tarfile.TarInfo("p")
        info.type = tarfile.FIFOTYPE
        payload = None
    data = _tar_bytes([(_reg("first.txt"), b"1"), (info, payload)])
    with pytest.raises(InvalidRequest):
        await _upload(up, rec.id, "dest", data, extract=True)
    assert not (store.root(rec.id) / "dest/first.txt").exists()  # nothing partial
    assert (data_dir / "engine.json").read_text().startswith('{"token"')


async def test_upload_extract_not_a_tar(store: EnvironmentStore) -> None:
    rec = await store.create()
    with pytest.raises(InvalidRequest, match="not a tar"):
        await _upload(UploadManager(store), rec.id, "d", b"hello, not a tar", extract=True)


async def test_upload_extract_through_existing_symlink_refused(
    store: EnvironmentStore, tmp_path: Path
) -> None:
    rec = await store.create()
    root = store.root(rec.id)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "dest").mkdir()
    (root / "dest" / "sub").symlink_to(outside)
    data = _tar_bytes([(_reg("sub/pwn.txt"), b"x")])
    with pytest.raises((InvalidRequest, SandboxPathError)):
        await _upload(UploadManager(store), rec.id, "dest", data, extract=True, overwrite=True)
    assert not (outside / "pwn.txt").exists()


async def test_upload_path_refusals(store: EnvironmentStore) -> None:
    rec = await store.create(sources=[{"type": "inline", "target": "d/f", "content": "x"}])
    up = UploadManager(store)
    with pytest.raises(SandboxPathError):
        await up.start(rec.id, "../x", total=1)
    with pytest.raises(InvalidRequest):
        await up.start(rec.id, "d", total=1, overwrite=True)  # a folder
    with pytest.raises(InvalidRequest):
        await up.start(rec.id, "d/f", total=1, extract=True)  # extract into a file
    with pytest.raises(NotFound):
        await up.start("env_unknown", "x", total=1)
