"""Media sent to an agent, with the official SDK: derived text for the model, the file itself
in the sandbox (``attachments/``), uploaded files (``files/…``) and inline data alike.

The scripted backend plays the model: without directives it echoes the task message, so the
answer shows what the agent's model received; ``[[call NAME {json}]]`` calls a tool.
"""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import EngineProcess
from google import genai
from google.genai._gaos.lib import compat_errors

from support.media import espeak_wav, png_with_text, xlsx_bytes

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.filterwarnings("ignore:.*experimental.*:UserWarning"),
]

AGENT = "antigravity-preview-05-2026"
ECHO = [{"type": "url_context"}]
"""Tools without code execution: the tool loop, where the scripted model echoes the task."""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _upload(client: genai.Client, data: bytes, mime: str, name: str) -> Any:
    uploaded = client.files.upload(
        file=io.BytesIO(data), config={"mime_type": mime, "display_name": name}
    )
    deadline = time.monotonic() + 60
    while uploaded.state and uploaded.state.name == "PROCESSING":
        assert time.monotonic() < deadline
        time.sleep(0.2)
        uploaded = client.files.get(name=uploaded.name)
    assert uploaded.state.name == "ACTIVE", uploaded
    return uploaded


def _text(done: Any) -> str:
    return done.output_text or ""


def _thoughts(done: Any) -> str:
    return " ".join(s.summary[0].text for s in done.steps if s.type == "thought" and s.summary)


def test_an_uploaded_workbook_is_read_and_placed_in_the_workspace(
    engine: EngineProcess,
) -> None:
    client = engine.client()
    book = xlsx_bytes({"Sales": [["region", "total"], ["North", 4711], ["South", 815]]})
    uploaded = _upload(client, book, XLSX, "sales.xlsx")
    done = client.interactions.create(
        agent=AGENT,
        tools=ECHO,
        input=[
            {"type": "text", "text": "What is the North total?"},
            {"type": "document", "uri": uploaded.uri, "mime_type": XLSX},
        ],
    )
    assert done.status == "completed", done
    said = _text(done)
    assert "4711" in said and "North" in said  # the sheet as Markdown reached the model
    assert "attachments/sales.xlsx" in said  # and it was told where the file is
    env = done.environment_id
    assert client.environments.files.download(environment=env, path="attachments/sales.xlsx") == (
        book
    )
    # A program can open it: the tool lists it in the workspace.
    again = client.interactions.create(
        agent=AGENT,
        input='[[call list_files {"path": "attachments"}]]',
        environment=env,
    )
    assert "attachments/sales.xlsx" in str(again.steps[2].result)


def test_inline_audio_and_an_uploaded_picture_reach_an_agent(
    engine: EngineProcess, tmp_path: Path
) -> None:
    client = engine.client()
    wav = espeak_wav("The parcel arrives on Thursday.", tmp_path)
    png = png_with_text(["INVOICE 2291"])
    picture = _upload(client, png, "image/png", "invoice.png")
    done = client.interactions.create(
        agent=AGENT,
        agent_config={"type": "antigravity", "model": "scripted-text"},
        tools=ECHO,
        input=[
            {"type": "text", "text": "Summarize."},
            {
                "type": "audio",
                "data": base64.b64encode(wav).decode(),
                "mime_type": "audio/wav",
            },
            {"type": "image", "uri": picture.uri, "mime_type": "image/png"},
        ],
    )
    assert done.status == "completed", done
    said = _text(done).lower()
    assert "thursday" in said and "2291" in said  # a transcript and the OCR text
    assert "cannot hear audio" in _thoughts(done)
    env = done.environment_id
    names = {
        f.name for f in client.environments.files.list(environment=env, path="attachments").files
    }
    assert names == {"audio-1.wav", "invoice.png"}  # an unnamed block is numbered
    got = client.environments.files.download(environment=env, path="attachments/invoice.png")
    assert got == png


def test_bad_media_for_an_agent_is_refused_before_any_sandbox(engine: EngineProcess) -> None:
    client = engine.client()
    before = len(client.environments.list().environments or [])
    with pytest.raises(compat_errors.APIError) as info:
        client.interactions.create(
            agent=AGENT,
            input=[{"type": "audio", "data": "AAAA", "mime_type": "audio/wav"}],
        )
    assert info.value.status_code == 400
    with pytest.raises(compat_errors.APIError) as info:
        client.interactions.create(
            agent=AGENT, input=[{"type": "image", "uri": "files/doesnotexist"}]
        )
    assert info.value.status_code == 404
    assert len(client.environments.list().environments or []) == before
