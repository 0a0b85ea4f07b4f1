"""One ``Perception`` for the module's tests: models shared, cache on disk in a temp folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.engine.perception import Perception


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the speech model is assembled once for the whole session."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def perception(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Perception]:
    p = Perception(models_dir, tmp_path_factory.mktemp("perception-cache"), threads=2)
    yield p
    p.unload()
