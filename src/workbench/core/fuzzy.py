"""Fuzzy matching for the command palette: "nwses" finds "New session".

Qt-free. A query matches a text when its characters occur in the text in order (case
ignored, spaces in the query ignored). Matches score higher when they start words, run
together and come early; :func:`rank` orders candidates best first, ties by their order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

_WORD_START = 8.0
_RUN = 5.0
_FIRST = 3.0
_GAP = 0.5


def _starts_word(text: str, i: int) -> bool:
    return i == 0 or not text[i - 1].isalnum() or (text[i].isupper() and text[i - 1].islower())


def score(query: str, text: str) -> float | None:
    """How well ``query`` matches ``text`` (higher is better); None when it does not."""
    needle = "".join(query.split()).lower()
    if not needle:
        return 0.0
    lower = text.lower()
    # Best of a greedy pass from every place the first character occurs.
    best: float | None = None
    start = lower.find(needle[0])
    while start >= 0:
        total, pos, last = 0.0, start, -2
        for ch in needle:
            pos = lower.find(ch, pos)
            if pos < 0:
                break
            total += _WORD_START if _starts_word(text, pos) else 0.0
            total += _RUN if pos == last + 1 else -_GAP * min(pos - last - 1, 10)
            last = pos
            pos += 1
        else:
            total += _FIRST if start == 0 else 0.0
            total -= len(text) * 0.01
            best = total if best is None or total > best else best
        start = lower.find(needle[0], start + 1)
    return best


def rank(query: str, items: Sequence[T], key: Callable[[T], str]) -> list[T]:
    """The items that match ``query``, best first (all of them, in order, for no query)."""
    if not query.strip():
        return list(items)
    scored = []
    for n, item in enumerate(items):
        s = score(query, key(item))
        if s is not None:
            scored.append((-s, n, item))
    scored.sort(key=lambda t: (t[0], t[1]))
    return [item for _s, _n, item in scored]
