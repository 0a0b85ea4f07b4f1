"""The composer shows media as media, takes drops and pastes, and uploads big files with a
progress bar and Cancel — against the real engine on loopback, with media made in the test
(a Qt-rendered PNG and PDF, a WAV written with ``wave``, an MP4 encoded with PyAV)."""

from __future__ import annotations

import math
import struct
import wave
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDropEvent, QFont, QImage, QPageSize, QPainter, QPdfWriter
from PySide6.QtWidgets import QApplication

from workbench.core import attachments
from workbench.core.media_info import MediaSummary
from workbench.core.run_settings import RunSettings
from workbench.core.tasks import TaskManager
from workbench.ui.composer import Composer
from workbench.ui.composer_feed import ComposerFeed
from workbench.ui.composer_media import DropArea
from workbench.ui.main_window import MainWindow

pytestmark = pytest.mark.timeout(120)


def qt_png(text: str, size: tuple[int, int] = (480, 200)) -> bytes:
    image = QImage(size[0], size[1], QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setPen(QColor("darkblue"))
    painter.setFont(QFont("Sans", 28))
    painter.drawText(QPointF(24, size[1] / 2), text)
    painter.end()
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")  # type: ignore[call-overload]
    buf.close()
    return bytes(data.data())


def wav_tone(seconds: float, path: Path) -> Path:
    rate = 8000
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        samples = (
            int(8000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(rate * seconds))
        )
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return path


def qt_pdf(pages: int, path: Path) -> Path:
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A6))
    painter = QPainter(writer)
    for n in range(pages):
        if n:
            writer.newPage()
        painter.drawText(QPointF(100, 200), f"Page {n + 1}")
    painter.end()
    return path


def tiny_mp4(seconds: int, path: Path) -> Path:
    import av
    import numpy as np

    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=5)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        for i in range(seconds * 5):
            pixels = np.full((96, 160, 3), (30, 120, 200), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 5)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def _feed(composer: Composer) -> ComposerFeed:
    return ComposerFeed(composer, TaskManager(), lambda: (None, RunSettings(target="scripted")))


def _drop(widget: Any, mime: QMimeData) -> QDropEvent:
    event = QDropEvent(
        QPointF(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    widget.dropEvent(event)
    return event


async def test_chips_show_thumbnails_durations_posters_and_pages(
    qtbot: Any, until: Any, tmp_path: Path
) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    feed = _feed(composer)
    png = tmp_path / "sign.png"
    png.write_bytes(qt_png("OPEN 9-5"))
    files = [
        png,
        wav_tone(2.0, tmp_path / "memo.wav"),
        qt_pdf(3, tmp_path / "report.pdf"),
        tiny_mp4(3, tmp_path / "clip.mp4"),
    ]
    feed.attach_files([str(f) for f in files])
    await until(
        lambda: len(composer._chips) == 4 and len(composer.summaries) == 4, what="summaries"
    )
    chips = {c.name: c for c in composer._chips}
    assert chips["sign.png"].has_picture and "PNG 480×200" in chips["sign.png"].detail.text()
    assert not chips["memo.wav"].has_picture and "audio 0:02" in chips["memo.wav"].detail.text()
    assert "PDF · 3 pages" in chips["report.pdf"].detail.text()
    assert chips["clip.mp4"].has_picture and "video 0:03 160×96" in chips["clip.mp4"].detail.text()
    assert all("sent inline (base64)" in c.toolTip() for c in composer._chips), [
        c.detail.text() for c in composer._chips
    ]
    # Audio and video open in the system's player (no Qt Multimedia in this build).
    assert chips["memo.wav"].open_button is not None and chips["sign.png"].open_button is None
    # Remove: the chip and its attachment go; the others stay.
    chips["memo.wav"].remove.click()
    assert [a.name for a in composer.attachments()] == ["sign.png", "report.pdf", "clip.mp4"]
    # A restored draft needs no second decode: its summaries are kept by content hash.
    draft = composer.take_draft()
    composer.restore_draft(draft)
    assert all(c.summary.label != c.attachment.mime_type for c in composer._chips)
    assert composer._chips[0].has_picture


async def test_drop_files_and_images_on_the_composer_and_the_chat_column(
    qtbot: Any, until: Any, tmp_path: Path
) -> None:
    composer = Composer()
    area = DropArea()
    area.dropped.connect(composer.take_mime)
    qtbot.addWidget(composer)
    qtbot.addWidget(area)
    feed = _feed(composer)  # noqa: F841  (kept alive: its slots answer the composer)
    wav = wav_tone(0.5, tmp_path / "beep.wav")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(wav))])
    assert _drop(composer, mime).isAccepted()
    await until(lambda: [a.name for a in composer.attachments()] == ["beep.wav"], what="drop")
    image = QMimeData()
    image.setImageData(QImage.fromData(qt_png("dropped")))
    _drop(area, image)  # dropped on the transcript's column
    assert [a.name for a in composer.attachments()] == ["beep.wav", "pasted image.png"]
    web = QMimeData()
    web.setUrls([QUrl("https://example.com/a.png")])
    assert not _drop(composer, web).isAccepted()
    assert "Only files on this computer" in composer.message.text()
    assert len(composer.attachments()) == 2


async def test_paste_image_data_and_file_urls_from_the_clipboard(
    qtbot: Any, until: Any, tmp_path: Path
) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    feed = _feed(composer)  # noqa: F841  (kept alive: its slots answer the composer)
    composer.set_text("look: ")
    clipboard = QApplication.clipboard()
    clipboard.setImage(QImage.fromData(qt_png("pasted")))
    composer.edit.paste()
    await until(lambda: len(composer.attachments()) == 1, what="pasted image")
    pasted = composer.attachments()[0]
    assert pasted.name == "pasted image.png" and pasted.data.startswith(b"\x89PNG")
    pdf = qt_pdf(1, tmp_path / "one.pdf")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(pdf))])
    clipboard.setMimeData(mime)
    composer.edit.paste()
    await until(lambda: len(composer.attachments()) == 2, what="pasted file")
    assert composer.attachments()[1].name == "one.pdf"
    assert composer.text() == "look: "  # nothing pasted into the text


async def test_big_attachments_upload_with_progress_and_cancel_keeps_everything(
    make_window: Callable[..., MainWindow],
    until: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(attachments, "UPLOAD_THRESHOLD", 1024)  # small files, real uploads
    w = make_window()
    await w.start()
    try:
        w.dock.target.setEditText("scripted")
        png = tmp_path / "poster.png"
        png.write_bytes(qt_png("UPLOAD ME", (900, 400)))
        small = tmp_path / "note.txt"
        small.write_text("a small note")
        w.composer.set_text("what does it say?")
        w.composer.files_requested.emit([str(png), str(small)])
        await until(lambda: len(w.composer.attachments()) == 2, what="attached")
        assert "uploaded first (Files API)" in w.composer._chips[0].label.text()

        # Cancel on the first progress report: nothing sent, nothing lost.
        bar = w.composer.upload_bar
        shown: list[tuple[int, int]] = []
        real = bar.show_progress

        def cancel_at_start(name: str, done: int, total: int, step: str = "") -> None:
            real(name, done, total, step)
            shown.append((done, total))
            bar.cancel.click()

        monkeypatch.setattr(bar, "show_progress", cancel_at_start)
        w.composer.submit()
        assert not w.composer.send_button.isEnabled()
        await until(lambda: "Upload cancelled" in w.composer.message.text(), what="cancel")
        assert shown and bar.isHidden() and w.composer.send_button.isEnabled()
        assert w.composer.text() == "what does it say?"
        assert [a.name for a in w.composer.attachments()] == ["poster.png", "note.txt"]
        assert w.history.sessions() == []

        # Again, to the end: the bar follows the bytes, the turn names the file by uri.
        monkeypatch.setattr(bar, "show_progress", real)
        seen: list[int] = []
        monkeypatch.setattr(
            bar.bar, "setValue", lambda v, orig=bar.bar.setValue: (seen.append(v), orig(v))
        )
        w.composer.submit()
        await until(lambda: w.controller.session_id is not None, what="the send")
        await until(lambda: not w.controller.busy, what="the answer")
        assert seen[0] == 0 and seen[-1] == 1000
        rec = w.history.interactions(w.controller.session_id)[-1]
        content = rec.input[0]["content"]
        assert content[1]["type"] == "image" and "files/" in content[1]["uri"]
        assert "data" not in content[1] and content[2]["type"] == "text"
        assert rec.attachments[0].sent_as == "uploaded first (Files API)"
        w.transcript.flush()
        shown_text = w.transcript.toPlainText()
        assert "poster.png · PNG 900×400" in shown_text and "[image:" in shown_text
        assert w.composer.attachments() == [] and bar.isHidden()
    finally:
        await w.controller.shutdown()


def test_transcript_shows_sent_images_as_thumbnails(qtbot: Any) -> None:
    import base64

    from workbench.ui.transcript import TranscriptView, TurnEntry

    view = TranscriptView()
    qtbot.addWidget(view)
    data = base64.b64encode(qt_png("thumb")).decode()
    steps = [
        {
            "type": "user_input",
            "content": [
                {"type": "text", "text": "see"},
                {"type": "image", "data": data, "mime_type": "image/png"},
            ],
        }
    ]
    view.set_entries(
        [TurnEntry("i1", steps, {"steps": []}, attachments=["t.png · PNG 480×200 · 2 KB"])]
    )
    view.flush()
    html = view.toHtml()
    assert 'height="96"' in html and "t.png · PNG 480×200" in view.toPlainText()
    name = next(iter(k for k in view._state.images if k.startswith("i1-user")))
    image = view.loadResource(2, QUrl(f"wb-image:{name}"))
    assert isinstance(image, QImage) and image.width() == 480


def test_summary_placeholder_until_computed(qtbot: Any) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    wanted: list[Any] = []
    composer.summary_wanted.connect(wanted.append)
    att = attachments.from_bytes("a.png", qt_png("x"))
    composer.add_attachment(att)
    assert wanted == [att] and "image/png" in composer._chips[0].detail.text()
    composer.set_summary(att.sha256, MediaSummary("image", "PNG 480×200 · 2 KB", poster=att.data))
    assert composer._chips[0].has_picture
    assert composer._chips[0].detail.text().startswith("PNG 480×200")
