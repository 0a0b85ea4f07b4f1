"""MediaChip draws thumbnails for pictures and posters, icons for the rest; × asks to remove."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from support.media import png_with_text
from workbench.core.media_info import MediaSummary
from workbench.ui.media_chip import THUMBNAIL, MediaChip


def test_picture_chip_shows_a_thumbnail_and_the_summary(qtbot: QtBot) -> None:
    png = png_with_text(["thumb"], (400, 100))
    chip = MediaChip("pic.png", MediaSummary("image", "PNG 400×100 · 3 KB", poster=png))
    qtbot.addWidget(chip)
    assert chip.has_picture
    pixmap = chip.thumbnail.pixmap()
    assert pixmap.width() == THUMBNAIL and pixmap.height() == THUMBNAIL // 4
    assert chip.detail.text() == "PNG 400×100 · 3 KB" and chip.title.text() == "pic.png"
    with qtbot.waitSignal(chip.remove_requested) as removed:
        qtbot.mouseClick(chip.remove, Qt.MouseButton.LeftButton)
    assert removed.args == ["pic.png"]


def test_audio_chip_shows_an_icon_and_bad_posters_are_ignored(qtbot: QtBot) -> None:
    chip = MediaChip("memo.wav", MediaSummary("audio", "audio 0:12 · 1 MB", poster=b"junk"))
    qtbot.addWidget(chip)
    assert not chip.has_picture and not chip.thumbnail.pixmap().isNull()  # the kind's icon
    assert "audio 0:12" in chip.toolTip()
