"""The desktop integration files: valid, consistent with the app id, icons at every size."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from PySide6.QtGui import QImage, QImageReader

from workbench.app import APP_ID, ICON_SIZES
from workbench.core import engine_process

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
DESKTOP = PACKAGING / f"{APP_ID}.desktop"
METAINFO = PACKAGING / f"{APP_ID}.metainfo.xml"
ICONS = PACKAGING / "icons"
HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def _desktop_entry() -> dict[str, str]:
    lines = DESKTOP.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if line and not line.startswith("#"))


def test_ids_agree() -> None:
    assert APP_ID.count(".") >= 2 and APP_ID.split(".")[0] in ("io", "org", "com")
    entry = _desktop_entry()
    assert entry["Icon"] == APP_ID
    assert entry["Exec"].split()[0] == "workbench"
    root = ElementTree.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("icon") == APP_ID
    releases = [r.get("version") for r in root.iter("release")]
    assert releases and releases[0] == _project_version()


def _project_version() -> str:
    for line in (ROOT / "pyproject.toml").read_text(encoding="utf-8").splitlines():
        if line.startswith("version = "):
            return line.split('"')[1]
    raise AssertionError("no version in pyproject.toml")


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils")
def test_desktop_file_is_valid() -> None:
    result = subprocess.run(
        ["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="needs appstream")
def test_metainfo_is_valid() -> None:
    result = subprocess.run(
        ["appstreamcli", "validate", "--no-net", "--explain", str(METAINFO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Nothing above the pedantic level (the id's capital W is a pedantic note, by design).
    problems = [line for line in result.stdout.splitlines() if line[:2] in ("E:", "W:", "I:")]
    assert not problems, result.stdout


def test_hicolor_icons_have_their_sizes() -> None:
    for size in HICOLOR_SIZES:
        image = QImage(str(ICONS / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"))
        assert (image.width(), image.height()) == (size, size)
        assert image.hasAlphaChannel()
    svg = ICONS / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    assert svg.read_bytes() == (ICONS / "workbench.svg").read_bytes()


@pytest.mark.parametrize(
    ("suffix", "sizes"),
    [("ico", {16, 24, 32, 48, 64, 128, 256}), ("icns", {16, 32, 64, 128, 256, 512, 1024})],
)
def test_ico_and_icns_hold_every_size(suffix: str, sizes: set[int]) -> None:
    reader = QImageReader(str(ICONS / f"{APP_ID}.{suffix}"))
    assert reader.canRead(), reader.errorString()
    found = set()
    for index in range(reader.imageCount()):
        assert reader.jumpToImage(index)
        image = reader.read()
        assert not image.isNull(), reader.errorString()
        found.add(image.width())
    assert found == sizes


def test_runtime_icon_resources_exist() -> None:
    folder = ROOT / "src" / "workbench" / "resources" / "icons"
    for size in ICON_SIZES:
        assert QImage(str(folder / f"workbench-{size}.png")).width() == size


def test_app_icon_loads(qapp: object) -> None:
    from workbench.app import app_icon

    icon = app_icon()
    assert not icon.isNull()
    assert {s.width() for s in icon.availableSizes()} >= {16, 32, 256}


def test_engine_command_from_source_and_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    assert engine_process.engine_command() == [sys.executable, "-m", "workbench.engine"]
    assert engine_process.engine_command("/opt/py") == ["/opt/py", "-m", "workbench.engine"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/Workbench/workbench")
    assert engine_process.engine_command() == ["/opt/Workbench/workbench-engine"]
    # An explicit interpreter always wins.
    assert engine_process.engine_command("/opt/py") == ["/opt/py", "-m", "workbench.engine"]
