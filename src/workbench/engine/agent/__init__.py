"""The managed agent: its loop, prompts, checks, tools, skills and definitions.

* ``runs``           — ``AgentRuns``: resolves an agent create into an ``AgentPlan``;
* ``loop``, ``turns`` — the code-action loop and the model turns it is made of;
* ``prompt``         — the system prompts and every message the harness adds;
* ``actions``        — the program (fenced block) a model turn holds;
* ``task``, ``verify``, ``files_view`` — what the task asks for, the harness's checks of
  the work, the workspace listing and the files a program changed;
* ``history``        — an agent timeline as chat messages;
* ``validation``, ``definitions`` — agent-only request checks, and the Agents API;
* ``tools``          — ``AgentTool``, ``ToolContext``, ``ToolOutcome``, ``ToolRegistry``;
* ``registry``       — ``build_registry(tools)`` from the request's tool declarations;
* ``tools_sandbox``  — ``code_execution`` and the file tools;
* ``tools_web``      — ``url_context`` and ``google_search``;
* ``tools_mcp``      — ``mcp_server`` tools over streamable HTTP;
* ``workspace``      — ``.agents/AGENTS.md`` instructions and ``.agents/skills``.
"""

from .registry import ClientFunctionTool, build_registry
from .tools import AgentTool, ToolContext, ToolOutcome, ToolRegistry, shorten
from .workspace import (
    LoadSkillTool,
    Skill,
    combine_instructions,
    discover_skills,
    load_instructions,
    load_skill,
    skill_tool,
    skills_catalog,
)

__all__ = [
    "AgentTool",
    "ClientFunctionTool",
    "LoadSkillTool",
    "Skill",
    "ToolContext",
    "ToolOutcome",
    "ToolRegistry",
    "build_registry",
    "combine_instructions",
    "discover_skills",
    "load_instructions",
    "load_skill",
    "shorten",
    "skill_tool",
    "skills_catalog",
]
