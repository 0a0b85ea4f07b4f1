"""Where Workbench keeps its files.

Every path derives from one root so tests and portable installs can relocate everything:
an explicit ``basedir``, else ``WORKBENCH_HOME``, else the platform's usual folders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "workbench"


@dataclass(frozen=True)
class Paths:
    """The folders Workbench writes to; created on demand by ``ensure``."""

    data_dir: Path
    config_dir: Path
    cache_dir: Path
    log_dir: Path

    @property
    def history_db(self) -> Path:
        return self.data_dir / "history.sqlite3"

    @property
    def engine_dir(self) -> Path:
        """Data directory of the embedded local engine (its database, models, sandboxes)."""
        return self.data_dir / "engine"

    @property
    def agents_dir(self) -> Path:
        return self.data_dir / "agents"

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def ui_state_file(self) -> Path:
        """Window geometry, dock layout and the last open session (not preferences)."""
        return self.config_dir / "window-state.json"

    def ensure(self) -> Paths:
        for folder in (self.data_dir, self.config_dir, self.cache_dir, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def resolve_paths(basedir: str | os.PathLike[str] | None = None) -> Paths:
    """The paths for this process: ``basedir``, else ``$WORKBENCH_HOME``, else platformdirs."""
    root = basedir if basedir is not None else os.environ.get("WORKBENCH_HOME")
    if root:
        base = Path(root).expanduser().resolve()
        return Paths(base / "data", base / "config", base / "cache", base / "logs")
    return Paths(
        Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )
