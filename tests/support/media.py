"""Real media made in the test: pictures with text, spoken WAVs, a narrated slide video, Office files.

Nothing here is a fixture file: each helper writes the medium with the library (or program) a
user's tools would use, so perception is tested on what it will meet.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest


def png_with_text(lines: list[str], size: tuple[int, int] = (900, 320), fmt: str = "PNG") -> bytes:
    """A white picture with ``lines`` in black, one per row (Pillow's bundled font)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=40)
    for i, line in enumerate(lines):
        draw.text((40, 40 + i * 80), line, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def espeak_wav(text: str, tmp: Path) -> bytes:
    """``text`` spoken by espeak-ng as a 22 kHz mono WAV."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/setup.sh installs it)")
    target = tmp / "speech.wav"
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(target), text],
        check=True,
        capture_output=True,
    )
    return target.read_bytes()


def slide_video(slide: list[str], narration_wav: bytes, seconds: float | None = None) -> bytes:
    """An MP4 (H.264 + AAC) showing ``slide`` while the narration plays."""
    import av
    import numpy as np
    from PIL import Image

    with av.open(io.BytesIO(narration_wav)) as source:
        stream = source.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=16000)
        pcm = [f.to_ndarray() for frame in source.decode(stream) for f in resampler.resample(frame)]
    samples = np.concatenate(pcm, axis=1) if pcm else np.zeros((1, 16000), dtype=np.float32)
    duration = seconds or samples.shape[1] / 16000 + 0.5
    picture = Image.open(io.BytesIO(png_with_text(slide, (640, 360)))).convert("RGB")
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=5)
        video.width, video.height, video.pix_fmt = 640, 360, "yuv420p"
        audio = container.add_stream("aac", rate=16000)
        audio.layout = "mono"
        for i in range(int(duration * 5)):
            frame = av.VideoFrame.from_image(picture)
            frame.pts = i
            frame.time_base = Fraction(1, 5)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        chunk = 1024
        for start in range(0, samples.shape[1], chunk):
            piece = np.ascontiguousarray(samples[:, start : start + chunk], dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout="mono")
            frame.sample_rate = 16000
            frame.pts = start
            container.mux(audio.encode(frame))
        container.mux(audio.encode(None))
    return out.getvalue()


def docx_bytes(title: str, paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading(title, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_bytes(sheets: dict[str, list[list[Any]]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pptx_bytes(title: str, bullets: list[str], notes: str = "") -> bytes:
    import pptx

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = title
    body = slide.placeholders[1].text_frame
    body.text = bullets[0]
    for bullet in bullets[1:]:
        body.add_paragraph().text = bullet
    if notes:
        slide.notes_slide.notes_text_frame.text = notes
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def epub_bytes(title: str, chapters: list[tuple[str, str]]) -> bytes:
    """A minimal EPUB 3 (container, OPF with a spine, one XHTML file per chapter)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        book.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        book.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        items = "".join(
            f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>'
            for i in range(len(chapters))
        )
        spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
        book.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:title>{title}</dc:title></metadata><manifest>{items}</manifest>"
            f"<spine>{spine}</spine></package>",
        )
        for i, (heading, body) in enumerate(chapters):
            book.writestr(
                f"OEBPS/c{i}.xhtml",
                '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title>'
                f"<style>p {{color: red}}</style></head><body><h1>{heading}</h1><p>{body}</p>"
                "</body></html>",
            )
    return out.getvalue()


def wav_with_unknown_codec(wav: bytes) -> bytes:
    """``wav`` with its format tag set to one no decoder knows (0x7A7A)."""
    assert wav[:4] == b"RIFF" and wav[12:16] == b"fmt "
    return wav[:20] + b"\x7a\x7a" + wav[22:]


def scanned_pdf(pages: list[list[str]]) -> bytes:
    """A PDF of page pictures only (no text layer), as a scanner makes them."""
    from PIL import Image

    images = [
        Image.open(io.BytesIO(png_with_text(lines, (850, 400)))).convert("RGB") for lines in pages
    ]
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:])
    return out.getvalue()
