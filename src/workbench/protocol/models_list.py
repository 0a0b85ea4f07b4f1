"""The Gemini ``GET /{v}/models`` listing, which the client uses to offer model names.

Unlike the Interactions API this response is camelCase (it belongs to the classic Gemini
API); the fields mirror ``google.genai.types.Model`` as the Developer API sends them.
"""

from __future__ import annotations

from pydantic import Field

from ._base import Bool, Float, Int, WireModel


class ModelInfo(WireModel):
    """One model; ``name`` is ``models/<id>``, while interactions take the bare id."""

    name: str | None = None
    base_model_id: str | None = Field(default=None, alias="baseModelId")
    version: str | None = None
    display_name: str | None = Field(default=None, alias="displayName")
    description: str | None = None
    input_token_limit: Int | None = Field(default=None, alias="inputTokenLimit")
    output_token_limit: Int | None = Field(default=None, alias="outputTokenLimit")
    supported_generation_methods: list[str] | None = Field(
        default=None, alias="supportedGenerationMethods"
    )
    supported_actions: list[str] | None = Field(default=None, alias="supportedActions")
    temperature: Float | None = None
    max_temperature: Float | None = Field(default=None, alias="maxTemperature")
    top_p: Float | None = Field(default=None, alias="topP")
    top_k: Int | None = Field(default=None, alias="topK")
    thinking: Bool | None = None
    labels: dict[str, str] | None = None

    @property
    def model_id(self) -> str:
        """The bare id to send as ``model`` (``name`` without its ``models/`` prefix)."""
        name = self.name or ""
        return name.removeprefix("models/")


class ListModelsResponse(WireModel):
    """One page of ``GET /{v}/models``."""

    models: list[ModelInfo] | None = None
    next_page_token: str | None = Field(default=None, alias="nextPageToken")
