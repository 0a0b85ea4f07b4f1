from __future__ import annotations

import json
from pathlib import Path

from workbench.core.profiles import Profile, check_profile
from workbench.core.settings import (
    Settings,
    UiState,
    load_settings,
    load_ui_state,
    save_settings,
    save_ui_state,
)


def test_defaults_have_local_and_gemini(tmp_path: Path) -> None:
    s = load_settings(tmp_path / "settings.json")
    assert s.active_profile == "local"
    assert s.profile().kind == "local"
    gem = s.profile("gemini")
    assert gem.api_version == "v1beta"
    assert gem.needs_key


def test_round_trip_is_atomic_and_has_no_secret(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "settings.json"
    s = Settings()
    s.upsert_profile(Profile(id="other", name="Other", kind="custom", base_url="http://h:1/x/"))
    s.active_profile = "other"
    s.run.target = "m"
    save_settings(s, path)
    again = load_settings(path)
    assert again.profile().base_url == "http://h:1/x"
    assert again.run.target == "m"
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"]  # no temp files left
    assert "key" not in json.loads(path.read_text())["profiles"][0]


def test_broken_file_is_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    s = load_settings(path)
    assert s.load_problem is not None
    assert "defaults" in s.load_problem
    assert (tmp_path / "settings.json.broken").exists()


def test_profile_checks() -> None:
    bad = Profile(id="x", name="", kind="custom", base_url="ftp://x?key=1")
    problems = check_profile(bad)
    assert len(problems) == 2
    assert check_profile(Profile(id="ok", name="ok", kind="custom", base_url="https://a")) == []


def test_remove_active_profile_falls_back(tmp_path: Path) -> None:
    s = Settings()
    s.active_profile = "gemini"
    s.remove_profile("gemini")
    assert s.active_profile == "local"


def test_window_state_round_trip_apart_from_settings(tmp_path: Path) -> None:
    path = tmp_path / "window-state.json"
    assert load_ui_state(path) == UiState()  # first start: nothing saved
    save_ui_state(UiState(geometry="AAEC", dock_state="AwQ=", last_session="s_1"), path)
    again = load_ui_state(path)
    assert (again.geometry, again.dock_state, again.last_session) == ("AAEC", "AwQ=", "s_1")
    assert not (tmp_path / "settings.json").exists()


def test_unreadable_window_state_falls_back_to_the_default_layout(tmp_path: Path) -> None:
    path = tmp_path / "window-state.json"
    path.write_text("{not json", encoding="utf-8")
    assert load_ui_state(path) == UiState()
    path.write_text('{"geometry": 12}', encoding="utf-8")  # not base64 text
    assert load_ui_state(path) == UiState()
    path.write_text('{"geometry": "AA==", "from_a_later_version": true}', encoding="utf-8")
    assert load_ui_state(path).geometry == "AA=="  # unknown keys are ignored
