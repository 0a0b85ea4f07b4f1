"""Load: waves of concurrent background runs tracked in the real window (issue 7 item 7).

    .venv/bin/python benchmarks/load_runs.py [--waves 5] [--runs 50] [--tokens 150] [--gap 0.02]

Starts the engine (scripted backend, ``--max-background-runs RUNS``) on a fresh app folder,
opens the main window on it (offscreen Qt unless a display is set), launches RUNS background
runs from the Runs dock per wave, waits for all of them to end, and prints one line per wave:
its duration, the GUI thread's longest stall and 99th percentile (a 5 ms timer's lateness),
the engine's resident memory after the wave, and how many runs completed. The baseline is
the same timer's lateness with the window idle, measured first in the same run: each wave's
stalls are also printed as a ratio to it, so a busy machine shows up as a high baseline
rather than as a regression. The targets (longest stall ≤ 50 ms, engine memory flat over
the last three waves: ≤ 3 MiB) are checked here, not in the test suite, because they are
timings (issue 14 item 8). The figures in docs/reliability.md come from this script.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waves", type=int, default=5)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--tokens", type=int, default=150)
    parser.add_argument("--gap", type=float, default=0.02, help="seconds between tokens")
    parser.add_argument("--forget", action="store_true", help="forget each wave's runs after it")
    args = parser.parse_args()

    import qasync
    from PySide6.QtWidgets import QApplication

    from support.load_runs import idle_stalls, run_waves
    from support.rel_engine import Engine
    from workbench.app import prepare, settle_memory
    from workbench.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    sys.set_asyncgen_hooks(
        firstiter=loop._asyncgen_firstiter_hook, finalizer=loop._asyncgen_finalizer_hook
    )
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        os.environ["WORKBENCH_HOME"] = str(home)
        engine = Engine(home / "data" / "engine", "--max-background-runs", str(args.runs))
        engine.start()
        try:
            paths, settings, history, secrets = prepare(backend="scripted")
            window = MainWindow(paths, settings, history, secrets)
            window.show()

            async def go() -> None:
                await window.start()
                conn = window.controller.connection
                assert conn is not None and conn.engine_info is not None
                assert conn.engine_info.pid == engine.pid, "the window did not re-use the engine"
                print(f"engine idle: {engine.rss_kib() / 1024:.1f} MiB", flush=True)
                settle_memory()  # as workbench.app.main does once the window is up
                idle = await idle_stalls()
                print(f"idle baseline: {json.dumps(idle)}", flush=True)
                waves = await run_waves(
                    window,
                    engine,
                    waves=args.waves,
                    runs=args.runs,
                    tokens=args.tokens,
                    gap=args.gap,
                    forget=args.forget,
                )
                for wave in waves:
                    wave.extra["max_vs_idle"] = round(
                        wave.stalls["max_ms"] / max(idle["max_ms"], 0.1), 2
                    )
                    wave.extra["p99_vs_idle"] = round(
                        wave.stalls["p99_ms"] / max(idle["p99_ms"], 0.1), 2
                    )
                    print(json.dumps(wave.__dict__), flush=True)
                worst = max(wave.stalls["max_ms"] for wave in waves)
                rss = [wave.engine_rss_mib for wave in waves]
                growth = rss[-1] - rss[max(0, len(rss) - 4)]
                print(
                    f"longest stall {worst} ms (target ≤ 50: {'met' if worst <= 50 else 'MISSED'});"
                    f" engine RSS over the last three waves +{growth:.1f} MiB"
                    f" (target ≤ 3: {'met' if growth <= 3 else 'MISSED'})",
                    flush=True,
                )
                await window.controller.shutdown(stop_engine=False)

            with loop:
                loop.run_until_complete(go())
            history.close()
        finally:
            engine.stop()
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: PySide6 can crash there, after the figures


if __name__ == "__main__":
    raise SystemExit(main())
