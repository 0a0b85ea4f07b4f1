"""Issue 7 (found by the load test): Qt calls must not leak or over-release references.

PySide6-Essentials 6.12.0 on Python 3.11 releases ``None`` once more than it takes it on every
call of a method that returns nothing (``setEnabled``, ``setVisible``, ``setText`` …). ``None``
is not immortal before Python 3.12, so after some tens of thousands of such calls the app
dies with "Fatal Python error: none_dealloc" — minutes into streaming 50 runs. pyproject.toml
keeps PySide6 below 6.12; this test fails on any version with that bug. It runs in a child
process, since the bug kills the interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtWidgets import QApplication, QLabel, QPushButton
app = QApplication([])
button, label = QPushButton(), QLabel()
counts = lambda: [sys.getrefcount(o) for o in (None, True, False)]
before = counts()
for _ in range(5000):
    button.setEnabled(True)
    label.setVisible(False)
    label.setText("x")
    label.isVisible()
after = counts()
print(*[a - b for a, b in zip(after, before)])
"""


def test_void_and_bool_calls_keep_reference_counts() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    deltas = [int(x) for x in done.stdout.split()]
    assert all(abs(d) < 50 for d in deltas), f"refcount drift of None/True/False: {deltas}"
