from __future__ import annotations

import json
from pathlib import Path

from workbench.core.profiles import Profile, check_profile
from workbench.core.settings import Settings, load_settings, save_settings


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
