"""Cut engine streams at random points and check every resumed read (issue 7 item 1).

    .venv/bin/python benchmarks/stream_cuts.py [--cuts 1000] [--workers 6] [--seed 20261107]

Starts the engine (scripted backend), records one long answer, then replays it ``--cuts``
times through a proxy that kills each read at a random byte; the client resumes with
``last_event_id``. Prints the summary (positions of the cuts, how each read finished, lost
and duplicated events, time) as JSON and exits non-zero on any failure. The same campaign
runs in CI as ``tests/reliability/test_rel_streams.py::test_1000_cuts_of_a_replayed_stream``;
this script reruns it with other sizes and seeds (``tests/support/cut_campaign.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuts", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--seed", type=int, default=20261107)
    args = parser.parse_args()

    from support.cut_campaign import run_campaign
    from support.rel_engine import Engine

    with tempfile.TemporaryDirectory() as tmp, Engine(Path(tmp) / "engine") as engine:
        _rec, report = asyncio.run(
            run_campaign(
                engine.url,
                engine.token,
                engine.port,
                cuts=args.cuts,
                workers=args.workers,
                seed=args.seed,
            )
        )
    print(json.dumps(report.summary(), indent=1))
    for failure in report.failures[:20]:
        print("FAILED:", failure, file=sys.stderr)
    return 1 if report.failures or report.lost or report.duplicated else 0


if __name__ == "__main__":
    raise SystemExit(main())
