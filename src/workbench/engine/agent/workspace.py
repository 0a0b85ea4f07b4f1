"""Workspace conventions the agent harness reads (protocol.md §9.5).

* ``.agents/AGENTS.md`` (the same file as ``/.agents/AGENTS.md``) holds extra instructions,
  added to the agent's ``system_instruction`` (additive, never replacing it);
* ``.agents/skills/<name>/SKILL.md`` is a skill: YAML front matter with ``name`` and
  ``description``, then Markdown. The model is offered each skill's name and description;
  the body is loaded only when the model picks it (``load_skill``).

Everything is read through the sandbox path model, so a symlinked ``AGENTS.md`` or skill that
leads outside the environment is ignored. Sizes are capped.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from workbench.engine.sandbox import SandboxError
from workbench.engine.sandbox import files as sfiles

from .tools import AgentTool, ToolContext, ToolOutcome, error

AGENTS_FILE = ".agents/AGENTS.md"
SKILLS_DIR = ".agents/skills"
MAX_INSTRUCTIONS_BYTES = 64 * 1024
MAX_SKILL_BYTES = 256 * 1024
MAX_SKILLS = 100


@dataclass(frozen=True)
class Skill:
    """A skill offered to the model.

    Attributes:
        name: the front matter's ``name`` (the folder name when missing).
        description: the front matter's ``description``.
        path: the wire path of its ``SKILL.md``.
    """

    name: str
    description: str
    path: str


def _read_text(root: Path, wire_path: str, limit: int) -> str | None:
    try:
        data = sfiles.read_bytes(root, wire_path, limit=limit)
    except (SandboxError, OSError):
        return None
    return data.decode("utf-8", "replace")


def load_instructions(root: Path) -> str | None:
    """The text of ``.agents/AGENTS.md`` (stripped), or None when absent or empty."""
    text = _read_text(root, AGENTS_FILE, MAX_INSTRUCTIONS_BYTES)
    return text.strip() or None if text is not None else None


def combine_instructions(system_instruction: str | None, root: Path | None) -> str | None:
    """``system_instruction`` followed by the workspace's AGENTS.md (both optional)."""
    parts = [p for p in (system_instruction, load_instructions(root) if root else None) if p]
    return "\n\n".join(parts) if parts else None


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """(front matter mapping, body) of a Markdown document; ({}, text) without front matter."""
    if not text.startswith("---"):
        return {}, text
    lines = text.splitlines(keepends=True)
    if lines[0].strip() != "---":
        return {}, text
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            head = "".join(lines[1:i])
            body = "".join(lines[i + 1 :])
            try:
                meta = yaml.safe_load(head)
            except yaml.YAMLError:
                return {}, body
            return (meta if isinstance(meta, dict) else {}), body
    return {}, text


def discover_skills(root: Path) -> list[Skill]:
    """The skills under ``.agents/skills/``, sorted by name (at most ``MAX_SKILLS``)."""
    try:
        folders, _ = sfiles.list_files(root, SKILLS_DIR, page_size=1000)
    except (SandboxError, OSError):
        return []
    skills: dict[str, Skill] = {}
    for folder in folders:
        if folder.type != "directory" or not folder.path:
            continue
        skill_path = f"{folder.path}/SKILL.md"
        text = _read_text(root, skill_path, MAX_SKILL_BYTES)
        if text is None:
            continue
        meta, _ = split_front_matter(text)
        name = str(meta.get("name") or os.path.basename(folder.path)).strip()
        description = " ".join(str(meta.get("description") or "").split())
        if name and name not in skills:
            skills[name] = Skill(name=name, description=description, path=skill_path)
        if len(skills) >= MAX_SKILLS:
            break
    return sorted(skills.values(), key=lambda s: s.name)


def load_skill(root: Path, name: str) -> str | None:
    """The Markdown body of the skill called ``name``, or None when there is none."""
    for skill in discover_skills(root):
        if skill.name == name:
            text = _read_text(root, skill.path, MAX_SKILL_BYTES)
            if text is None:
                return None
            return split_front_matter(text)[1].strip()
    return None


def skills_catalog(skills: list[Skill]) -> str:
    """The text offered to the model: one ``- name: description`` line per skill."""
    if not skills:
        return ""
    lines = [f"- {s.name}: {s.description}" if s.description else f"- {s.name}" for s in skills]
    return (
        "Skills available in this environment (call load_skill with a name to read one):\n"
        + "\n".join(lines)
    )


class LoadSkillTool(AgentTool):
    """Lets the model read one skill's instructions by name (an enum of the known names)."""

    def __init__(self, skills: list[Skill]) -> None:
        super().__init__(
            name="load_skill",
            description="Read the full instructions of a skill listed in your instructions.",
            parameters={
                "type": "object",
                "properties": {"name": {"type": "string", "enum": [s.name for s in skills]}},
                "required": ["name"],
                "additionalProperties": False,
            },
        )

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        body = await asyncio.to_thread(load_skill, ctx.root, str(args["name"]))
        if body is None:
            return error(f"There is no skill named {args['name']!r}.")
        return ToolOutcome(text=body, result=body)


def skill_tool(root: Path) -> LoadSkillTool | None:
    """The ``load_skill`` tool for this workspace, or None when it has no skills."""
    skills = discover_skills(root)
    return LoadSkillTool(skills) if skills else None
