"""A code run that produced an image shows the image, not a JSON dump of its base64."""

from __future__ import annotations

import base64

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QUrl
from PySide6.QtGui import QColor, QImage, QTextDocument
from pytestqt.qtbot import QtBot

from workbench.ui.transcript import TranscriptView, TurnEntry
from workbench.ui.transcript.render import IMAGE_SCHEME


def _png(width: int, height: int) -> str:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("red"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return base64.b64encode(bytes(data.data())).decode("ascii")


def test_code_result_images_render_as_images(qtbot: QtBot) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    png = _png(7, 5)
    data = {
        "id": "v1_img",
        "status": "completed",
        "steps": [
            {"type": "user_input", "content": [{"type": "text", "text": "plot it"}]},
            {"type": "code_execution_call", "id": "c1", "arguments": {"code": "plot()"}},
            {
                "type": "code_execution_result",
                "call_id": "c1",
                "result": [
                    {"type": "text", "text": "saved"},
                    {"type": "image", "mime_type": "image/png", "data": png},
                ],
            },
        ],
    }
    view.set_entries([TurnEntry("v1_img", [], data, target="Model")])
    view.flush()
    html = view.toHtml()
    assert f"{IMAGE_SCHEME}:" in html
    assert png not in html  # bytes are resolved as a resource, never inlined as text
    name = next(iter(view._state.images))
    image = view.loadResource(
        int(QTextDocument.ResourceType.ImageResource.value), QUrl(f"{IMAGE_SCHEME}:{name}")
    )
    assert isinstance(image, QImage) and (image.width(), image.height()) == (7, 5)
    assert "saved" in view.toPlainText()


def test_alias_targets_say_what_serves_them(qtbot: QtBot) -> None:
    """Against the local engine a Gemini name is an alias: the picker says who answers."""
    from workbench.core.capabilities import capabilities_for
    from workbench.core.profiles import default_profiles, local_profile
    from workbench.protocol import ModelInfo
    from workbench.ui.run_settings_dock import RunSettingsDock

    alias = ModelInfo.model_validate(
        {"name": "models/gemini-2.5-flash", "baseModelId": "qwen2.5-coder-0.5b"}
    )
    dock = RunSettingsDock()
    qtbot.addWidget(dock)
    caps = capabilities_for(local_profile(), [alias], "gemini-2.5-flash")
    assert caps.served_by == "gemini-2.5-flash is served locally by qwen2.5-coder-0.5b."
    dock.apply_capabilities(caps)
    assert "served locally by qwen2.5-coder-0.5b" in dock.target.toolTip()
    cloud = next(p for p in default_profiles() if not p.is_local)
    assert capabilities_for(cloud, [alias], "gemini-2.5-flash").served_by is None
