"""Agent definitions as folders: round trip, validation, wire bodies, library operations."""

from __future__ import annotations

import base64
import tomllib
from pathlib import Path

import pytest

from workbench.core.agent_check import publish_body, run_body, validate
from workbench.core.agent_library import AgentLibrary
from workbench.core.agents import (
    AgentDefinition,
    AgentError,
    AgentManifest,
    Skill,
    add_data,
    data_size,
    fingerprint,
    load_agent,
    manifest_toml,
    new_skill_text,
    save_agent,
    skill_front_matter,
)


def _defn(tmp_path: Path) -> AgentDefinition:
    lib = AgentLibrary(tmp_path / "agents")
    defn = lib.create("analyst")
    defn.manifest.system_instruction = 'Be careful.\nUse "plots".'
    defn.manifest.model = "gemini-3.7-flash"
    defn.manifest.token_budget = 20000
    defn.skills.append(Skill("charts", new_skill_text("charts", "Make charts")))
    defn.functions = [{"name": "get_weather", "parameters": {"type": "object"}}]
    lib.save(defn)
    return defn


def test_round_trip_and_files_on_disk(tmp_path: Path) -> None:
    defn = _defn(tmp_path)
    folder = tmp_path / "agents" / "analyst"
    assert (folder / "agent.toml").exists()
    assert (folder / "AGENTS.md").read_text().startswith("# analyst")
    assert (folder / "skills" / "charts" / "SKILL.md").exists()
    assert (folder / "functions.json").exists()
    raw = tomllib.loads((folder / "agent.toml").read_text())
    assert raw["system_instruction"] == 'Be careful.\nUse "plots".'
    again = load_agent(folder)
    assert again.manifest == defn.manifest
    assert [s.name for s in again.skills] == ["charts"]
    assert again.functions == defn.functions
    assert validate(again) == []


def test_toml_escapes_anything(tmp_path: Path) -> None:
    for text in ['a\\b"""c', "tab\tand\x01ctrl", 'ends with quote"', "ü ☃\nline"]:
        m = AgentManifest(name="x", system_instruction=text, description=text)
        assert tomllib.loads(manifest_toml(m))["system_instruction"] == text


def test_disk_edits_show_up(tmp_path: Path) -> None:
    defn = _defn(tmp_path)
    assert defn.folder is not None
    before = fingerprint(defn.folder)
    (defn.folder / "data").mkdir()
    (defn.folder / "data" / "extra.csv").write_text("a,b\n1,2\n")
    assert fingerprint(defn.folder) != before
    again = load_agent(defn.folder)
    assert [(d.path, d.target) for d in again.manifest.data] == [("data/extra.csv", "extra.csv")]


def test_validation_errors_per_field(tmp_path: Path) -> None:
    defn = _defn(tmp_path)
    defn.manifest.name = "Bad Name"
    defn.manifest.token_budget = 0
    defn.manifest.builtin_tools = ["google_maps"]
    defn.skills.append(Skill("broken", "no front matter"))
    defn.skills.append(Skill("other", "---\nname: wrong\n---\n"))
    fields = {p.field for p in validate(defn)}
    assert {"name", "token_budget", "tools", "skill:broken", "skill:other"} <= fields
    defn.manifest.name = "gemini-helper"
    assert any(p.field == "name" for p in validate(defn, for_publish=True))
    assert skill_front_matter("---\nname: [\n---\n")[1] is not None


def test_run_and_publish_bodies(tmp_path: Path) -> None:
    defn = _defn(tmp_path)
    png = tmp_path / "dot.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\0\xff")
    add_data(defn, png)
    add_data(defn, None, text="hello", name="notes.txt")
    item = defn.manifest.data[0]
    assert data_size(defn, item) == 10
    body = run_body(defn, "go")
    assert body["agent"] == "antigravity-preview-05-2026"
    assert body["agent_config"] == {
        "type": "antigravity",
        "model": "gemini-3.7-flash",
        "max_total_tokens": "20000",
    }
    assert body["background"] is True and body["store"] is True
    srcs = {s["target"]: s for s in body["environment"]["sources"]}
    assert srcs[".agents/AGENTS.md"]["content"].startswith("# analyst")
    assert "name: charts" in srcs[".agents/skills/charts/SKILL.md"]["content"]
    assert srcs["dot.png"]["encoding"] == "base64"
    assert base64.b64decode(srcs["dot.png"]["content"]) == png.read_bytes()
    assert srcs["notes.txt"]["content"] == "hello"
    assert {"type": "function", "name": "get_weather", "parameters": {"type": "object"}} in body[
        "tools"
    ]
    pub = publish_body(defn, "analyst")
    assert pub["id"] == "analyst"
    assert pub["base_environment"]["sources"] == body["environment"]["sources"]
    assert "environment" not in pub and "input" not in pub


def test_library_duplicate_import_export_delete(tmp_path: Path) -> None:
    _defn(tmp_path)
    lib = AgentLibrary(tmp_path / "agents")
    copy = lib.duplicate("analyst")
    assert copy.name == "analyst-copy"
    out = tmp_path / "out"
    out.mkdir()
    exported = lib.export_folder("analyst", out)
    with pytest.raises(AgentError):
        lib.export_folder("analyst", out)
    imported = lib.import_folder(exported)
    assert imported.name == "analyst-2"
    assert lib.names() == ["analyst", "analyst-2", "analyst-copy"]
    lib.delete("analyst-copy")
    assert "analyst-copy" not in lib.names()
    with pytest.raises(AgentError):
        lib.import_folder(tmp_path)  # no manifest, no AGENTS.md


def test_rename_moves_the_folder(tmp_path: Path) -> None:
    defn = _defn(tmp_path)
    defn.manifest.name = "renamed"
    save_agent(defn, tmp_path / "agents")
    assert (tmp_path / "agents" / "renamed" / "agent.toml").exists()
    assert not (tmp_path / "agents" / "analyst").exists()
