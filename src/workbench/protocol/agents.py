"""Saved custom agents (protocol.md §8).

An agent is a named Antigravity setup: instructions, tools and a ``base_environment`` that
every invocation forks. There is no update; clients delete and create again.
"""

from __future__ import annotations

from ._base import WireModel
from .agent_config import AgentConfig
from .environments import EnvironmentSpec
from .tools import Tool

RESERVED_AGENT_ID_PREFIXES = (
    "antigravity-",
    "veo-",
    "omni-",
    "lyria-",
    "imagen-",
    "gemma-",
    "gemini-",
    "google-",
    "youtube-",
    "android-",
    "chrome-",
    "pixel-",
    "waze-",
    "fitbit-",
    "nest-",
    "kaggle-",
)
"""An agent id must not start with any of these, compared case-insensitively."""


def has_reserved_prefix(agent_id: str) -> bool:
    """True when ``agent_id`` starts with a reserved prefix (the engine answers 400)."""
    return agent_id.lower().startswith(RESERVED_AGENT_ID_PREFIXES)


class Agent(WireModel):
    """A saved agent; ``id`` is what interactions pass as ``agent``.

    ``agent_config`` is only ever the antigravity variant, and ``tools`` only the types in
    ``AGENT_TOOL_TAGS``; the models accept anything so that the engine can answer with 400.
    """

    id: str | None = None
    base_agent: str | None = None
    description: str | None = None
    system_instruction: str | None = None
    agent_config: AgentConfig | None = None
    tools: list[Tool] | None = None
    base_environment: EnvironmentSpec | None = None


class ListAgentsResponse(WireModel):
    """One page of ``GET /{v}/agents``."""

    agents: list[Agent] | None = None
    next_page_token: str | None = None
