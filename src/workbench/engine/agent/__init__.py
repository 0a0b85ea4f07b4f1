"""The managed agent's tools, skills and workspace instructions (not the model loop itself).

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
