"""Run the real app (``workbench.app.main``) in a subprocess and drive it like a user would.

Not a test module: ``test_rel_gui_crash.py`` starts it with ``python app_driver.py MODE
--basedir DIR``. The app is started through its own ``main()`` (offscreen Qt, scripted local
engine); a timer in this process plays the user and reports progress as JSON lines on stdout.

``launch``: send a chat turn, then a background chat turn and a Runs-dock run; once both
runs are streaming and saved in the history database's ``runs`` table, print ``{"ready": …}`` and keep running (the
test kills this process with SIGKILL).

``observe``: start again on the same folder, wait until every run is re-attached and
finished, print ``{"done": …}`` and quit normally, stopping the engine.

``secrets``: the active profile is "Gemini" (a fake server that requires the key from the
keyring): stream a turn, send one unstreamed, one in the background, one the server refuses
with an error that echoes the key, export the session as Markdown and JSON (to the folder in
``WORKBENCH_TEST_EXPORTS``), log the key on purpose, raise an uncaught exception carrying it,
print ``{"done": …}`` — then die of SIGSEGV, so ``faulthandler`` writes its crash report.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from workbench.app import main
from workbench.core.run_store import RunStore
from workbench.ui.main_window import MainWindow

LONG = "[[tokens: 150, 0.03]]"


def say(**data: Any) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def window() -> MainWindow | None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow):
            return widget
    return None


class Player:
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.step = 0
        self.started = time.monotonic()
        self.reported = False

    def tick(self) -> None:
        w = window()
        if w is None or w.controller.connection is None or not w.composer.ready:
            return  # Send waits until the server's models are listed
        if time.monotonic() - self.started > 80:
            say(error="timed out", step=self.step)
            os._exit(3)
        if self.mode == "launch":
            self.launch(w)
        elif self.mode == "secrets":
            self.secrets(w)
        else:
            self.observe(w)

    def launch(self, w: MainWindow) -> None:
        if self.step < 2 and w.controller.busy:
            return  # the first turn is still answering
        if self.step == 0:
            w.dock.target.setEditText("scripted")
            w.composer.set_text("[[text: a turn before the crash]]")
            w.composer.submit()
            self.step = 1
        elif self.step == 1:
            w.dock.background.setChecked(True)
            w.composer.set_text(LONG + " background chat turn")
            w.composer.submit()
            self.step = 2
        elif self.step == 2:
            runs = w.docks.runs.tracker.records()
            if not runs:
                return
            w.docks.runs.launch(
                {"model": "scripted", "input": LONG + " dock run"}, title="dock run"
            )
            self.step = 3
        elif self.step == 3:
            runs = w.docks.runs.tracker.records()
            stored = {r.id: r for r in RunStore(w.history).load()[1]}
            ready = len(runs) == 2 and all(
                r.tokens >= 10
                and r.status == "in_progress"
                and r.id in stored
                and stored[r.id].last_event_id
                for r in runs
            )
            if ready and not self.reported:
                self.reported = True
                conn = w.controller.connection
                assert conn is not None and conn.engine_info is not None
                say(
                    ready=True,
                    app_pid=os.getpid(),
                    engine_pid=conn.engine_info.pid,
                    runs={r.id: r.interaction_ids for r in runs},
                    sessions=[s.id for s in w.history.sessions()],
                )

    def observe(self, w: MainWindow) -> None:
        runs = w.docks.runs.tracker.records()
        if self.step == 0 and runs and all(r.ended is not None for r in runs):
            self.step = 1
            conn = w.controller.connection
            assert conn is not None and conn.engine_info is not None
            say(
                done=True,
                engine_pid=conn.engine_info.pid,
                runs={
                    r.id: {
                        "interaction_ids": r.interaction_ids,
                        "status": r.status,
                        "tokens": r.tokens,
                        "reconnects": r.reconnects,
                        "error": r.error,
                    }
                    for r in runs
                },
            )
            w._begin_shutdown(stop_engine=True)

    def secrets(self, w: MainWindow) -> None:
        if w.controller.busy:
            return
        prompts = {
            0: ("streamed turn", dict(stream=True, background=False)),
            1: ("unstreamed turn", dict(stream=False, background=False)),
            2: ("background turn", dict(stream=True, background=True)),
            3: ("please fail", dict(stream=True, background=False)),
        }
        if self.step in prompts:
            text, flags = prompts[self.step]
            w.dock.target.setEditText("gemini-3-flash-preview")
            w.dock.stream.setChecked(flags["stream"])
            w.dock.background.setChecked(flags["background"])
            w.composer.set_text(text)
            w.composer.submit()
            self.step += 1
        elif self.step == 4:
            if any(r.running for r in w.docks.runs.tracker.records()):
                return
            exports = Path(os.environ["WORKBENCH_TEST_EXPORTS"])
            w.export_to("md", exports / "session.md")
            w.export_to("json", exports / "session.json")
            key = w.secrets.get("gemini") or ""
            logging.getLogger("workbench.test").warning(
                "about to fail: x-goog-api-key: %s, url ?key=%s, raw %s", key, key, key
            )
            self.step = 5
            raise RuntimeError(f"boom while holding {key}")  # an uncaught error in a Qt slot
        elif self.step == 5:
            self.step = 6
            say(done=True, notice=w.transcript._notice)
            QTimer.singleShot(300, lambda: os.kill(os.getpid(), signal.SIGSEGV))


def run(mode: str, basedir: str) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    player = Player(mode)
    timer = QTimer()
    timer.timeout.connect(player.tick)
    timer.start(50)
    _ = app
    return main(["--basedir", basedir, "--backend", "scripted"])


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1], sys.argv[3] if sys.argv[2] == "--basedir" else ""))
