"""``visualization: auto``: a bar chart of a table the report cites, when matplotlib is there.

The chart is drawn only from a cited passage that is a table (CSV lines or a Markdown table,
as the perception converters write spreadsheets) with a label column and a numeric column, so
it never shows numbers the sources do not hold. matplotlib is optional: without it (the
default install) no chart is made and the report says nothing about one.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import re

from .loop import State

MAX_BARS = 20


def available() -> bool:
    """Whether matplotlib can be imported."""
    return importlib.util.find_spec("matplotlib") is not None


def _rows(text: str) -> list[list[str]]:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if lines and all(ln.strip().startswith("|") for ln in lines):
        rows = [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in lines]
        return [r for r in rows if not all(re.fullmatch(r":?-{2,}:?", c) for c in r if c)]
    if lines and all("," in ln for ln in lines):
        return [r for r in csv.reader(lines)]
    return []


def _number(cell: str) -> float | None:
    try:
        return float(cell.replace(",", "").replace("%", "").strip())
    except ValueError:
        return None


def table(text: str) -> tuple[str, str, list[tuple[str, float]]] | None:
    """(label header, value header, rows) of the first numeric column, or None."""
    rows = _rows(text)
    if len(rows) < 3 or len(rows[0]) < 2:
        return None
    header, body = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
    for col in range(1, len(header)):
        values = [_number(r[col]) for r in body]
        if body and all(v is not None for v in values):
            pairs = [(r[0], float(v or 0.0)) for r, v in zip(body, values, strict=True)]
            return header[0], header[col], pairs[:MAX_BARS]
    return None


def chart_png(state: State) -> bytes | None:
    """A PNG bar chart of the first cited table, or None (no table, or no matplotlib)."""
    if not available():
        return None
    cited = [n for f in state.findings for c in f.claims for n in c.cited]
    for n in cited:
        found = table(state.chunks[state.numbers[n]].text)
        if found is None:
            continue
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt

        label, value, pairs = found
        fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
        ax.bar([p[0] for p in pairs], [p[1] for p in pairs], color="#3b6ea5")
        ax.set_xlabel(label)
        ax.set_ylabel(value)
        ax.set_title(f"{value} by {label}")
        fig.autofmt_xdate()
        buffer = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buffer, format="png")
        plt.close(fig)
        return buffer.getvalue()
    return None
