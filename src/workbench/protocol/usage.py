"""Token usage (protocol.md §3.9), found on interactions, status updates and step events."""

from __future__ import annotations

from ._base import Int, WireModel


class ModalityTokens(WireModel):
    """Tokens of one modality (text, image, audio, video, document)."""

    modality: str | None = None
    tokens: Int | None = None


class GroundingToolCount(WireModel):
    """How often a grounding tool (google_search, google_maps, retrieval) ran."""

    type: str | None = None
    count: Int | None = None


class Usage(WireModel):
    """Token counts; every field is optional."""

    total_input_tokens: Int | None = None
    total_output_tokens: Int | None = None
    total_thought_tokens: Int | None = None
    total_cached_tokens: Int | None = None
    total_tool_use_tokens: Int | None = None
    total_tokens: Int | None = None
    initial_input_tokens: Int | None = None
    input_tokens_by_modality: list[ModalityTokens] | None = None
    output_tokens_by_modality: list[ModalityTokens] | None = None
    cached_tokens_by_modality: list[ModalityTokens] | None = None
    tool_use_tokens_by_modality: list[ModalityTokens] | None = None
    grounding_tool_count: list[GroundingToolCount] | None = None
