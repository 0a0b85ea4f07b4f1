"""Render the Compare view, the command palette and the shortcut sheet to docs/screenshots/.

Usage: ``.venv/bin/python scripts/screenshots_compare.py [OUT_DIR]`` — offscreen or under
Xvfb; the history is seeded directly (no engine), in a temporary home.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["WORKBENCH_HOME"] = tempfile.mkdtemp(prefix="wb-compare-shots-")

from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from support.history_seed import seed_branches, seed_two_sessions  # noqa: E402
from workbench.app import prepare  # noqa: E402
from workbench.ui.main_window import MainWindow  # noqa: E402

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"


def settle(app: QApplication, rounds: int = 20) -> None:
    for _ in range(rounds):
        app.processEvents()


def save(widget: QWidget, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    widget.grab().save(str(path))
    print(path)


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    paths, settings, history, secrets = prepare(backend="scripted")
    left, right = seed_two_sessions(history)
    seed_branches(history)
    window = MainWindow(paths, settings, history, secrets)
    try:
        window.resize(1340, 820)
        window.show()
        window.controller.refresh_sessions()
        window.controller.open_session(left)
        settle(app)
        compare = window.extras.compare.compare_sessions(left, right)
        assert compare is not None
        compare.resize(1340, 820)
        for panel in (compare.left, compare.right):
            panel.transcript.flush()
        settle(app)
        save(compare, "compare.png")
        compare.tabs.setCurrentIndex(1)
        settle(app)
        save(compare, "compare-settings.png")
        compare.close()
        palette = window.extras.open_palette()
        palette.field.setText("ses")
        settle(app)
        save(palette, "palette.png")
        palette.close()
        sheet = window.extras.show_shortcuts()
        settle(app)
        save(sheet, "shortcuts.png")
        sheet.close()
    finally:
        window.hide()
        history.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
