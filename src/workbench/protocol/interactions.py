"""The Interaction resource (protocol.md §3.1) and the two create bodies (§3.2).

A create body is either a *model* interaction (``model`` + optional ``generation_config`` /
``cached_content``) or an *agent* interaction (``agent`` + optional ``agent_config``); mixing
the two is an error (``parse_create_body``). Everything else is shared.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from ._base import Bool, Timestamp, WireModel
from .agent_config import AgentConfig
from .environments import EnvironmentSpec
from .errors import ErrorDetail, ProtocolError, parse
from .generation import GenerationConfig, ResponseFormatSpec, SafetySetting, WebhookConfig
from .inputs import InteractionsInput
from .steps import Step
from .tools import Tool
from .usage import Usage


class Status(StrEnum):
    """Known interaction statuses (§7.1); the wire field stays a plain string."""

    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    REQUIRES_ACTION = "requires_action"
    REQUIRES_CONTINUATION = "requires_continuation"
    COMPLETED = "completed"
    INCOMPLETE = "incomplete"
    BUDGET_EXCEEDED = "budget_exceeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


STATUSES = frozenset(s.value for s in Status)
TERMINAL_STATUSES = STATUSES - {Status.QUEUED.value, Status.IN_PROGRESS.value}
"""Statuses after which an interaction never changes again."""


class _RequestEchoes(WireModel):
    """Request fields that both create bodies share and an Interaction echoes back."""

    input: InteractionsInput | None = None
    system_instruction: str | None = None
    tools: list[Tool] | None = None
    previous_interaction_id: str | None = None
    continuation_token: str | None = None
    environment: EnvironmentSpec | None = None
    response_format: ResponseFormatSpec | None = None
    response_mime_type: str | None = None
    response_modalities: list[str] | None = None
    safety_settings: list[SafetySetting] | None = None
    service_tier: str | None = None
    labels: dict[str, str] | None = None
    webhook_config: WebhookConfig | None = None


class Interaction(_RequestEchoes):
    """An interaction as create, get, cancel and the lifecycle events return it.

    ``input`` is present only with ``include_input=true``. ``object`` is ``"interaction"``.
    """

    id: str | None = None
    object: str | None = None
    status: str | None = None
    model: str | None = None
    agent: str | None = None
    created: Timestamp | None = None
    updated: Timestamp | None = None
    steps: list[Step] | None = None
    usage: Usage | None = None
    environment_id: str | None = None
    errors: list[ErrorDetail] | None = None
    agent_config: AgentConfig | None = None
    generation_config: GenerationConfig | None = None
    cached_content: str | None = None


class _CreateCommon(_RequestEchoes):
    """Fields only a request carries."""

    stream: Bool | None = None
    background: Bool | None = None
    store: Bool | None = None


class CreateModelInteraction(_CreateCommon):
    """``POST /{v}/interactions`` for a model."""

    model: str | None = None
    generation_config: GenerationConfig | None = None
    cached_content: str | None = None


class CreateAgentInteraction(_CreateCommon):
    """``POST /{v}/interactions`` for an agent (built-in or saved)."""

    agent: str | None = None
    agent_config: AgentConfig | None = None


CreateInteraction = CreateModelInteraction | CreateAgentInteraction

_MODEL_ONLY = ("model", "generation_config", "cached_content")
_AGENT_ONLY = ("agent", "agent_config")


def parse_create_body(data: Any) -> CreateInteraction:
    """Parse a create body into the model or the agent shape.

    Raises ``ProtocolError`` when the body mixes ``model`` / ``generation_config`` /
    ``cached_content`` with ``agent`` / ``agent_config``, names neither ``model`` nor
    ``agent``, or does not validate. Null fields count as absent (§0 rule 3).
    """
    if not isinstance(data, dict):
        raise ProtocolError("invalid create body: expected a JSON object")
    model_keys = [k for k in _MODEL_ONLY if data.get(k) is not None]
    agent_keys = [k for k in _AGENT_ONLY if data.get(k) is not None]
    if model_keys and agent_keys:
        raise ProtocolError(
            f"invalid create body: {', '.join(model_keys)} cannot be combined with "
            f"{', '.join(agent_keys)}"
        )
    if "agent" in agent_keys:
        return parse(CreateAgentInteraction, data, "create body")
    if "model" in model_keys:
        return parse(CreateModelInteraction, data, "create body")
    raise ProtocolError("invalid create body: either 'model' or 'agent' is required")


def parse_interaction(data: Any, *, lenient: bool = False) -> Interaction:
    """Parse an Interaction; raises ``ProtocolError`` on invalid input.

    ``lenient`` (how clients read responses) fails only when ``data`` is not an object:
    fields, steps and content that do not fit our models are kept raw (``_base.LENIENT``).
    """
    if lenient and not isinstance(data, dict):
        raise ProtocolError(
            f"invalid interaction: expected a JSON object, got {type(data).__name__}"
        )
    return parse(Interaction, data, "interaction", lenient=lenient)
