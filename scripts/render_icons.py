"""Render the app icon from its SVG sources into every file packaging and the app need.

Usage: ``.venv/bin/python scripts/render_icons.py`` (offscreen Qt; no other tools needed).

Sources: ``packaging/icons/workbench.svg`` (48 px and up) and ``workbench-small.svg`` (a
simplified drawing for 16, 22 and 24 px). Outputs, all committed:

* ``packaging/icons/hicolor/<N>x<N>/apps/<APP_ID>.png`` for the freedesktop hicolor sizes, and
  ``hicolor/scalable/apps/<APP_ID>.svg``;
* ``packaging/icons/<APP_ID>.ico`` (PNG-compressed entries 16-256 px, Windows Vista and later);
* ``packaging/icons/<APP_ID>.icns`` (PNG entries 16-1024 px, macOS 10.7 and later);
* ``src/workbench/resources/icons/``: the SVG and PNGs the running app loads for its windows.

Both containers are written here by hand: they are a header and a table around PNG files.
"""

from __future__ import annotations

import os
import shutil
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[1]
APP_ID = "io.github.workbench.Workbench"
ICONS = ROOT / "packaging" / "icons"
RESOURCES = ROOT / "src" / "workbench" / "resources" / "icons"
HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
SMALL_MAX = 24
RUNTIME_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types holding PNG data, with their pixel sizes (the @2x types are retina).
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic10", 1024),
    (b"ic11", 32),
    (b"ic12", 64),
    (b"ic13", 256),
    (b"ic14", 512),
)


def render(size: int) -> bytes:
    """PNG bytes of the icon at ``size`` px, from the drawing meant for that size."""
    source = ICONS / ("workbench-small.svg" if size <= SMALL_MAX else "workbench.svg")
    renderer = QSvgRenderer(str(source))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: cannot read {source}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.convertToFormat(QImage.Format.Format_ARGB32).save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def ico(pngs: dict[int, bytes]) -> bytes:
    """An ICO file whose entries are PNG images (a width/height byte of 0 means 256)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    table, blobs = b"", b""
    for size in sizes:
        png = pngs[size]
        dim = 0 if size >= 256 else size
        table += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset)
        blobs += png
        offset += len(png)
    return header + table + blobs


def icns(pngs: dict[int, bytes]) -> bytes:
    """An ICNS file: ``icns`` + total length, then (type, length, PNG) elements, big-endian."""
    body = b"".join(
        kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)
        print(f"wrote {path.relative_to(ROOT)} ({len(data)} bytes)")


def main() -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    sizes = sorted({*HICOLOR_SIZES, *ICO_SIZES, *RUNTIME_SIZES, *(s for _, s in ICNS_TYPES)})
    pngs = {size: render(size) for size in sizes}
    hicolor = ICONS / "hicolor"
    for size in HICOLOR_SIZES:
        write(hicolor / f"{size}x{size}" / "apps" / f"{APP_ID}.png", pngs[size])
    write(hicolor / "scalable" / "apps" / f"{APP_ID}.svg", (ICONS / "workbench.svg").read_bytes())
    write(ICONS / f"{APP_ID}.ico", ico({s: pngs[s] for s in ICO_SIZES}))
    write(ICONS / f"{APP_ID}.icns", icns(pngs))
    for size in RUNTIME_SIZES:
        write(RESOURCES / f"workbench-{size}.png", pngs[size])
    write(RESOURCES / "workbench.svg", (ICONS / "workbench.svg").read_bytes())
    shutil.rmtree(ROOT / "build" / "icons", ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
