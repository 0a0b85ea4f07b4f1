"""The report: Markdown text, its citation annotations, and the ``report.md`` file.

The harness lays the report out; the model's words only fill the answer and the findings:

    # <question>
    ## Answer            the model's short answer, each sentence with its [n] references
    ## Findings          one section per sub-question, one bullet per cited note
    ## What is missing   sub-questions without an answer, unread sources, budget stops
    ## References        [n] file, page, lines (or URL) for every number used above

Every ``[n]`` in the text is a passage that exists and that the model cited; a sentence
without one ends in "(no source found)". Annotations cover each cited sentence (without its
markers): a ``file_citation`` (file name, ``document_uri``, page, the passage's lines in
``custom_metadata``) or a ``url_citation``. ``start_index`` / ``end_index`` are **byte**
offsets into the UTF-8 text, as the OpenAPI document defines them (end exclusive).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .chunking import Chunk, Document
from .claims import NO_SOURCE, Claim

EXCERPT_CHARS = 1200


@dataclass
class Finding:
    """The checked notes of one sub-question."""

    question: str
    claims: list[Claim] = field(default_factory=list)


@dataclass
class Report:
    """The report text, its annotations and the numbered references."""

    text: str
    annotations: list[dict[str, Any]]
    references: dict[int, str]
    markdown: str


class _Writer:
    """Text built piece by piece, tracking byte offsets for annotations."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.bytes = 0

    def add(self, text: str) -> tuple[int, int]:
        start = self.bytes
        self.parts.append(text)
        self.bytes += len(text.encode("utf-8"))
        return start, self.bytes

    def text(self) -> str:
        return "".join(self.parts)


def where(chunk: Chunk) -> str:
    """``page 2, lines 3–9`` (or ``lines 3–9``) for a passage."""
    lines = (
        f"line {chunk.line_start}"
        if chunk.line_start == chunk.line_end
        else f"lines {chunk.line_start}–{chunk.line_end}"
    )
    return f"page {chunk.page}, {lines}" if chunk.page is not None else lines


def _annotation(doc: Document, chunk: Chunk, number: int, span: tuple[int, int]) -> dict[str, Any]:
    start, end = span
    if doc.kind == "url":
        return {
            "type": "url_citation",
            "url": doc.uri,
            "title": doc.title or doc.name,
            "start_index": start,
            "end_index": end,
        }
    out: dict[str, Any] = {
        "type": "file_citation",
        "file_name": doc.name,
        "document_uri": doc.uri,
        "source": f"[{number}] {doc.name}, {where(chunk)}",
        "start_index": start,
        "end_index": end,
        "custom_metadata": {
            "reference": number,
            "line_start": chunk.line_start,
            "line_end": chunk.line_end,
            "passage": chunk.text[:EXCERPT_CHARS],
        },
    }
    if chunk.page is not None:
        out["page_number"] = chunk.page
    return out


def build(
    question: str,
    answer: list[Claim],
    findings: list[Finding],
    missing: list[str],
    numbers: dict[int, int],
    chunks: list[Chunk],
    documents: list[Document],
) -> Report:
    """Lay out the report. ``numbers`` maps a passage number shown to the model to its chunk.

    Only numbers that are actually cited get a reference; they are renumbered 1, 2, … in
    order of first use so the reference list has no gaps.
    """
    order: dict[int, int] = {}

    def ref(n: int) -> int:
        if n not in order:
            order[n] = len(order) + 1
        return order[n]

    w = _Writer()
    notes: list[dict[str, Any]] = []

    def claim_line(claim: Claim, prefix: str = "") -> None:
        w.add(prefix)
        span = w.add(claim.text)
        if claim.cited:
            refs = [ref(n) for n in claim.cited]
            w.add(" " + "".join(f"[{r}]" for r in refs))
            for n, r in zip(claim.cited, refs, strict=True):
                chunk = chunks[numbers[n]]
                notes.append(_annotation(documents[chunk.doc], chunk, r, span))
        else:
            w.add(" " + NO_SOURCE)

    w.add(f"# {question.strip()}\n\n## Answer\n\n")
    if answer:
        for i, claim in enumerate(answer):
            claim_line(claim, "" if i == 0 else " ")
        w.add("\n")
    else:
        w.add("No answer could be given from the sources.\n")
    w.add("\n## Findings\n")
    for finding in findings:
        w.add(f"\n### {finding.question}\n\n")
        if not finding.claims:
            w.add("Nothing in the sources answers this.\n")
        for claim in finding.claims:
            claim_line(claim, "- ")
            w.add("\n")
    if missing:
        w.add("\n## What is missing\n\n")
        for item in missing:
            w.add(f"- {item}\n")
    references: dict[int, str] = {}
    md_refs: list[str] = []
    if order:
        w.add("\n## References\n\n")
        for n, r in sorted(order.items(), key=lambda kv: kv[1]):
            chunk = chunks[numbers[n]]
            doc = documents[chunk.doc]
            label = doc.uri if doc.kind == "url" else f"{doc.name}, {where(chunk)}"
            references[r] = label
            w.add(f"[{r}] {label}\n")
            md_refs.append(f'[{r}]: <{doc.uri}> "{label}"')
    text = w.text()
    markdown = text + ("\n" + "\n".join(md_refs) + "\n" if md_refs else "")
    return Report(text=text, annotations=notes, references=references, markdown=markdown)


def report_chunks(text: str) -> list[str]:
    """The report cut into paragraphs, streamed as separate text deltas."""
    return [p for p in re.split(r"(?<=\n\n)", text) if p]
