"""Our own client's Files API (``client.files``) against the real engine, resume included."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_helpers import EngineProcess

from support.cut_proxy import CutProxy
from support.media import png_with_text
from workbench.client import Client, NotFoundError, RetryPolicy


async def test_upload_wait_list_download_delete(engine: EngineProcess, tmp_path: Path) -> None:
    png = png_with_text(["client upload"])
    path = tmp_path / "pic.png"
    path.write_bytes(png)
    seen: list[tuple[int, int]] = []
    async with Client(engine.url, api_key=engine.token) as client:
        uploaded = await client.files.upload(
            path,
            mime_type="image/png",
            display_name="pic.png",
            chunk_size=len(png) // 3 + 1,
            progress=lambda done, total: seen.append((done, total)),
        )
        assert uploaded.name and uploaded.size_bytes == len(png)
        assert seen[0] == (0, len(png)) and seen[-1] == (len(png), len(png)) and len(seen) == 4
        active = await client.files.wait_active(uploaded.name, interval=0.05)
        assert active.state == "ACTIVE" and active.display_name == "pic.png"
        assert uploaded.name in [f.name for f in await client.files.list(page_size=1)]
        assert await client.files.download(uploaded.name) == png
        await client.files.delete(uploaded.name)
        with pytest.raises(NotFoundError):
            await client.files.get(uploaded.name)


async def test_a_cut_chunk_is_resumed_from_what_the_server_holds(engine: EngineProcess) -> None:
    data = bytes(range(256)) * 64
    port = int(engine.url.rsplit(":", 1)[1])
    with CutProxy("127.0.0.1", port, match=b"POST /upload/v1/files?upload_id") as proxy:
        proxy.plan = [0]  # the first chunk arrives, its reply is cut
        async with Client(
            proxy.url, api_key=engine.token, retry=RetryPolicy(max_retries=0)
        ) as client:
            uploaded = await client.files.upload(
                data, mime_type="application/octet-stream", chunk_size=4096
            )
            assert uploaded.size_bytes == len(data)
            assert uploaded.name is not None
            assert await client.files.download(uploaded.name) == data
        assert any(c.cut for c in proxy.stats())
