"""Fixtures for the agent tools: a workspace root and a tool context."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.engine.agent import ToolContext
from workbench.engine.sandbox import CodeRunner, ExecLimits
from workbench.engine.sandbox.network import DISABLED


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "env" / "root"
    r.mkdir(parents=True)
    return r


@pytest.fixture
def ctx(root: Path) -> ToolContext:
    return ToolContext(
        root=root,
        network=DISABLED,
        runner=CodeRunner(limits=ExecLimits(wall_seconds=10)),
        http_timeout=5.0,
    )
