"""Office documents, HTML and EPUB to Markdown, so a text model can read them.

Libraries: python-docx, openpyxl and python-pptx read the Office Open XML formats (all three
together need little more than lxml), and markdownify (with BeautifulSoup) turns HTML into
Markdown. ``markitdown`` does the same jobs but pulls in pandas and magika (another onnxruntime
model) for spreadsheets and type sniffing: several times the install weight for the same
tables and headings.

Each converter keeps what carries meaning for a reader: headings, paragraphs, list items,
tables (as Markdown tables), slide titles and speaker notes, sheet names. Legacy binary formats
(``.doc``, ``.xls``, ``.ppt``) are refused with the advice to save them in the new format.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterable
from typing import Any
from xml.etree import ElementTree

from .errors import MediaError

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOTX = "application/vnd.openxmlformats-officedocument.wordprocessingml.template"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
HTML = "text/html"
XHTML = "application/xhtml+xml"
EPUB = "application/epub+zip"
LEGACY = {
    "application/msword": ".docx",
    "application/vnd.ms-excel": ".xlsx",
    "application/vnd.ms-powerpoint": ".pptx",
    "application/vnd.oasis.opendocument.text": ".docx",
    "application/vnd.oasis.opendocument.spreadsheet": ".xlsx",
    "application/vnd.oasis.opendocument.presentation": ".pptx",
}
MAX_SHEET_ROWS = 500
MAX_SHEET_COLUMNS = 40


def convertible(mime: str) -> bool:
    """Whether ``to_markdown`` handles this MIME type."""
    return mime in CONVERTERS


def to_markdown(data: bytes, mime: str, label: str) -> str:
    """The document as Markdown.

    Raises:
        MediaError: empty, damaged, a legacy format, or not the type it claims to be.
    """
    if not data:
        raise MediaError(f"{label} is empty (0 bytes)")
    if mime in LEGACY:
        raise MediaError(
            f"{label} is in a format the engine cannot read ({mime}); save it as "
            f"{LEGACY[mime]} or PDF and send it again"
        )
    convert = CONVERTERS.get(mime)
    if convert is None:
        raise MediaError(f"the engine cannot convert {mime} documents")
    if mime in (DOCX, DOTX, XLSX, PPTX, EPUB) and not zipfile.is_zipfile(io.BytesIO(data)):
        raise MediaError(
            f"{label} is not a valid {kind_name(mime)} file (it is not a ZIP package); the file "
            "may be truncated or of another type"
        )
    try:
        text = convert(data)
    except MediaError:
        raise
    except Exception as exc:
        raise MediaError(f"{label} could not be read as {kind_name(mime)} ({exc})") from exc
    return text.strip()


def kind_name(mime: str) -> str:
    """A name for people of the document type (``Word``, ``Excel``, ``PDF`` …)."""
    names = {DOCX: "Word", DOTX: "Word", XLSX: "Excel", PPTX: "PowerPoint", EPUB: "EPUB",
             HTML: "HTML", XHTML: "HTML", "application/pdf": "PDF"}  # fmt: skip
    return names.get(mime, mime)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ").strip()


def markdown_table(rows: Iterable[Iterable[Any]]) -> str:
    """Rows of cells as a Markdown table (the first row is the header)."""
    cells = [[_cell(c) for c in row] for row in rows]
    cells = [row for row in cells if any(row)]
    if not cells:
        return ""
    width = max(len(r) for r in cells)
    cells = [r + [""] * (width - len(r)) for r in cells]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + " --- |" * width]
    lines.extend("| " + " | ".join(r) + " |" for r in cells[1:])
    return "\n".join(lines)


# -- Word -------------------------------------------------------------------------------------


def _docx(data: bytes) -> str:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(data))
    out: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = block.text.strip()
            if not text:
                continue
            style = (block.style.name if block.style is not None else "") or ""
            level = re.match(r"Heading (\d)", style)
            if style == "Title":
                out.append(f"# {text}")
            elif level:
                out.append("#" * min(6, int(level.group(1)) + 1) + " " + text)
            elif "List" in style:
                out.append(f"- {text}")
            else:
                out.append(text)
        elif isinstance(block, Table):
            out.append(markdown_table([cell.text for cell in row.cells] for row in block.rows))
    return "\n\n".join(part for part in out if part)


# -- Excel ------------------------------------------------------------------------------------


def _xlsx(data: bytes) -> str:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    out: list[str] = []
    try:
        for sheet in book.worksheets:
            rows: list[list[Any]] = []
            more = False
            for i, row in enumerate(sheet.iter_rows(values_only=True)):
                if i >= MAX_SHEET_ROWS:
                    more = True
                    break
                rows.append(list(row[:MAX_SHEET_COLUMNS]))
            while rows and not any(c is not None for c in rows[-1]):
                rows.pop()
            table = markdown_table(rows)
            out.append(f"## Sheet: {sheet.title}\n\n{table or '(empty)'}")
            if more:
                out.append(f"(only the first {MAX_SHEET_ROWS} rows are shown)")
    finally:
        book.close()
    return "\n\n".join(out)


# -- PowerPoint -------------------------------------------------------------------------------


def _pptx(data: bytes) -> str:
    import pptx

    deck = pptx.Presentation(io.BytesIO(data))
    out: list[str] = []
    for number, slide in enumerate(deck.slides, start=1):
        title_shape = slide.shapes.title
        title = title_shape.text_frame.text.strip() if title_shape is not None else ""
        parts = [f"## Slide {number}" + (f": {title}" if title else "")]
        for shape in slide.shapes:
            if shape is title_shape:
                continue
            if getattr(shape, "has_table", False) and shape.has_table:
                rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
                parts.append(markdown_table(rows))
            elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
                for para in shape.text_frame.paragraphs:
                    text = "".join(run.text for run in para.runs).strip()
                    if text:
                        parts.append("  " * para.level + f"- {text}")
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                parts.append(f"Speaker notes: {notes.text.strip()}")
        out.append("\n".join(parts))
    return "\n\n".join(out)


# -- HTML and EPUB ----------------------------------------------------------------------------


def html_to_markdown(html: str) -> str:
    """HTML as Markdown (scripts, styles and head dropped)."""
    from bs4 import BeautifulSoup
    from markdownify import MarkdownConverter

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "noscript", "template"]):
        tag.decompose()
    text = MarkdownConverter(heading_style="ATX", bullets="-").convert_soup(soup)
    return re.sub(r"\n{3,}", "\n\n", text)


def _html(data: bytes) -> str:
    from bs4 import UnicodeDammit

    dammit = UnicodeDammit(data, ["utf-8", "windows-1252"])
    return html_to_markdown(dammit.unicode_markup or data.decode("utf-8", "replace"))


_CONTAINER_NS = {"c": "urn:oasis:names:tc:opendocument:xmlns:container"}
_OPF_NS = {"o": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}


def _epub(data: bytes) -> str:
    """The chapters of an EPUB in reading order (its OPF spine), each as Markdown."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        container = ElementTree.fromstring(book.read("META-INF/container.xml"))
        rootfile = container.find(".//c:rootfile", _CONTAINER_NS)
        if rootfile is None:
            raise MediaError("the EPUB has no rootfile in META-INF/container.xml")
        opf_path = str(rootfile.get("full-path"))
        opf = ElementTree.fromstring(book.read(opf_path))
        base = posixpath.dirname(opf_path)
        items = {
            item.get("id"): item.get("href")
            for item in opf.findall(".//o:manifest/o:item", _OPF_NS)
        }
        out: list[str] = []
        title = opf.find(".//dc:title", _OPF_NS)
        if title is not None and (title.text or "").strip():
            out.append(f"# {(title.text or '').strip()}")
        for ref in opf.findall(".//o:spine/o:itemref", _OPF_NS):
            href = items.get(ref.get("idref"))
            if not href:
                continue
            name = posixpath.normpath(posixpath.join(base, href))
            try:
                chapter = book.read(name)
            except KeyError:
                continue
            text = _html(chapter).strip()
            if text:
                out.append(text)
    return "\n\n".join(out)


CONVERTERS: dict[str, Callable[[bytes], str]] = {
    DOCX: _docx,
    DOTX: _docx,
    XLSX: _xlsx,
    PPTX: _pptx,
    HTML: _html,
    XHTML: _html,
    EPUB: _epub,
}
