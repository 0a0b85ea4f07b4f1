"""Claims and their citations, taken from a model's answer and checked by the harness.

The model is asked to end each sentence with ``[n]``. ``split_claims`` cuts an answer into
sentences and the numbers each one names. ``check`` verifies them: a claim's **key values**
(``key_values``: its numbers and names, or failing those its content words, less the words of
the question) must each appear in a passage shown for this answer. The model's own numbers
are kept when their passage holds a key value; key values they leave uncovered are looked up
in the other shown passages (a small model often names the wrong one); a claim whose key
values are not all in the shown passages keeps no citation at all and is reported as
"(no source found)". So a citation is never attached to a passage that does not exist or
that does not contain the figure or name it is cited for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .extract import stem, stems
from .index import STOP_WORDS

MARKER = re.compile(r"\[\s*(?:passage\s*|source\s*|note\s*)?(\d+(?:\s*[,;]\s*\d+)*)\s*\]", re.I)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'\[])")
NONE_ANSWER = re.compile(r"^\W*(none|n/a|no answer|unknown)\W*$", re.I)
ECHO = re.compile(r"^\W*(stage:|notes:|facts:|passages:|using only these)", re.I)
"""The prompt's own scaffolding copied back ("Stage: answer. Notes: …"): not a claim."""
NO_SOURCE = "(no source found)"
VALUE_MARKER = re.compile(r"\[\s*(\d{3,}(?:[.,]\d+)*)\s*\]")
"""``[1971]``: a bracketed number too large to be a passage number is part of the answer."""


@dataclass
class Claim:
    """One sentence of an answer and the passage numbers that back it."""

    text: str
    cited: list[int] = field(default_factory=list)


def _numbers(marker: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", marker)]


def split_claims(answer: str) -> list[Claim]:
    """Sentences of ``answer`` with the ``[n]`` numbers each names (markers removed)."""
    text = VALUE_MARKER.sub(r"\1", answer.strip())
    flat = " ".join(text.split())
    if not flat or NONE_ANSWER.match(flat) or re.match(r"^NONE\b", flat):
        return []
    pieces: list[tuple[bool, str]] = []  # (starts a line, sentence)
    for line in text.splitlines():
        parts = [p for p in SENTENCE_END.split(" ".join(line.split())) if p.strip()]
        pieces.extend((i == 0, p) for i, p in enumerate(parts))
    claims: list[Claim] = []
    for line_start, piece in pieces:
        lead = re.match(r"^((?:\s*" + MARKER.pattern + r")+)", piece, re.I)
        leading: list[int] = []
        if lead:
            leading = [n for m in MARKER.findall(lead.group(1)) for n in _numbers(m)]
            piece = piece[lead.end() :]
            if claims and (not line_start or not piece.strip()):
                # "… [1]. [2] Next sentence": the marker belongs to the one before; a line
                # that starts with "[2]" (a copied list of facts) keeps its own.
                claims[-1].cited.extend(leading)
                leading = []
        cited = leading + [n for m in MARKER.findall(piece) for n in _numbers(m)]
        words = " ".join(MARKER.sub(" ", piece).split())
        words = re.sub(r"\s+([.,;:!?])", r"\1", words).strip()
        words = re.sub(r"^[-*•]\s+", "", words)  # a bullet of a copied list
        if not words or NONE_ANSWER.match(words) or ECHO.match(words):
            continue
        if not re.search(r"[A-Za-z0-9]", words):
            continue
        claims.append(Claim(words, cited))
    return claims


NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
NAME_WORD = re.compile(r"\b[A-Z][A-Za-z'-]*")


def _number(text: str) -> str:
    return text.replace(",", "")


def key_values(claim: str, question: str = "") -> set[str]:
    """What a passage must hold to support ``claim``: its numbers (``1,240`` as ``1240``) and
    capitalised names, less the question's own words; a claim with neither is keyed by its
    content words (by stem) that the question does not use."""
    asked = stems(question)
    keys = {"#" + _number(n) for n in NUMBER.findall(claim)}
    keys |= {
        stem(w) for w in NAME_WORD.findall(claim) if w.lower() not in STOP_WORDS and len(w) > 1
    }
    keys = {k for k in keys if k.lstrip("#") not in asked}
    if not keys:
        keys = stems(claim) - asked
    return keys


def holds(passage: str) -> set[str]:
    """The key values a passage can support (its numbers and word stems)."""
    return {"#" + _number(n) for n in NUMBER.findall(passage)} | stems(passage)


def check(claims: list[Claim], shown: dict[int, str], question: str = "") -> list[Claim]:
    """The claims with verified citations only (see the module docstring)."""
    held = {n: holds(text) for n, text in shown.items()}
    out: list[Claim] = []
    for claim in claims:
        keys = key_values(claim.text, question)
        kept: list[int] = []
        for n in claim.cited:
            if n in held and n not in kept and keys & held[n]:
                kept.append(n)
        covered = set().union(*(held[n] for n in kept)) if kept else set()
        for n, has in held.items():
            if not keys - covered:
                break
            if n not in kept and (keys - covered) & has:
                kept.append(n)
                covered |= has
        out.append(Claim(claim.text, kept if keys and not keys - covered else []))
    return out
