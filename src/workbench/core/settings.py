"""User preferences in ``settings.json``: profiles and run defaults, never secrets.

The file is versioned (``version``) and upgraded step by step on load; it is written
atomically (temporary file + rename). A file that cannot be read is moved aside and
replaced by defaults, and the reason is kept in ``Settings.load_problem`` for the UI.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from .atomic import write_atomic
from .profiles import Profile, default_profiles
from .run_settings import RunSettings

log = logging.getLogger(__name__)

SETTINGS_VERSION = 1

# Keys that must never reach the settings file, whatever a caller puts in a profile.
_SECRET_KEYS = frozenset({"api_key", "key", "token", "secret", "password"})


class Settings(BaseModel):
    """Everything the user chose that is not a secret."""

    model_config = ConfigDict(extra="forbid")

    version: int = SETTINGS_VERSION
    active_profile: str = "local"
    profiles: list[Profile] = Field(default_factory=default_profiles)
    run: RunSettings = Field(default_factory=RunSettings)
    stall_seconds: float = Field(default=300.0, gt=0)
    """A running response with no event for this long is shown as stalled (``core/stall.py``;
    ``$WORKBENCH_STALL_SECONDS`` overrides it)."""
    _load_problem: str | None = PrivateAttr(default=None)

    @property
    def load_problem(self) -> str | None:
        return self._load_problem

    def profile(self, profile_id: str | None = None) -> Profile:
        wanted = profile_id or self.active_profile
        for p in self.profiles:
            if p.id == wanted:
                return p
        return self.profiles[0] if self.profiles else default_profiles()[0]

    def upsert_profile(self, profile: Profile) -> None:
        for i, p in enumerate(self.profiles):
            if p.id == profile.id:
                self.profiles[i] = profile
                return
        self.profiles.append(profile)

    def remove_profile(self, profile_id: str) -> None:
        self.profiles = [p for p in self.profiles if p.id != profile_id]
        if not self.profiles:
            self.profiles = default_profiles()
        if self.active_profile == profile_id:
            self.active_profile = self.profiles[0].id


class UiState(BaseModel):
    """How the window was left: kept apart from preferences (``window-state.json``).

    The Qt blobs (``QMainWindow.saveGeometry``/``saveState``, ``QSplitter.saveState``) are
    stored as base64 text; core never interprets them. A file that cannot be read is
    ignored (the window opens with its default layout): losing a layout is harmless, and
    an old Workbench never has to read this file.
    """

    model_config = ConfigDict(extra="ignore")

    version: int = 1
    geometry: str = ""
    dock_state: str = ""
    splitter: str = ""
    last_session: str = ""


def load_ui_state(path: Path) -> UiState:
    try:
        return UiState.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return UiState()
    except (OSError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        log.warning("window state %s unreadable (%s); using the default layout", path, exc)
        return UiState()


def save_ui_state(state: UiState, path: Path) -> None:
    write_atomic(path, state.model_dump_json(indent=2) + "\n")


# version N -> N+1 upgrades of the raw dict
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def _upgrade(raw: dict[str, Any]) -> dict[str, Any]:
    version = int(raw.get("version", 1))
    if version > SETTINGS_VERSION:
        raise ValueError(f"settings written by a newer Workbench (version {version})")
    while version < SETTINGS_VERSION:
        raw = UPGRADES[version](raw)
        version += 1
        raw["version"] = version
    return raw


def load_settings(path: Path) -> Settings:
    """Read settings, upgrading old versions; defaults if there is no file yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        settings = Settings()
        settings._load_problem = f"could not read {path}: {exc.strerror}; using defaults"
        return settings
    try:
        return Settings.model_validate(_upgrade(json.loads(text)))
    except (ValueError, ValidationError) as exc:
        backup = path.with_suffix(".json.broken")
        os.replace(path, backup)
        log.warning("settings file %s unreadable (%s); moved to %s", path, exc, backup)
        settings = Settings()
        settings._load_problem = (
            f"Your settings file could not be read, so defaults are in use. "
            f"The old file was kept as {backup.name}."
        )
        return settings


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k.lower() not in _SECRET_KEYS}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def save_settings(settings: Settings, path: Path) -> None:
    data = _scrub(settings.model_dump(mode="json"))
    write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
