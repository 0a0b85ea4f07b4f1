"""The passage index: SQLite FTS5 with bm25 ranking, one in-memory database per run.

A real index rather than a scan per question: every passage is inserted once, and each
sub-question is one ``MATCH`` query. Queries are built from the question's content words
(stop words dropped, each word quoted so FTS5 syntax in a question cannot break the query),
OR-ed together so a passage that holds some of them still ranks; bm25 puts the passages that
hold the rarer words, and more of them, first. The ``porter`` tokenizer matches word forms
("founded" / "founding").
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from .chunking import Chunk

_STOP = """a about after all also an and any are as at be been before being between both but by
    can could did do does doing during each few for from had has have how i if in into is it
    its many me more most much my no nor not of on once only or other our out over own same
    she should so some such than that the their them then there these they this those through
    to too under until up very was we were what when where which while who whom why will with
    would you your tell find give list please using used use know much whose"""
STOP_WORDS = frozenset(_STOP.split())
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'-]*")


def query_terms(text: str) -> list[str]:
    """The content words of a question, lower-cased, in order, without repeats."""
    seen: list[str] = []
    for word in WORD.findall(text):
        low = word.lower().strip("'-")
        if low and low not in STOP_WORDS and (len(low) > 1 or low.isdigit()) and low not in seen:
            seen.append(low)
    return seen


def fts_query(text: str) -> str | None:
    """An FTS5 query that matches any content word of ``text`` (None when it has none)."""
    terms = query_terms(text)
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', "") + '"' for t in terms)


@dataclass(frozen=True)
class Hit:
    """A passage found for a query: its index in the run's chunk list and its bm25 score
    (lower is better, as SQLite reports it)."""

    chunk: int
    score: float


class PassageIndex:
    """An FTS5 table of passages; ``search`` answers the best ``limit`` passages."""

    def __init__(self) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(
            "CREATE VIRTUAL TABLE passages USING fts5(body, tokenize='porter unicode61')"
        )
        self.size = 0

    def add(self, chunks: list[Chunk]) -> None:
        """Insert passages; their rowids are their positions in the run's chunk list."""
        rows = [(self.size + i + 1, c.text) for i, c in enumerate(chunks)]
        self._db.executemany("INSERT INTO passages(rowid, body) VALUES (?, ?)", rows)
        self._db.commit()
        self.size += len(rows)

    def search(self, question: str, limit: int = 4, exclude: set[int] | None = None) -> list[Hit]:
        """The passages that best match the question's content words, best first."""
        query = fts_query(question)
        if query is None or self.size == 0:
            return []
        skip = exclude or set()
        rows = self._db.execute(
            "SELECT rowid, bm25(passages) FROM passages WHERE passages MATCH ? "
            "ORDER BY bm25(passages) LIMIT ?",
            (query, limit + len(skip)),
        ).fetchall()
        hits = [Hit(int(rowid) - 1, float(score)) for rowid, score in rows]
        return [h for h in hits if h.chunk not in skip][:limit]

    def close(self) -> None:
        self._db.close()
