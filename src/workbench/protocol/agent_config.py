"""``agent_config`` variants (protocol.md §3.6), tagged by ``type``.

Note the hyphens in ``deep-research`` and ``code-mender``. Antigravity's ``max_total_tokens`` is
an int64 and travels as a JSON string.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Tag

from ._base import UNKNOWN_TAG, Bool, Int, Int64, Tagged, WireModel, fallback_to, tag_discriminator


class AntigravityAgentConfig(Tagged):
    """Antigravity: the model it runs and a token budget (``budget_exceeded`` past it)."""

    type: Literal["antigravity"] = "antigravity"
    model: str | None = None
    max_total_tokens: Int64 | None = None


class DeepResearchAgentConfig(Tagged):
    """Deep research: summaries, charts, and plan confirmation (``collaborative_planning``)."""

    type: Literal["deep-research"] = "deep-research"
    thinking_summaries: str | None = None
    visualization: str | None = None
    collaborative_planning: Bool | None = None
    enable_bigquery_tool: Bool | None = None


class DynamicAgentConfig(Tagged):
    """Dynamic agent: no defined fields; anything given is kept."""

    type: Literal["dynamic"] = "dynamic"


class SourceFile(WireModel):
    """A file handed to code-mender inline."""

    path: str | None = None
    content: str | None = None


class SessionConfig(WireModel):
    """Bounds a code-mender session (``max_rounds`` reached ends with ``budget_exceeded``)."""

    max_rounds: Int | None = None


class FindRequest(WireModel):
    """Ask code-mender to find (``scan``) or confirm (``verify``) a vulnerability."""

    mode: str | None = None
    description: str | None = None
    finding_id: str | None = None
    source_files: list[SourceFile] | None = None


class FixRequest(WireModel):
    """Ask code-mender to fix a finding."""

    description: str | None = None
    finding_id: str | None = None
    source_files: list[SourceFile] | None = None


class CodeMenderAgentConfig(Tagged):
    """Code-mender: find or fix vulnerabilities; ``session_id`` groups interactions."""

    type: Literal["code-mender"] = "code-mender"
    model: str | None = None
    session_id: str | None = None
    session_config: SessionConfig | None = None
    find_request: FindRequest | None = None
    fix_request: FixRequest | None = None


class UnknownAgentConfig(WireModel):
    """An agent config of an unknown type; every field is kept."""

    type: str | None = None


AGENT_CONFIG_TAGS = frozenset({"antigravity", "deep-research", "dynamic", "code-mender"})

AgentConfig = Annotated[
    Annotated[AntigravityAgentConfig, Tag("antigravity")]
    | Annotated[DeepResearchAgentConfig, Tag("deep-research")]
    | Annotated[DynamicAgentConfig, Tag("dynamic")]
    | Annotated[CodeMenderAgentConfig, Tag("code-mender")]
    | Annotated[UnknownAgentConfig, Tag(UNKNOWN_TAG)],
    Discriminator(tag_discriminator(AGENT_CONFIG_TAGS)),
    fallback_to(UnknownAgentConfig),
]
"""Agent configuration, tagged by ``type``."""
