"""The agent library: the folders under ``<data dir>/agents``, and publishing (Agents API).

Qt-free. The agents panel lists, creates, duplicates, deletes, imports and exports agent
folders through :class:`AgentLibrary`; :func:`publish` saves a definition as a server-side
agent. There is no update on the Agents API, so a taken id raises :class:`AgentExists` and
the UI offers "recreate" (delete, then create) instead of "edit" (protocol.md §8, §12 #26).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from workbench.client import Client, ConflictError, NotFoundError
from workbench.protocol import has_reserved_prefix

from .agent_check import publish_body, validate
from .agents import (
    INSTRUCTIONS,
    MANIFEST,
    AgentDefinition,
    AgentError,
    AgentManifest,
    Skill,
    load_agent,
    new_skill_text,
    save_agent,
)


class AgentExists(Exception):
    """The server already has an agent with this id (HTTP 409); offer to recreate it."""

    def __init__(self, agent_id: str) -> None:
        super().__init__(
            f"The server already has an agent “{agent_id}”. Agents cannot be updated: "
            "recreate it (delete, then create) to publish this version."
        )
        self.agent_id = agent_id


class AgentLibrary:
    """Agent folders under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST).exists()
        )

    def folder(self, name: str) -> Path:
        return self.root / name

    def load(self, name: str) -> AgentDefinition:
        return load_agent(self.root / name)

    def save(self, defn: AgentDefinition) -> Path:
        return save_agent(defn, self.root)

    def unique_name(self, base: str) -> str:
        taken = set(self.names())
        if base not in taken:
            return base
        n = 2
        while f"{base}-{n}" in taken:
            n += 1
        return f"{base}-{n}"

    def create(self, name: str = "new-agent") -> AgentDefinition:
        name = self.unique_name(name)
        defn = AgentDefinition(
            AgentManifest(name=name),
            instructions=f"# {name}\n\nInstructions every run of this agent reads.\n",
            skills=[],
        )
        self.save(defn)
        return defn

    def add_skill(self, defn: AgentDefinition, name: str = "new-skill") -> Skill:
        taken = {s.name for s in defn.skills}
        final, n = name, 2
        while final in taken:
            final, n = f"{name}-{n}", n + 1
        skill = Skill(final, new_skill_text(final))
        defn.skills.append(skill)
        return skill

    def duplicate(self, name: str) -> AgentDefinition:
        new = self.unique_name(f"{name}-copy")
        shutil.copytree(self.root / name, self.root / new)
        defn = self.load(new)
        defn.manifest.name = new
        defn.manifest.published_id = ""
        self.save(defn)
        return defn

    def delete(self, name: str) -> None:
        shutil.rmtree(self.root / name)

    def import_folder(self, source: Path) -> AgentDefinition:
        """Copy an agent folder in (it needs an agent.toml or an AGENTS.md) and check it."""
        if not (source / MANIFEST).exists() and not (source / INSTRUCTIONS).exists():
            raise AgentError(f"{source} has neither {MANIFEST} nor {INSTRUCTIONS}.")
        defn = load_agent(source)
        name = self.unique_name(defn.name if defn.name else source.name)
        dest = self.root / name
        shutil.copytree(source, dest)
        defn = load_agent(dest)
        defn.manifest.name = name
        self.save(defn)
        return defn

    def export_folder(self, name: str, destination: Path) -> Path:
        """Copy the agent folder to ``destination/<name>`` (must not exist yet)."""
        dest = destination / name
        if dest.exists():
            raise AgentError(f"{dest} already exists.")
        shutil.copytree(self.root / name, dest)
        return dest


async def publish(
    client: Client, defn: AgentDefinition, agent_id: str, *, recreate: bool = False
) -> str:
    """Create the saved agent ``agent_id``; with ``recreate``, delete the old one first."""
    if has_reserved_prefix(agent_id):
        raise ValueError(f"“{agent_id}” starts with a reserved prefix; choose another id")
    problems = [p for p in validate(defn, for_publish=True) if p.field != "name"]
    if problems:
        raise ValueError(f"fix the form first: {problems[0].message}")
    if recreate:
        try:
            await client.agents.delete(agent_id)
        except NotFoundError:
            pass
    try:
        agent = await client.agents.create(publish_body(defn, agent_id))
    except ConflictError:
        raise AgentExists(agent_id) from None
    return agent.id or agent_id
