"""Checking an agent definition and building its wire bodies (protocol.md §3.6, §3.7, §8).

Qt-free. :func:`validate` lists problems per form field (name, base_agent, token_budget,
tools, skill:<name>, data); :func:`run_body` is a background create that runs the
definition inline, :func:`publish_body` the ``POST /agents`` body of a saved agent.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from workbench.protocol import has_reserved_prefix

from .agents import (
    _NAME,
    _SKILL_NAME,
    AGENT_BUILTIN_TOOLS,
    BASE_AGENTS,
    DEFAULT_BASE_AGENT,
    MAX_REQUEST_SOURCE_BYTES,
    MAX_SOURCE_BYTES,
    AgentDefinition,
    Problem,
    Skill,
    data_files,
    skill_front_matter,
)

# --- validation ------------------------------------------------------------------------------


def validate(defn: AgentDefinition, *, for_publish: bool = False) -> list[Problem]:
    """Every problem, keyed by form field (name, model, tools, skills, data, token_budget…)."""
    m = defn.manifest
    problems: list[Problem] = []
    if not _NAME.match(m.name):
        problems.append(
            Problem(
                "name",
                "Use lower-case letters, digits, - or _ (start with a letter or digit), "
                "at most 63 characters.",
            )
        )
    elif for_publish and has_reserved_prefix(m.published_id or m.name):
        problems.append(
            Problem("name", "This id starts with a reserved prefix (gemini-, google-, …).")
        )
    if m.base_agent not in BASE_AGENTS:
        problems.append(Problem("base_agent", f"Only {DEFAULT_BASE_AGENT} can be a base agent."))
    if m.token_budget is not None and m.token_budget <= 0:
        problems.append(Problem("token_budget", "The token budget must be a positive number."))
    for tool in m.builtin_tools:
        if tool not in AGENT_BUILTIN_TOOLS:
            problems.append(Problem("tools", f"Agents cannot use the built-in tool “{tool}”."))
    names = [fn.get("name") for fn in defn.functions]
    if len(set(names)) != len(names):
        problems.append(Problem("tools", "Two functions have the same name."))
    for server in m.mcp_servers:
        if not server.name or not all(c.isalnum() or c in "_-" for c in server.name):
            problems.append(Problem("tools", f"MCP server name “{server.name}” is not valid."))
        if not server.url.startswith(("http://", "https://")):
            problems.append(
                Problem("tools", f"MCP server “{server.name}” needs an http(s):// URL.")
            )
    seen_skills: set[str] = set()
    for skill in defn.skills:
        problems += _skill_problems(skill, seen_skills)
    problems += _data_problems(defn)
    return problems


def _skill_problems(skill: Skill, seen: set[str]) -> list[Problem]:
    front, problem = skill_front_matter(skill.text)
    where = f"skill:{skill.name}"
    if problem:
        return [Problem(where, f"{skill.name}: {problem}.")]
    out: list[Problem] = []
    name = front.get("name")
    if not isinstance(name, str) or not _SKILL_NAME.match(name):
        out.append(Problem(where, f"{skill.name}: name must be lower-case letters, digits and -."))
    elif name != skill.name:
        out.append(Problem(where, f"{skill.name}: the front matter names it “{name}”."))
    if not isinstance(front.get("description"), str) or not front["description"].strip():
        out.append(Problem(where, f"{skill.name}: add a description to the front matter."))
    if skill.name in seen:
        out.append(Problem(where, f"Two skills are named “{skill.name}”."))
    seen.add(skill.name)
    return out


def _data_problems(defn: AgentDefinition) -> list[Problem]:
    out: list[Problem] = []
    targets: set[str] = set()
    total = len(defn.instructions.encode()) + sum(len(s.text.encode()) for s in defn.skills)
    for item in defn.manifest.data:
        target = item.target.strip()
        if not target or target.strip("/") == "":
            out.append(Problem("data", f"{item.path}: give a target path (not /)."))
        elif ".." in Path(target).parts:
            out.append(Problem("data", f"{item.path}: the target may not contain “..”."))
        elif target.lstrip("/") in targets:
            out.append(Problem("data", f"Two data sources go to {target}."))
        targets.add(target.lstrip("/"))
        if defn.folder is not None and not (defn.folder / item.path).exists():
            out.append(Problem("data", f"{item.path} is missing from the agent folder."))
            continue
        for _rel, path in data_files(defn, item):
            size = path.stat().st_size
            total += size
            if size > MAX_SOURCE_BYTES:
                out.append(
                    Problem("data", f"{path.name} is larger than 1 MB, the inline source limit.")
                )
    if total > MAX_REQUEST_SOURCE_BYTES:
        out.append(Problem("data", "All sources together exceed 2 MB, the per-request limit."))
    return out


# --- wire bodies ---------------------------------------------------------------------------


def sources(defn: AgentDefinition) -> list[dict[str, Any]]:
    """The inline environment sources: AGENTS.md, every SKILL.md, every data file."""
    out: list[dict[str, Any]] = []
    if defn.instructions.strip():
        out.append({"type": "inline", "target": ".agents/AGENTS.md", "content": defn.instructions})
    for skill in defn.skills:
        out.append(
            {
                "type": "inline",
                "target": f".agents/skills/{skill.name}/SKILL.md",
                "content": skill.text,
            }
        )
    for item in defn.manifest.data:
        for target, path in data_files(defn, item):
            raw = path.read_bytes()
            try:
                out.append({"type": "inline", "target": target, "content": raw.decode("utf-8")})
            except UnicodeDecodeError:
                out.append(
                    {
                        "type": "inline",
                        "target": target,
                        "content": base64.b64encode(raw).decode("ascii"),
                        "encoding": "base64",
                    }
                )
    return out


def agent_config(defn: AgentDefinition) -> dict[str, Any]:
    cfg: dict[str, Any] = {"type": "antigravity"}
    if defn.manifest.model:
        cfg["model"] = defn.manifest.model
    if defn.manifest.token_budget:
        cfg["max_total_tokens"] = str(defn.manifest.token_budget)  # int64 as string
    return cfg


def run_body(defn: AgentDefinition, prompt: str) -> dict[str, Any]:
    """A background create that runs the definition inline (no saved agent needed)."""
    body: dict[str, Any] = {
        "agent": defn.manifest.base_agent,
        "input": [{"type": "user_input", "content": [{"type": "text", "text": prompt}]}],
        "agent_config": agent_config(defn),
        "environment": {"type": "remote", "sources": sources(defn)},
        "background": True,
        "store": True,
    }
    if defn.manifest.system_instruction.strip():
        body["system_instruction"] = defn.manifest.system_instruction
    tools = defn.tools()
    if tools:
        body["tools"] = tools
    return body


def publish_body(defn: AgentDefinition, agent_id: str) -> dict[str, Any]:
    """``POST /agents``: the definition as a saved agent whose environment every run forks."""
    body: dict[str, Any] = {
        "id": agent_id,
        "base_agent": defn.manifest.base_agent,
        "agent_config": agent_config(defn),
        "base_environment": {"type": "remote", "sources": sources(defn)},
    }
    if defn.manifest.description:
        body["description"] = defn.manifest.description
    if defn.manifest.system_instruction.strip():
        body["system_instruction"] = defn.manifest.system_instruction
    tools = defn.tools()
    if tools:
        body["tools"] = tools
    return body
