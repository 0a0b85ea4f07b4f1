"""What the history's full-text search indexes, and how a user's words become a query.

The ``search`` table is an FTS5 index over session titles, user input text and model output
text (thought summaries and function names included), so sessions are found offline. Kept
apart from the store so the rules for what is searchable sit in one short place.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any


def fts_query(text: str) -> str:
    """Turn what a user types into a safe FTS5 query: every word must occur, as a prefix."""
    words = re.findall(r"\w+", text, flags=re.UNICODE)
    return " ".join(f'"{w}"*' for w in words)


def _texts_of(value: Any) -> Iterator[str]:
    """Every text a user would search for: ``text`` fields, thought summaries, call names."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("text", "name") and isinstance(item, str):
                yield item
            elif key not in ("data", "signature"):
                yield from _texts_of(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts_of(item)


def search_body(input_blocks: Sequence[Any], data: dict[str, Any]) -> str:
    """The text indexed for one interaction."""
    return "\n".join([*_texts_of(list(input_blocks)), *_texts_of(data.get("steps", []))])
