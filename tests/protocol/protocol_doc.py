"""Pull every JSON example out of protocol.md, so tests can round-trip each one.

Sources: fenced ``json`` blocks (a bare ``"key": ...`` fragment is wrapped in braces), the JSON
bodies in ``http``/``text``/SSE blocks (after ``data:``, ``->``, ``<-``, ``200`` or a request
line), inline code spans that hold a whole event, and the ``"input":...`` cells of the §4.1
table. Placeholders for elided containers (``[…]``, ``{…}``) are replaced by empty ones and
the example is marked ``repaired``; a candidate that is still not JSON (e.g. ``"id",…}``) is
returned as skipped (``data is None``), with its section, rather than dropped silently.

Run as a script to regenerate ``data/protocol_examples.json`` from the document.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_DECODER = json.JSONDecoder()
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
_BODY_START = re.compile(
    r"(?:^|data:\s*|->\s*(?:200\s+)?|<-\s*|^(?:GET|POST|PUT|DELETE|PATCH)\s+\S+\s+)(?=\{)", re.M
)
_INLINE_EVENT = re.compile(r"`(\{\"event_type\".*?\})`")
_INPUT_CELL = re.compile(r"`(\"input\":.*?)`\s*\|")


@dataclass(frozen=True)
class Example:
    """One JSON example (``data``) or one that cannot be parsed (``data is None``)."""

    section: str
    text: str
    data: Any = None
    repaired: bool = False

    def as_json(self) -> dict[str, Any]:
        """The fixture form of this example."""
        return {
            "section": self.section,
            "text": self.text,
            "data": self.data,
            "repaired": self.repaired,
        }


def _loads(snippet: str) -> tuple[Any, bool]:
    """Parse a snippet, repairing elided containers; (None, False) when it is not JSON."""
    try:
        return json.loads(snippet), False
    except json.JSONDecodeError:
        pass
    fixed = snippet.replace("[…]", "[]").replace("{…}", "{}")
    try:
        return json.loads(fixed), True
    except json.JSONDecodeError:
        return None, False


def doc_path() -> Path | None:
    """protocol.md: ``$WORKBENCH_PROTOCOL_DOC``, else ``../shared/protocol.md`` next to the repo."""
    candidates = [os.environ.get("WORKBENCH_PROTOCOL_DOC", "")]
    repo = Path(__file__).resolve().parents[2]
    candidates += [str(repo / "docs" / "protocol.md"), str(repo.parent / "shared" / "protocol.md")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def _section_at(text: str, pos: int) -> str:
    heads = [m for m in re.finditer(r"^#{2,3} (\S+)", text, re.M) if m.start() < pos]
    return heads[-1].group(1) if heads else "?"


def _decode_at(text: str, start: int) -> tuple[Any, str]:
    """Decode one JSON object at ``start``; on failure return None and the balanced snippet."""
    try:
        value, end = _DECODER.raw_decode(text, start)
        return value, text[start:end]
    except json.JSONDecodeError:
        depth = 0
        for i in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                return None, text[start : i + 1]
        return None, text[start:]


def extract(text: str) -> list[Example]:
    """All examples of the document, in order of appearance."""
    found: list[tuple[int, Example]] = []
    for fence in _FENCE.finditer(text):
        lang, body, at = fence.group(1), fence.group(2), fence.start(2)
        section = _section_at(text, at)
        if lang == "python":
            continue
        if lang == "json":
            snippet = body.strip()
            wrapped = snippet if snippet.startswith("{") else "{" + snippet + "}"
            found.append((at, Example(section, snippet, *_loads(wrapped))))
            continue
        starts = sorted({m.end() for m in _BODY_START.finditer(body)})
        for start in starts:
            value, snippet = _decode_at(body, start)
            if value is None:
                found.append((at + start, Example(section, snippet, *_loads(snippet))))
            elif isinstance(value, dict):
                found.append((at + start, Example(section, snippet, value)))
    for match in _INLINE_EVENT.finditer(text):
        found.append((match.start(), _inline(text, match)))
    for match in _INPUT_CELL.finditer(text):
        found.append((match.start(), _inline(text, match, wrap=True)))
    found.sort(key=lambda item: item[0])
    return [example for _, example in found]


def _inline(text: str, match: re.Match[str], wrap: bool = False) -> Example:
    snippet = match.group(1)
    data, repaired = _loads("{" + snippet + "}" if wrap else snippet)
    return Example(_section_at(text, match.start()), snippet, data, repaired)


FIXTURE = Path(__file__).with_name("data") / "protocol_examples.json"


def load_fixture() -> list[Example]:
    """The examples as last extracted (used when protocol.md is not available)."""
    return [Example(**item) for item in json.loads(FIXTURE.read_text(encoding="utf-8"))]


if __name__ == "__main__":
    path = doc_path()
    if path is None:
        raise SystemExit("protocol.md not found; set WORKBENCH_PROTOCOL_DOC")
    examples = [e.as_json() for e in extract(path.read_text(encoding="utf-8"))]
    FIXTURE.parent.mkdir(exist_ok=True)
    FIXTURE.write_text(json.dumps(examples, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(examples)} examples to {FIXTURE}")
