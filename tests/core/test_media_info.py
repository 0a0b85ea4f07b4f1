"""Attachment summaries of real media made in the test (image size, durations, pages)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from support.media import espeak_wav, png_with_text, pptx_bytes, slide_video, xlsx_bytes
from workbench.core import attachments as A
from workbench.core.media_info import THUMBNAIL_SIZE, clock, summarize


def test_image_gets_its_size_and_a_thumbnail_as_poster(tmp_path: Path) -> None:
    png = png_with_text(["hello"], (600, 120))
    summary = summarize(A.from_bytes("pic.png", png))
    assert summary.kind == "image" and summary.label.startswith("PNG 600×120 · ")
    assert summary.poster is not None
    with Image.open(io.BytesIO(summary.poster)) as poster:
        assert poster.size == (THUMBNAIL_SIZE[0], 51)  # shrunk, aspect kept
    # A big file summarized from disk (its bytes are not held in memory).
    path = tmp_path / "pic.png"
    path.write_bytes(png)
    on_disk = A.Attachment("pic.png", "image/png", "image", b"", "0", path, len(png), True)
    assert summarize(on_disk).label == summary.label


def test_audio_and_video_get_durations_and_a_poster_frame(tmp_path: Path) -> None:
    wav = espeak_wav("One two three four five.", tmp_path)
    audio = summarize(A.from_bytes("memo.wav", wav))
    assert audio.kind == "audio" and audio.duration is not None and 1 < audio.duration < 5
    assert audio.label.startswith(f"audio {clock(audio.duration)} · ")
    video = summarize(A.from_bytes("talk.mp4", slide_video(["Slide"], wav)))
    assert video.kind == "video" and " 640×360 · " in video.label
    assert video.poster is not None and video.poster.startswith(b"\x89PNG")


def test_documents_get_page_slide_and_sheet_counts() -> None:
    deck = summarize(A.from_bytes("deck.pptx", pptx_bytes("T", ["a"])))
    assert deck.pages == 1 and deck.label.startswith("PowerPoint · 1 slide · ")
    book = summarize(A.from_bytes("b.xlsx", xlsx_bytes({"One": [[1]], "Two": [[2]]})))
    assert book.pages == 2 and book.label.startswith("Excel · 2 sheets · ")


def test_damaged_media_still_gets_a_plain_label() -> None:
    summary = summarize(A.from_bytes("cut.png", png_with_text(["x"])[:100]))
    assert summary.label.startswith("image · ") and summary.poster is None
    assert clock(3725) == "1:02:05"
