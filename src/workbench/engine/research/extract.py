"""Extractive notes: the sentences of the passages read that bear on a question.

A 0.5B model given four whole passages copies the wrong one or answers with a bare passage
number. The harness therefore does the reading: it cuts each passage into sentences (a table
row becomes ``header value`` pairs), scores them by the question's content words weighted by
how rare each word is in the sources (``Weights``), and shows the model only the best few,
each numbered by its passage and prefixed with its document's title ("(Kestrel Tools) The
company headquarters are in Lyon."), so a sentence that says "the company" still names it.

``bridge_queries`` is the deterministic second hop of a two-document question: a name the
best sentence adds (the maker "Kestrel Tools" of "the Orion drill") searched together with
the question's words that sentence did not cover ("city", "headquartered").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .chunking import Chunk, Document
from .index import STOP_WORDS, query_terms

SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
NAME = re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*\b")
CELL_SPLIT = re.compile(r"\s*[,;\t]\s*")
TITLE_WORDS = 8
COVERAGE = 1 / 3
PER_PASSAGE = 2
"""Sentences shown from one passage (the rows of one table must not crowd out the rest)."""
TITLE_PREFIX = re.compile(r"^\([^)]*\)\s*")


def stem(word: str) -> str:
    """A crude stem: the first five letters (``founded`` / ``founder``, ``headquarters`` /
    ``headquartered``); numbers stay whole."""
    low = word.lower()
    return low if low[:1].isdigit() else low[:5]


def stems(text: str) -> set[str]:
    """The stems of a text's content words."""
    return {stem(t) for t in query_terms(text)}


@dataclass(frozen=True)
class Sentence:
    """A candidate note: its text as shown, the chunk it comes from, and its score."""

    text: str
    chunk: int
    score: float


class Weights:
    """Inverse document frequency of stems over the run's passages (rare words count more)."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self.total = max(1, len(chunks))
        self.df: dict[str, int] = {}
        for chunk in chunks:
            for s in stems(chunk.text):
                self.df[s] = self.df.get(s, 0) + 1

    def of(self, s: str) -> float:
        return math.log(1 + self.total / (1 + self.df.get(s, 0)))


def title(document: Document) -> str:
    """What a sentence is prefixed with: the document's first line when it is short (a
    Markdown heading, a PDF's title line), else its name."""
    for page in document.pages:
        for line in page.text.splitlines():
            words = line.strip().lstrip("#").strip()
            if words:
                short = len(words.split()) <= TITLE_WORDS and "," not in words
                return words if short else document.name
    return document.name


def _table(lines: list[str]) -> list[str] | None:
    """Rows of a comma- or tab-separated table as ``header value`` pairs (None: not a table)."""
    rows = [CELL_SPLIT.split(ln.strip()) for ln in lines if ln.strip()]
    if len(rows) < 2 or len(rows[0]) < 2 or any(len(r) != len(rows[0]) for r in rows):
        return None
    header = rows[0]
    return [", ".join(f"{h} {v}" for h, v in zip(header, row, strict=True)) for row in rows[1:]]


def _focus(row: str, wanted: set[str]) -> str:
    """A table row cut to its first cell and the columns the question names (``units_2023``
    for "units … in 2023"): the other numbers of the row are what a small model mixes up."""
    cells = row.split(", ")
    scored = [(len(stems(c.split(" ", 1)[0].replace("_", " ")) & wanted), c) for c in cells[1:]]
    best = max((s for s, _ in scored), default=0)
    if best == 0:
        return row
    return ", ".join([cells[0], *(c for s, c in scored if s == best)])


def sentences_of(chunk: Chunk, wanted: set[str]) -> list[str]:
    """The sentences (or focused table rows) of one passage; headings are left out (a title
    says nothing by itself, and every sentence of its document is shown with it)."""
    lines = chunk.text.splitlines()
    rows = _table(lines)
    if rows is not None:
        return [_focus(r, wanted) for r in rows]
    out: list[str] = []
    for line in lines:
        if line.lstrip().startswith("#"):
            continue
        text = line.strip().lstrip("-*• ").strip()
        out.extend(s for s in SENTENCE.split(text) if len(query_terms(s)) >= 1)
    return out


def candidates(
    question: str,
    hits: Iterable[int],
    chunks: Sequence[Chunk],
    documents: Sequence[Document],
    weights: Weights,
    limit: int = 3,
) -> list[Sentence]:
    """The best ``limit`` sentences of the passages ``hits`` for ``question``, best first.

    A sentence (with its document's title) must cover ``COVERAGE`` of the weight of the
    question's words that occur in the sources (a third: one part of a two-part question),
    score at least half the best sentence (``PER_PASSAGE`` at most from one passage), and
    say something the question does not (a word or number of its own).
    """
    wanted = stems(question)
    reachable = sum(weights.of(s) for s in wanted if weights.df.get(s))
    found: list[Sentence] = []
    for i in hits:
        chunk = chunks[i]
        label = title(documents[chunk.doc])
        for text in sentences_of(chunk, wanted):
            own = stems(text.replace("_", " "))
            if not own - wanted - stems(label):
                continue
            common = (own | stems(label)) & wanted
            score = sum(weights.of(s) for s in common)
            if score > 0 and score >= reachable * COVERAGE:
                shown = text if stems(label) <= own else f"({label}) {text}"
                if all(f.text != shown for f in found):
                    found.append(Sentence(shown, i, score))
    found.sort(key=lambda s: -s.score)
    if not found:
        return []
    best = found[0].score
    out: list[Sentence] = []
    for s in found:
        same = sum(1 for o in out if o.chunk == s.chunk)
        if s.score >= best / 2 and same < PER_PASSAGE:
            out.append(s)
    return out[:limit]


def relevance(text: str, question: str, weights: Weights) -> float:
    """How much of the question's (weighted) words a text covers."""
    return sum(weights.of(s) for s in stems(text) & stems(question))


def strip_title(text: str) -> str:
    """A candidate sentence without the ``(title)`` prefix ``candidates`` gave it."""
    return TITLE_PREFIX.sub("", text, count=1)


def names(text: str) -> list[str]:
    """Capitalised names in a text (``Kestrel Tools``, ``Lyon``), without stop words."""
    out: list[str] = []
    for match in NAME.finditer(text):
        words = [w for w in match.group(0).split() if w.lower() not in STOP_WORDS]
        name = " ".join(words)
        if name and name not in out:
            out.append(name)
    return out


def bridge_queries(question: str, best: Sequence[Sentence], limit: int = 1) -> list[str]:
    """Second-hop queries: a name the best sentences add to the question, with the question's
    words those sentences leave uncovered ("Kestrel Tools city headquartered"); only when
    two or more are left (one left word is a paraphrase, not a missing hop)."""
    wanted = stems(question)
    asked = {stem(w) for n in names(question) for w in n.split()}
    out: list[str] = []
    for sentence in best[:2]:
        text = strip_title(sentence.text)
        left = [t for t in query_terms(question) if stem(t) not in stems(text)]
        if len(left) < 2 or not stems(text) & wanted:
            continue
        for name in names(text):
            if {stem(w) for w in name.split()} & asked:
                continue
            query = f"{name} {' '.join(left)}"
            if query not in out:
                out.append(query)
            break
        if len(out) >= limit:
            break
    return out
