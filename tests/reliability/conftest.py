"""Reliability suites (issue 7): the real engine as a subprocess, cut streams, faults, crashes.

Figures and the commands that reproduce them are in docs/reliability.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support.rel_engine import Engine


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[Callable[..., Engine]]:
    """Start engines (scripted backend); every one still running is stopped by its PID."""
    started: list[Engine] = []

    def start(*extra: str, data_dir: Path | None = None, **kwargs: object) -> Engine:
        eng = Engine(data_dir or tmp_path / f"engine{len(started)}", *extra, **kwargs)  # type: ignore[arg-type]
        started.append(eng)
        return eng.start()

    yield start
    for eng in started:
        eng.stop()
