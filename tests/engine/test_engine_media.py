"""Media on the real engine: what a text-only model receives, and bad media refused clearly.

The ``scripted-text`` model echoes its prompt, so each answer shows exactly the derived text the
engine fed it (transcript, OCR text, timeline, Markdown); ``scripted`` reads images natively and
must get the image itself.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
from engine_helpers import EngineProcess

from support.media import docx_bytes, espeak_wav, png_with_text, scanned_pdf, xlsx_bytes

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def create(http: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return http.post("/v1beta/interactions", json=body, timeout=120)


def answer(result: dict[str, Any]) -> str:
    return "".join(
        c.get("text", "")
        for s in result["steps"]
        if s["type"] == "model_output"
        for c in s["content"]
    )


def thought(result: dict[str, Any]) -> str:
    return " ".join(
        c["text"] for s in result["steps"] if s["type"] == "thought" for c in s["summary"]
    )


def test_voice_memo_becomes_a_transcript(http: httpx.Client, tmp_path: Path) -> None:
    wav = espeak_wav("The delivery arrives on Monday morning.", tmp_path)
    content = [
        {"type": "text", "text": "When does it arrive?"},
        {"type": "audio", "data": b64(wav), "mime_type": "audio/wav", "name": "memo.wav"},
    ]
    r = create(http, {"model": "scripted-text", "input": content})
    assert r.status_code == 200, r.text
    result = r.json()
    assert [s["type"] for s in result["steps"]] == ["user_input", "thought", "model_output"]
    text = answer(result)
    assert text.startswith("When does it arrive?")
    assert "[Transcript of memo.wav (0:00–0:0" in text and "monday" in text.lower()
    assert "cannot hear audio" in thought(result)


def test_picture_is_read_by_ocr_for_a_text_model_and_sent_as_is_to_a_vision_model(
    http: httpx.Client,
) -> None:
    png = png_with_text(["INVOICE 4711", "Total: 1,234.56 EUR"])
    block = {"type": "image", "data": b64(png), "mime_type": "image/png", "name": "invoice.png"}
    text_model = create(http, {"model": "scripted-text", "input": [block]}).json()
    text = answer(text_model)
    assert "INVOICE 4711" in text and "1,234.56 EUR" in text
    assert "does not see images" in text
    assert "do not see images" in thought(text_model)
    vision = create(http, {"model": "scripted", "input": [block]}).json()
    assert answer(vision) == f"[image: {len(png)} bytes]"
    assert thought(vision) == ""


def test_office_documents_become_markdown(http: httpx.Client) -> None:
    word = docx_bytes("Trip plan", ["We fly to Oslo on 3 March."], [["Day", "City"], ["1", "Oslo"]])
    sheet = xlsx_bytes({"Budget": [["Item", "Cost"], ["Hotel", 420]]})
    content = [
        {"type": "document", "data": b64(word), "mime_type": DOCX, "name": "plan.docx"},
        {"type": "document", "data": b64(sheet), "mime_type": XLSX, "name": "budget.xlsx"},
    ]
    result = create(http, {"model": "scripted-text", "input": content}).json()
    text = answer(result)
    assert "[Document plan.docx (Word)" in text and "We fly to Oslo on 3 March." in text
    assert "| Day | City |" in text
    assert "[Document budget.xlsx (Excel)" in text and "| Hotel | 420 |" in text


def test_a_scanned_pdf_is_read_by_ocr(http: httpx.Client) -> None:
    pdf = scanned_pdf([["SCANNED INVOICE 77"], []])
    block = {"type": "document", "data": b64(pdf), "mime_type": "application/pdf", "name": "s.pdf"}
    result = create(http, {"model": "scripted-text", "input": [block]}).json()
    text = answer(result)
    assert "[Document s.pdf (PDF, 2 pages, scanned" in text
    assert "Page 1:\nSCANNED INVOICE 77" in text and "Page 2" not in text
    assert "scanned PDF" in thought(result)
    blank = create(
        http,
        {
            "model": "scripted-text",
            "input": [
                {"type": "document", "data": b64(scanned_pdf([[]])), "mime_type": "application/pdf"}
            ],
        },
    )
    assert blank.status_code == 400 and "OCR found no text" in blank.json()["error"]["message"]


@pytest.mark.parametrize(
    ("block", "needle"),
    [
        ({"type": "audio", "data": "", "mime_type": "audio/wav"}, "needs 'data'"),
        ({"type": "image", "data": b64(png_with_text(["x"])[:300])}, "truncated"),
        ({"type": "image", "data": b64(b"RIFF....WAVEfmt "), "mime_type": "audio/wav"},
         "cannot carry 'audio/wav'"),
        ({"type": "document", "data": b64(b"not a zip"), "mime_type": DOCX}, "not a valid Word"),
        ({"type": "video", "data": b64(png_with_text(["a slide"])), "mime_type": "video/mp4"},
         "is a still image"),
        ({"type": "video", "data": b64(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)},
         "could not be opened"),
    ],
)  # fmt: skip
def test_bad_media_is_refused_and_the_session_goes_on(
    http: httpx.Client, block: dict[str, Any], needle: str
) -> None:
    first = create(http, {"model": "scripted-text", "input": "remember 42", "store": True}).json()
    bad = create(
        http,
        {"model": "scripted-text", "input": [block], "previous_interaction_id": first["id"]},
    )
    assert bad.status_code == 400
    assert needle in bad.json()["error"]["message"]
    assert "content[0]" in bad.json()["error"]["message"]
    after = create(
        http,
        {"model": "scripted-text", "input": "still there?", "previous_interaction_id": first["id"]},
    )
    assert after.status_code == 200 and answer(after.json()) == "still there?"


def test_history_media_is_not_perceived_again(engine_factory: Any, tmp_path: Path) -> None:
    eng: EngineProcess = engine_factory()
    wav = espeak_wav("Seven green apples.", tmp_path)
    with eng.http() as http:
        block = {"type": "audio", "data": b64(wav), "mime_type": "audio/wav"}
        first = create(http, {"model": "scripted-text", "input": [block]}).json()
        again = create(
            http,
            {"model": "scripted-text", "input": "and?", "previous_interaction_id": first["id"]},
        ).json()
    # the second turn carries the memo in its history, but notes only the new input
    assert thought(again) == ""
    cache = list((eng.data_dir / "perception").rglob("*.json"))
    assert len(cache) == 1
