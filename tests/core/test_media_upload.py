"""Large attachments go through the Files API of a real engine and come back as a uri."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from support.media import png_with_text
from workbench.client import Client
from workbench.core import attachments as A
from workbench.core.attachments import AttachmentError
from workbench.core.engine_process import EngineProcess
from workbench.core.media_upload import content_for
from workbench.protocol import output_text


@pytest.fixture
async def engine_client(tmp_path: Path) -> AsyncIterator[Client]:
    engine = EngineProcess(tmp_path / "engine", backend="scripted")
    info = await engine.start()
    try:
        async with Client(info.url, api_key=info.token) as client:
            yield client
    finally:
        await engine.stop()


async def test_small_inline_large_by_uri_and_usable(engine_client: Client) -> None:
    png = png_with_text(["uploaded, not inline"])
    att = A.from_bytes("scan.png", png)
    assert (await content_for(engine_client, att))["data"]  # small: inline
    seen: list[int] = []
    block = await content_for(
        engine_client, att, threshold=100, progress=lambda done, total: seen.append(done)
    )
    assert set(block) == {"type", "uri", "mime_type"} and block["type"] == "image"
    assert seen[-1] == len(png)
    result = await engine_client.interactions.create({"model": "scripted-text", "input": [block]})
    assert "uploaded, not inline" in output_text(result.steps)


async def test_a_file_the_server_cannot_process_is_refused(engine_client: Client) -> None:
    att = A.Attachment("fake.png", "image/png", "image", b"not a png" * 50, "0")
    with pytest.raises(AttachmentError, match=r"cannot use it: .*not in an image format"):
        await content_for(engine_client, att, threshold=10)
