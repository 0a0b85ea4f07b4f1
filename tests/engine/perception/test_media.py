"""Perception of real pictures, speech and video made in the test (models run for real)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from support.media import espeak_wav, png_with_text, slide_video, wav_with_unknown_codec
from workbench.engine.perception import MediaError, Perception
from workbench.engine.perception.ocr import spaced


def test_ocr_reads_the_text_says_where_and_that_it_is_not_sight(perception: Perception) -> None:
    data = png_with_text(["INVOICE 4711", "Total: 1,234.56 EUR"])
    derived = perception.image(data, "invoice.png")
    text = derived.text
    assert "PNG, 900×320 pixels" in text
    assert "INVOICE 4711" in text and "1,234.56 EUR" in text
    assert text.index("INVOICE 4711") < text.index("1,234.56")
    assert "(top left" in text
    assert "does not see images" in text and "[end of text read from invoice.png]" in text
    assert "do not see images" in derived.note and "2 lines" in derived.note


def test_ocr_of_a_picture_without_text(perception: Perception) -> None:
    derived = perception.image(png_with_text([], (200, 100), "JPEG"), "blank.jpg")
    assert "JPEG, 200×100" in derived.text and "OCR found no text in blank.jpg" in derived.text


def test_spaces_come_back_from_blank_gaps_between_characters() -> None:
    def boxes(centres: list[int]) -> list[list[list[int]]]:
        return [[[c - 4, 0], [c + 4, 0], [c + 4, 10], [c - 4, 10]] for c in centres]

    chars = list("Gate1234")
    centres = [10, 20, 30, 40, 70, 80, 90, 100]
    assert spaced(chars, boxes(centres), [(48, 62)]) == "Gate 1234"
    # between digits only a wide gap splits (narrow glyphs, wide bearings)
    assert spaced(chars, boxes(centres), [(48, 62), (84, 87)], digit_gap=10) == "Gate 1234"
    assert spaced(chars, boxes(centres), [(48, 62), (81, 93)], digit_gap=10) == "Gate 12 34"
    assert spaced(list("a b"), boxes([10, 20, 30]), [(12, 28)]) == "a b"  # no double space


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "empty"),
        (b"GIF89a not really", "not in an image format"),
        (png_with_text(["cut short"])[:400], "truncated"),
    ],
)
def test_bad_images_say_what_is_wrong(perception: Perception, data: bytes, needle: str) -> None:
    with pytest.raises(MediaError, match=needle):
        perception.image(data, "pic.png")


def test_speech_is_transcribed_with_times_and_language_once(
    perception: Perception, tmp_path: Path
) -> None:
    wav = espeak_wav("The delivery arrives on Monday morning.", tmp_path)
    derived = perception.audio(wav, "memo.wav")
    text = derived.text
    assert text.startswith("[Transcript of memo.wav (0:00–0:0")
    assert "detected language: en" in text
    assert "[0:00–0:0" in text and "monday" in text.lower()
    assert "cannot hear audio" in derived.note
    loads, misses = perception.speech.model.loads, perception.cache.misses
    again = perception.audio(wav, "other-name.wav")  # same bytes: from the cache
    assert "other-name.wav" in again.text and "monday" in again.text.lower()
    assert perception.speech.model.loads == loads and perception.cache.misses == misses


def test_cache_survives_a_new_perception(perception: Perception, tmp_path: Path) -> None:
    wav = espeak_wav("Seven green apples.", tmp_path)
    first = perception.audio(wav, "a.wav")
    fresh = Perception(perception.speech.models_dir, perception.cache.folder)
    assert fresh.audio(wav, "a.wav").text == first.text
    assert not fresh.speech.model.loaded  # answered from disk, no model loaded


def test_bad_audio_says_what_is_wrong(perception: Perception, tmp_path: Path) -> None:
    wav = espeak_wav("This sentence is long enough to be cut in half by the test.", tmp_path)
    with pytest.raises(MediaError, match="truncated"):
        perception.audio(wav[: len(wav) // 3], "cut.wav")
    with pytest.raises(MediaError, match="codec the engine cannot decode"):
        perception.audio(wav_with_unknown_codec(wav), "odd.wav")
    with pytest.raises(MediaError, match="could not be opened"):
        perception.audio(b"this is not audio at all" * 10, "text.wav")
    with pytest.raises(MediaError, match="empty"):
        perception.audio(b"", "none.wav")
    with pytest.raises(MediaError, match="no audio track"):
        perception.audio(png_with_text(["x"]), "picture.wav")


def test_video_becomes_a_timeline_of_speech_and_screen_text(
    perception: Perception, tmp_path: Path
) -> None:
    wav = espeak_wav("Our revenue doubled this year.", tmp_path)
    mp4 = slide_video(["Results 2025", "Revenue 8 million"], wav)
    derived = perception.video(mp4, "talk.mp4")
    text = derived.text
    assert text.startswith("[Video talk.mp4: 0:0")
    assert "640×360" in text and "h264" in text and "aac" in text
    assert "[0:00] on screen: Results 2025" in text and "Revenue 8 million" in text
    assert "speech:" in text and "revenue" in text.lower()
    assert text.count("on screen:") == 1  # the unchanged slide is listed once
    assert "cannot watch video" in derived.note


def test_video_without_a_video_track_is_refused(perception: Perception, tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="no video track"):
        perception.video(espeak_wav("Hello.", tmp_path), "sound.mp4")


def test_models_unload_when_idle(models_dir: Path) -> None:
    p = Perception(models_dir, None, idle_seconds=0.3, threads=1)
    p.image(png_with_text(["Idle test"]), "a.png")
    assert p.ocr.model.loaded
    deadline = time.monotonic() + 5
    while p.ocr.model.loaded and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not p.ocr.model.loaded
    p.image(png_with_text(["Loaded again"]), "b.png")
    assert p.ocr.model.loads == 2
