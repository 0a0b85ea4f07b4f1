"""The Files API on the real engine, driven by the official SDK and by raw resumable HTTP."""

from __future__ import annotations

import base64
import hashlib
import io
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from engine_helpers import EngineProcess
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from support.media import espeak_wav, png_with_text, slide_video


def wait_active(client: genai.Client, name: str, timeout: float = 30.0) -> types.File:
    deadline = time.monotonic() + timeout
    while True:
        f = client.files.get(name=name)
        if f.state != types.FileState.PROCESSING or time.monotonic() > deadline:
            return f
        time.sleep(0.1)


def test_upload_get_download_delete_with_the_sdk(client: genai.Client, tmp_path: Path) -> None:
    png = png_with_text(["Files API"])
    path = tmp_path / "scan.png"
    path.write_bytes(png)
    uploaded = client.files.upload(file=path, config={"display_name": "Scan of a page"})
    assert uploaded.name is not None and uploaded.name.startswith("files/")
    assert uploaded.mime_type == "image/png" and uploaded.size_bytes == len(png)
    assert uploaded.display_name == "Scan of a page"
    assert uploaded.source == types.FileSource.UPLOADED
    assert uploaded.uri is not None and uploaded.uri.endswith("/v1beta/" + uploaded.name)
    assert uploaded.expiration_time is not None and uploaded.create_time is not None
    assert (uploaded.expiration_time - uploaded.create_time).total_seconds() == 48 * 3600
    digest = hashlib.sha256(png).hexdigest().encode()
    assert uploaded.sha256_hash == base64.b64encode(digest).decode()
    active = wait_active(client, uploaded.name)
    assert active.state == types.FileState.ACTIVE
    assert client.files.download(file=active) == png
    assert client.files.download(file=uploaded.name) == png
    client.files.delete(name=uploaded.name)
    with pytest.raises(genai_errors.ClientError) as info:
        client.files.get(name=uploaded.name)
    assert info.value.code == 404


def test_audio_uri_in_an_interaction_with_the_sdk(client: genai.Client, tmp_path: Path) -> None:
    wav = tmp_path / "note.wav"
    wav.write_bytes(espeak_wav("Seven green apples.", tmp_path))
    f = client.files.upload(file=wav, config={"display_name": "note.wav"})
    assert f.uri is not None and f.name is not None
    # no waiting for ACTIVE: the engine waits for processing itself
    result = client.interactions.create(
        model="scripted-text",
        input=[
            {"type": "text", "text": "What is in the note?"},
            {"type": "audio", "uri": f.uri, "mime_type": "audio/wav"},
        ],
    )
    assert "[Transcript of note.wav" in result.output_text
    assert "apples" in result.output_text.lower()
    short = client.interactions.create(
        model="scripted-text", input=[{"type": "audio", "uri": f.name}]
    )
    assert "apples" in short.output_text.lower()


def test_video_uploaded_with_the_sdk_becomes_a_timeline(
    client: genai.Client, tmp_path: Path
) -> None:
    mp4 = slide_video(["Launch on Friday"], espeak_wav("We launch on Friday.", tmp_path))
    f = client.files.upload(file=io.BytesIO(mp4), config={"mime_type": "video/mp4"})
    assert f.uri is not None and f.name is not None
    active = wait_active(client, f.name)
    assert active.video_metadata is not None  # videoDuration, as Gemini reports it
    result = client.interactions.create(
        model="scripted-text", input=[{"type": "video", "uri": f.uri}]
    )
    text = result.output_text
    assert "on screen: Launch on Friday" in text and "speech:" in text
    assert "friday" in text.split("speech:")[1].lower()


def test_undecodable_upload_fails_processing_with_a_reason(
    client: genai.Client, http: httpx.Client
) -> None:
    f = client.files.upload(
        file=io.BytesIO(b"not a picture" * 20), config={"mime_type": "image/png"}
    )
    assert f.name is not None
    failed = wait_active(client, f.name)
    assert failed.state == types.FileState.FAILED
    assert failed.error is not None and "not in an image format" in str(failed.error.message)
    r = http.post(
        "/v1beta/interactions",
        json={"model": "scripted-text", "input": [{"type": "image", "uri": f.name}]},
    )
    assert r.status_code == 400 and "cannot be used" in r.json()["error"]["message"]
    missing = http.post(
        "/v1beta/interactions",
        json={"model": "scripted-text", "input": [{"type": "image", "uri": "files/nope"}]},
    )
    assert missing.status_code == 404


def test_empty_and_oversized_uploads_are_refused(client: genai.Client, http: httpx.Client) -> None:
    with pytest.raises(genai_errors.ClientError) as info:
        client.files.upload(file=io.BytesIO(b""), config={"mime_type": "text/plain"})
    assert info.value.code == 400 and "empty" in str(info.value.message)
    big = http.post(
        "/upload/v1beta/files",
        headers=_start_headers(3 * 1024**3, "video/mp4"),
        json={"file": {"displayName": "huge"}},
    )
    assert big.status_code == 413 and big.headers["x-goog-upload-status"] == "final"


def test_list_pages_newest_first(engine_factory: Any) -> None:
    eng: EngineProcess = engine_factory()
    client = eng.client()
    names = []
    for i in range(5):
        f = client.files.upload(
            file=io.BytesIO(f"n{i}".encode()), config={"mime_type": "text/plain"}
        )
        names.append(f.name)
    pager = client.files.list(config={"page_size": 2})
    assert len(pager.page) == 2
    assert [f.name for f in pager] == list(reversed(names))
    with eng.http() as http:
        page = http.get("/v1beta/files", params={"pageSize": 3}).json()
        assert len(page["files"]) == 3 and page["nextPageToken"]
        rest = http.get("/v1beta/files", params={"pageToken": page["nextPageToken"]}).json()
        assert len(rest["files"]) == 2 and "nextPageToken" not in rest


def _start_headers(size: int, mime: str) -> dict[str, str]:
    return {
        "X-Goog-Upload-Protocol": "resumable",
        "X-Goog-Upload-Command": "start",
        "X-Goog-Upload-Header-Content-Length": str(size),
        "X-Goog-Upload-Header-Content-Type": mime,
    }


def test_an_upload_session_survives_an_engine_restart(engine_factory: Any, tmp_path: Path) -> None:
    data = png_with_text(["resumed"])
    half = len(data) // 2
    first: EngineProcess = engine_factory(data_dir=tmp_path / "data")
    with first.http() as http:
        start = http.post(
            "/upload/v1beta/files",
            headers=_start_headers(len(data), "image/png"),
            json={"file": {"display_name": "resumed.png"}},
        )
        assert start.status_code == 200 and start.headers["x-goog-upload-status"] == "active"
        url = start.headers["x-goog-upload-url"]
        session = url.split("?", 1)[1]
        chunk = httpx.post(
            url,
            headers={"X-Goog-Upload-Command": "upload", "X-Goog-Upload-Offset": "0"},
            content=data[:half],
        )  # no API key: the session id is the credential, as with Google's upload servers
        assert chunk.status_code == 200 and chunk.headers["x-goog-upload-status"] == "active"
    first.stop()
    second: EngineProcess = engine_factory(data_dir=tmp_path / "data")
    url = f"{second.url}/upload/v1beta/files?{session}"
    query = httpx.post(url, headers={"X-Goog-Upload-Command": "query"})
    assert query.headers["x-goog-upload-size-received"] == str(half)
    done = httpx.post(
        url,
        headers={"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": str(half)},
        content=data[half:],
    )
    assert done.status_code == 200 and done.headers["x-goog-upload-status"] == "final"
    file = done.json()["file"]
    assert file["displayName"] == "resumed.png" and file["sizeBytes"] == str(len(data))
    assert wait_active(second.client(), file["name"]).state == types.FileState.ACTIVE
    stale = httpx.post(url, headers={"X-Goog-Upload-Command": "query"})
    assert stale.status_code == 404
    assert httpx.get(f"{second.url}/v1beta/files").status_code == 401  # the rest needs a key


def test_environment_tar_download_still_served(http: httpx.Client) -> None:
    env = http.post("/v1beta/environments", json={}).json()
    r = http.get(f"/v1beta/files/environment-{env['id']}:download", params={"alt": "media"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-tar"
