"""Environment files: list, download, resumable upload, tar download."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from support.fake_server import FakeServer, Fault
from workbench.client import Client, ConflictError, ProtocolViolationError


async def _env(client: Client) -> str:
    env = await client.environments.create(
        {"sources": [
            {"type": "inline", "target": "/workspace/src/main.py", "content": "print(1)\n"},
            {"type": "inline", "target": ".agents/AGENTS.md", "content": "Be brief."},
            {"type": "inline", "target": "workspace/README.md", "content": "# hi"},
        ]}
    )  # fmt: skip
    return env.id


async def test_list_root_recursive_and_paged(server: FakeServer, client: Client) -> None:
    env = await _env(client)
    top = await client.environments.files.list(env)
    assert sorted(f.path for f in top) == [".agents", "workspace"]
    everything = await client.environments.files.list(env, ".", recursive=True, page_size=2)
    assert sorted(f.path for f in everything) == [
        ".agents", ".agents/AGENTS.md", "workspace", "workspace/README.md", "workspace/src",
        "workspace/src/main.py"]  # fmt: skip
    main = next(f for f in everything if f.path == "workspace/src/main.py")
    assert main.type == "file" and main.size_bytes == 9
    sub = await client.environments.files.list(env, "/workspace/src")
    assert [f.name for f in sub] == ["main.py"]
    assert server.requests_to("GET", f"environments/{env}/files/workspace/src")


async def test_download_file(client: Client, tmp_path: Path) -> None:
    env = await _env(client)
    assert await client.environments.files.download(env, "workspace/src/main.py") == b"print(1)\n"
    progress: list[tuple[int, int]] = []
    n = await client.environments.files.download_to(
        env, "/workspace/README.md", tmp_path / "out" / "r.md",
        progress=lambda d, t: progress.append((d, t)))  # fmt: skip
    assert n == 4 and (tmp_path / "out" / "r.md").read_bytes() == b"# hi"
    assert progress[-1] == (4, 4)


async def test_upload_in_several_chunks_with_progress(server: FakeServer, client: Client) -> None:
    env = await _env(client)
    data = bytes(range(256)) * 40  # 10,240 bytes
    progress: list[tuple[int, int]] = []
    files = await client.environments.files.upload(
        env, "/workspace/data.bin", data, chunk_size=3000, mime_type="application/x-thing",
        progress=lambda done, total: progress.append((done, total)))  # fmt: skip
    assert [f.path for f in files] == ["workspace/data.bin"]
    assert files[0].size_bytes == len(data)
    assert progress == [(0, 10240), (3000, 10240), (6000, 10240), (9000, 10240),
                        (10240, 10240)]  # fmt: skip
    handshake = server.requests_to("PUT", f"environments/{env}/files/workspace/data.bin")[0]
    assert handshake.headers["x-goog-upload-protocol"] == "resumable"
    assert handshake.headers["x-goog-upload-command"] == "start"
    assert handshake.headers["x-goog-upload-header-content-length"] == "10240"
    assert handshake.headers["x-goog-upload-header-content-type"] == "application/x-thing"
    assert handshake.query == {}
    chunks = [r for r in server.requests if r.method == "POST" and "upload_id" in r.query]
    assert [(c.headers["x-goog-upload-offset"], c.headers["x-goog-upload-command"])
            for c in chunks] == [("0", "upload"), ("3000", "upload"), ("6000", "upload"),
                                 ("9000", "upload, finalize")]  # fmt: skip
    assert await client.environments.files.download(env, "workspace/data.bin") == data


async def test_upload_default_chunk_is_8_mib(server: FakeServer, client: Client) -> None:
    env = await _env(client)
    data = b"z" * (8 * 1024 * 1024 + 5)
    await client.environments.files.upload(env, "big.bin", data)
    chunks = [r for r in server.requests if r.method == "POST" and "upload_id" in r.query]
    assert [len(c.body) for c in chunks] == [8 * 1024 * 1024, 5]


async def test_upload_from_path_and_empty_file(client: Client, tmp_path: Path) -> None:
    env = await _env(client)
    src = tmp_path / "notes.txt"
    src.write_bytes(b"hello file")
    files = await client.environments.files.upload(env, "notes.txt", src, chunk_size=4)
    assert files[0].size_bytes == 10
    empty = await client.environments.files.upload(env, "empty.txt", b"")
    assert empty[0].size_bytes == 0


async def test_upload_over_existing_file(server: FakeServer, client: Client) -> None:
    env = await _env(client)
    with pytest.raises(ConflictError):
        await client.environments.files.upload(env, "workspace/README.md", b"new")
    assert server.count("PUT", f"environments/{env}/files/workspace/README.md") == 1
    await client.environments.files.upload(env, "workspace/README.md", b"new", overwrite=True)
    put = server.requests_to("PUT", f"environments/{env}/files/workspace/README.md")[-1]
    assert put.query == {"overwrite": "true"}
    assert await client.environments.files.download(env, "workspace/README.md") == b"new"


async def test_upload_extract_tar_gz(server: FakeServer, client: Client) -> None:
    env = await _env(client)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in [("a.txt", b"A"), ("sub/b.txt", b"BB")]:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    files = await client.environments.files.upload(
        env, "workspace/pkg", buffer.getvalue(), extract=True, mime_type="application/gzip"
    )
    assert sorted(f.path for f in files) == ["workspace/pkg/a.txt", "workspace/pkg/sub/b.txt"]


async def test_chunk_reply_without_status_is_resent(
    server: FakeServer, client: Client, sleeps: object
) -> None:
    env = await _env(client)
    server.settings.upload_missing_status_times = 2
    files = await client.environments.files.upload(env, "x.bin", b"abcdef", chunk_size=4)
    assert files[0].size_bytes == 6
    assert await client.environments.files.download(env, "x.bin") == b"abcdef"
    assert sleeps.delays == [1.0, 2.0]  # type: ignore[attr-defined]


async def test_upload_session_without_url_is_a_violation(
    server: FakeServer, client: Client
) -> None:
    env = await _env(client)
    server.add_fault(Fault("PUT", "environments/.*", status=200, kind="malformed"))
    with pytest.raises(ProtocolViolationError, match="upload URL"):
        await client.environments.files.upload(env, "x", b"1")


async def test_upload_can_be_cancelled(server: FakeServer, client: Client) -> None:
    import asyncio

    env = await _env(client)
    server.add_fault(Fault("POST", ".*", kind="hang", hang_seconds=5, times=1))
    task = asyncio.create_task(client.environments.files.upload(env, "c.bin", b"x" * 100))
    for _ in range(200):
        if any("upload_id" in r.query for r in server.requests):
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_tar_download(client: Client, tmp_path: Path) -> None:
    env = await _env(client)
    data = await client.environments.download_tar(env)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = tar.getnames()
        assert tar.extractfile("workspace/src/main.py").read() == b"print(1)\n"  # type: ignore[union-attr]
    assert "workspace/src" in names and not any(n.startswith("/") for n in names)
    size = await client.environments.download_tar_to(env, tmp_path / "sandbox.tar")
    assert size == len(data) and (tmp_path / "sandbox.tar").read_bytes() == data


async def test_tar_redirect_to_another_host_drops_the_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "api.example":
            return httpx.Response(302, headers={"location": "https://cdn.example/blob?sig=1"})
        return httpx.Response(200, content=b"TAR", headers={"content-type": "application/x-tar"})

    async with Client(
        "https://api.example", api_key="KEY-1", transport=httpx.MockTransport(handler)
    ) as client:
        assert await client.environments.download_tar("e1") == b"TAR"
    assert str(seen[0].url) == "https://api.example/v1/files/environment-e1:download?alt=media"
    assert seen[0].headers["x-goog-api-key"] == "KEY-1"
    assert str(seen[1].url) == "https://cdn.example/blob?sig=1"
    assert "x-goog-api-key" not in seen[1].headers


async def test_files_of_unknown_environment(client: Client) -> None:
    from workbench.client import NotFoundError

    with pytest.raises(NotFoundError):
        await client.environments.files.list("env_nope")
    with pytest.raises(NotFoundError):
        await client.environments.download_tar("env_nope")


def test_unused(make_client: Callable[..., Client]) -> None:
    assert json  # keep import for parity with other modules
