"""A validated create body: the data ``parse_create`` produces and the checks fill in.

Its own module so that :mod:`.parsing` and the checks it calls
(:mod:`.agent.validation`) both import it, with no cycle between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .backends.base import FunctionSpec

ECHO_FIELDS = (
    "system_instruction",
    "tools",
    "generation_config",
    "agent_config",
    "response_format",
    "response_mime_type",
    "response_modalities",
    "safety_settings",
    "service_tier",
    "cached_content",
    "labels",
    "webhook_config",
    "environment",
)
"""Request fields echoed on the Interaction resource (protocol.md §3.1)."""

ToolChoice = Literal["auto", "any", "none"]


@dataclass
class CreateRequest:
    """A validated create body."""

    body: dict[str, Any]
    model: str | None = None
    agent: str | None = None
    input_present: bool = False
    input_steps: list[dict[str, Any]] = field(default_factory=list)
    stream: bool = False
    background: bool = False
    store: bool = True
    system_instruction: str | None = None
    previous_interaction_id: str | None = None
    continuation_token: str | None = None
    functions: list[FunctionSpec] = field(default_factory=list)
    tool_choice: ToolChoice = "auto"
    allowed_functions: tuple[str, ...] | None = None
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    stop_sequences: tuple[str, ...] = ()
    response_schema: dict[str, Any] | None = None
    json_output: bool = False
    thought_summaries: bool = True
    agent_tools: list[dict[str, Any]] | None = None
    builtin_tools: list[dict[str, Any]] = field(default_factory=list)
    """A model interaction's built-in tool declarations, in request order."""
    max_total_tokens: int | None = None
    cached_content: str | None = None
    thinking_level: str | None = None

    @property
    def echo(self) -> dict[str, Any]:
        """The request fields the Interaction resource echoes back."""
        return {k: self.body[k] for k in ECHO_FIELDS if self.body.get(k) is not None}
