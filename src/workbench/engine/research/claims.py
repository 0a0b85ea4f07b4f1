"""Claims and their citations, taken from a model's answer and checked by the harness.

The model is asked to end each sentence with ``[n]``. ``split_claims`` cuts an answer into
sentences and the numbers each one names; ``check`` keeps a number only when that passage was
shown to the model for this answer **and** it has something in common with the claim (a
content word or a number), so a citation is never attached to a passage that does not exist
or that plainly says nothing about the claim. A claim left without a citation is reported as
"(no source found)".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .index import query_terms

MARKER = re.compile(r"\[\s*(?:passage\s*|source\s*|note\s*)?(\d+(?:\s*[,;]\s*\d+)*)\s*\]", re.I)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'\[])")
NONE_ANSWER = re.compile(r"^\W*(none|n/a|no answer|unknown)\W*$", re.I)
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
    text = VALUE_MARKER.sub(r"\1", " ".join(answer.split()))
    if not text or NONE_ANSWER.match(text) or re.match(r"^NONE\b", text):
        return []
    pieces = [p for p in SENTENCE_END.split(text) if p.strip()]
    claims: list[Claim] = []
    for piece in pieces:
        lead = re.match(r"^((?:\s*" + MARKER.pattern + r")+)", piece, re.I)
        leading: list[int] = []
        if lead:
            leading = [n for m in MARKER.findall(lead.group(1)) for n in _numbers(m)]
            piece = piece[lead.end() :]
            if claims:  # "[2] Next sentence": the marker belongs to the one before
                claims[-1].cited.extend(leading)
                leading = []
        cited = leading + [n for m in MARKER.findall(piece) for n in _numbers(m)]
        words = " ".join(MARKER.sub(" ", piece).split())
        words = re.sub(r"\s+([.,;:!?])", r"\1", words).strip()
        if not words or NONE_ANSWER.match(words) or not re.search(r"[A-Za-z0-9]", words):
            continue
        claims.append(Claim(words, cited))
    return claims


def _stems(text: str) -> set[str]:
    return {t[:5] for t in query_terms(text)}


def related(claim: str, passage: str) -> bool:
    """Whether a passage shares a content word (by its first five letters) or a number."""
    return bool(_stems(claim) & _stems(passage))


def check(claims: list[Claim], shown: dict[int, str]) -> list[Claim]:
    """The claims with only the citations that exist in ``shown`` and relate to the claim."""
    out: list[Claim] = []
    for claim in claims:
        kept: list[int] = []
        for n in claim.cited:
            if n in shown and n not in kept and related(claim.text, shown[n]):
                kept.append(n)
        out.append(Claim(claim.text, kept))
    return out
