"""Transcript rendering at 5, 50 and 500 turns on the real widget (issue 14 item 1).

    .venv/bin/python benchmarks/transcript.py [--sizes 5,50,500] [--deltas 60] [--json]

Each size runs in a fresh subprocess (so memory figures do not pile up) with
``QT_QPA_PLATFORM=offscreen``, on a ``TranscriptView`` shown at 1000×800:

* ``open_ms`` — ``set_entries`` with the whole session, then one repaint and one paint (what
  the user waits for; the rest of the first page is drawn afterwards between events and is
  finished before the streaming starts);
* ``per_delta_ms`` — median cost of one streamed delta of a new turn (``set_live`` with the
  next snapshot, repaint, paint) over ``--deltas`` deltas of 3 words, the answer growing to a
  few hundred words with a code block;
* ``end_of_turn_ms`` — the live turn ends: ``set_live(None)`` and ``set_entries`` with the
  session plus the finished turn (what the chat does), repaint, paint;
* ``rss_mb`` — the process's resident memory after all of that.

Turns are synthetic but shaped like real ones: a question, a folded thought, a tool card and
a Markdown answer with a list and a highlighted code block. The baseline is the smallest
size measured in the same run: the summary prints every figure as a ratio against it. With
``--json`` each size is one JSON object per line with the keys ``turns``, ``per_delta_ms``,
``end_of_turn_ms``, ``open_ms`` and ``rss_mb`` (the summary goes to stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ANSWER = (
    "Here is how it works, step by step.\n\n"
    "1. Read the **file** with `open()`.\n"
    "2. Split it into lines and keep the ones that matter.\n"
    "3. Count them.\n\n"
    "```python\n"
    "def count(path: str) -> int:\n"
    "    with open(path) as f:\n"
    "        return sum(1 for line in f if line.strip())\n"
    "```\n\n"
    "That is all; the function returns the number of non-empty lines in *path*."
)


def _turn_data(n: int, text: str, status: str = "completed") -> dict[str, Any]:
    return {
        "id": f"v1_turn{n}",
        "status": status,
        "steps": [
            {"type": "thought", "summary": [{"type": "text", "text": f"Thinking about {n}."}]},
            {
                "type": "function_call",
                "id": f"c{n}",
                "name": "read_file",
                "arguments": {"path": f"notes/{n}.txt"},
            },
            {"type": "function_result", "call_id": f"c{n}", "result": f"{n} lines"},
            {"type": "model_output", "content": [{"type": "text", "text": text}]},
        ],
        "usage": {"total_input_tokens": 40 + n, "total_output_tokens": 120},
    }


def _user(n: int) -> list[dict[str, Any]]:
    text = f"Question {n}: how do I count the lines of a file in Python?"
    return [{"type": "user_input", "content": [{"type": "text", "text": text}]}]


def _measure(turns: int, deltas: int) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from workbench.ui.transcript import TranscriptView, TurnEntry

    app = QApplication.instance() or QApplication(sys.argv[:1])
    metrics = {"ttft": 0.2, "thought_seconds": [1.5]}

    def entry(n: int, text: str = ANSWER, live: bool = False) -> TurnEntry:
        status = "in_progress" if live else "completed"
        return TurnEntry(
            f"v1_turn{n}", _user(n), _turn_data(n, text, status), metrics, "scripted", live=live
        )

    def paint(view: TranscriptView) -> None:
        view.flush()
        view.viewport().repaint()
        app.processEvents()

    entries = [entry(n) for n in range(turns)]
    # Warm up imports, the Markdown converter and pygments on a throwaway view.
    warm = TranscriptView()
    warm.set_entries(entries[:3])
    paint(warm)
    warm.deleteLater()
    app.processEvents()

    view = TranscriptView()
    view.resize(1000, 800)
    view.show()
    app.processEvents()
    start = time.perf_counter()
    view.set_entries(entries)
    paint(view)
    open_ms = (time.perf_counter() - start) * 1000
    while view.filling:  # the rest of the page is drawn between events, before one types
        app.processEvents()

    words = (ANSWER + "\n\n" + ANSWER).split(" ")
    costs: list[float] = []
    for k in range(1, deltas + 1):
        text = " ".join(words[: min(len(words), 3 * k)])
        live = entry(turns, text, live=True)
        start = time.perf_counter()
        view.set_live(live)
        paint(view)
        costs.append((time.perf_counter() - start) * 1000)

    start = time.perf_counter()
    view.set_live(None)
    view.set_entries([*entries, entry(turns, " ".join(words))])
    paint(view)
    end_ms = (time.perf_counter() - start) * 1000

    rss_kib = 0
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss_kib = int(line.split()[1])
    return {
        "turns": turns,
        "per_delta_ms": round(statistics.median(costs), 2),
        "end_of_turn_ms": round(end_ms, 1),
        "open_ms": round(open_ms, 1),
        "rss_mb": round(rss_kib / 1024, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="5,50,500")
    parser.add_argument("--deltas", type=int, default=60)
    parser.add_argument("--json", action="store_true", help="one JSON object per size")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child: measure one size
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(_measure(args.one, args.deltas)), flush=True)
        os._exit(0)  # skip PySide6 teardown; the figure is out

    rows = []
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    for size in [int(s) for s in args.sizes.split(",")]:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(size), "--deltas", str(args.deltas)],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout
        row = json.loads(out.strip().splitlines()[-1])
        rows.append(row)
        if args.json:
            print(json.dumps(row), flush=True)
    summary = sys.stderr if args.json else sys.stdout
    base = rows[0]
    print("| turns | per delta | end of turn | open | RSS | per-delta ratio |", file=summary)
    print("|---|---|---|---|---|---|", file=summary)
    for row in rows:
        ratio = row["per_delta_ms"] / max(base["per_delta_ms"], 1e-6)
        print(
            f"| {row['turns']} | {row['per_delta_ms']} ms | {row['end_of_turn_ms']} ms "
            f"| {row['open_ms']} ms | {row['rss_mb']} MB | {ratio:.2f}× |",
            file=summary,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
