from __future__ import annotations

from pathlib import Path

import pytest

from workbench.core.paths import resolve_paths


def test_workbench_home_relocates_everything(_workbench_home: Path) -> None:
    paths = resolve_paths()
    for folder in (paths.data_dir, paths.config_dir, paths.cache_dir, paths.log_dir):
        assert folder.is_relative_to(_workbench_home)
    assert paths.history_db.parent == paths.data_dir
    assert paths.engine_dir.is_relative_to(paths.data_dir)


def test_explicit_basedir_wins(tmp_path: Path) -> None:
    paths = resolve_paths(tmp_path / "portable").ensure()
    assert paths.data_dir == (tmp_path / "portable" / "data").resolve()
    assert paths.data_dir.is_dir() and paths.log_dir.is_dir()


def test_platform_dirs_without_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("WORKBENCH_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    paths = resolve_paths()
    assert paths.data_dir == tmp_path / "xdg-data" / "workbench"
