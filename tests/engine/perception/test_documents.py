"""Office, HTML and EPUB documents to Markdown, written by their own libraries in the test."""

from __future__ import annotations

import pytest

from support.media import docx_bytes, epub_bytes, pptx_bytes, xlsx_bytes
from workbench.engine.perception import MediaError
from workbench.engine.perception import documents as d


def test_docx_keeps_headings_paragraphs_and_tables() -> None:
    data = docx_bytes(
        "Quarterly report",
        ["Revenue grew by 12 percent.", "The Berlin office opens in May."],
        [["City", "Staff"], ["Berlin", "42"], ["Lisbon", "17"]],
    )
    text = d.to_markdown(data, d.DOCX, "report.docx")
    assert "## Quarterly report" in text
    assert "Revenue grew by 12 percent." in text
    assert "| City | Staff |" in text and "| Berlin | 42 |" in text
    assert text.index("Berlin office") < text.index("| City")  # body order is kept


def test_xlsx_gives_every_sheet_as_a_table() -> None:
    data = xlsx_bytes(
        {"Invoices": [["Number", "Amount"], [4711, 1234.56], [4712, 99]], "Notes": [["ok"]]}
    )
    text = d.to_markdown(data, d.XLSX, "book.xlsx")
    assert "## Sheet: Invoices" in text and "## Sheet: Notes" in text
    assert "| 4711 | 1234.56 |" in text


def test_pptx_gives_titles_bullets_and_notes() -> None:
    data = pptx_bytes("Launch plan", ["Beta in June", "Release in September"], "Mention pricing")
    text = d.to_markdown(data, d.PPTX, "deck.pptx")
    assert "## Slide 1: Launch plan" in text
    assert "- Beta in June" in text and "- Release in September" in text
    assert "Speaker notes: Mention pricing" in text


def test_html_drops_scripts_and_keeps_structure() -> None:
    html = (
        b"<html><head><title>t</title><script>alert(1)</script></head><body>"
        b"<h2>Opening hours</h2><ul><li>Mon 9-17</li></ul><p>Closed on <b>Sunday</b>.</p></body>"
    )
    text = d.to_markdown(html, d.HTML, "page.html")
    assert "## Opening hours" in text and "- Mon 9-17" in text and "**Sunday**" in text
    assert "alert" not in text


def test_epub_chapters_in_spine_order() -> None:
    data = epub_bytes("A tale", [("Chapter one", "It was dark."), ("Chapter two", "Dawn came.")])
    text = d.to_markdown(data, d.EPUB, "tale.epub")
    assert text.startswith("# A tale")
    assert text.index("It was dark.") < text.index("Dawn came.")
    assert "color" not in text


@pytest.mark.parametrize(
    ("data", "mime", "needle"),
    [
        (b"", d.DOCX, "empty"),
        (b"plain text, not a zip", d.DOCX, "not a valid Word file"),
        (docx_bytes("T", ["x"])[:300], d.DOCX, "not a valid Word file"),
        (b"\xd0\xcf\x11\xe0 old word", "application/msword", "save it as .docx"),
    ],
)
def test_bad_documents_say_what_is_wrong(data: bytes, mime: str, needle: str) -> None:
    with pytest.raises(MediaError, match=needle):
        d.to_markdown(data, mime, "file")
