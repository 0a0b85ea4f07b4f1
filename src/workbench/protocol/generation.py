"""Request knobs: ``generation_config`` (protocol.md §3.3), ``response_format`` (§3.4),
``safety_settings`` and ``webhook_config`` (§3.5).

Every enum-like value is a plain string so new values pass through untouched.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from ._base import UNKNOWN_TAG, Float, Int, Tagged, WireModel, fallback_to, tag_discriminator
from .tools import ToolChoice

# --- speech, video, image, transcription --------------------------------------------------


class SpeechConfig(WireModel):
    """Voice of one speaker."""

    voice: str | None = None
    language: str | None = None
    speaker: str | None = None


class SpeakerConfig(WireModel):
    """Multi-speaker form of ``speech_config``: ``{"speakers": [...]}``."""

    speakers: list[SpeechConfig] | None = None


class VideoConfig(WireModel):
    """Which video task to run (text_to_video, image_to_video, edit, ...)."""

    task: str | None = None


class ImageConfig(WireModel):
    """Deprecated image options; ``response_format`` replaces them."""

    aspect_ratio: str | None = None
    image_size: str | None = None


class VerbatimTranscriptionMode(Tagged):
    """Word-for-word transcription."""

    type: Literal["verbatim"] = "verbatim"
    diarization_mode: str | None = None
    timestamp_granularities: list[str] | None = None


class SmartTranscriptionMode(Tagged):
    """Cleaned-up transcription, optionally guided by a known source text."""

    type: Literal["smart"] = "smart"
    source_text: str | None = None


class UnknownTranscriptionMode(WireModel):
    """A transcription mode object of an unknown type; every field is kept."""

    type: str | None = None


TranscriptionMode = Annotated[
    Annotated[VerbatimTranscriptionMode, Tag("verbatim")]
    | Annotated[SmartTranscriptionMode, Tag("smart")]
    | Annotated[UnknownTranscriptionMode, Tag(UNKNOWN_TAG)],
    Discriminator(tag_discriminator({"verbatim", "smart"})),
    fallback_to(UnknownTranscriptionMode),
]


class TranscriptionConfig(WireModel):
    """Speech-to-text options; ``mode`` is ``"verbatim"``/``"smart"`` or a mode object."""

    language_codes: list[str] | None = None
    language_hints: list[str] | None = None
    adaptation_phrases: list[str] | None = None
    custom_vocabulary: list[str] | None = None
    diarization_mode: str | None = None
    timestamp_granularities: list[str] | None = None
    mode: str | TranscriptionMode | None = None


class GenerationConfig(WireModel):
    """Sampling and output options of a model interaction (never sent with an agent)."""

    max_output_tokens: Int | None = None
    seed: Int | None = None
    stop_sequences: list[str] | None = None
    thinking_level: str | None = None
    thinking_summaries: str | None = None
    tool_choice: ToolChoice | None = None
    speech_config: SpeakerConfig | list[SpeechConfig] | None = None
    video_config: VideoConfig | None = None
    transcription_config: TranscriptionConfig | None = None
    temperature: Float | None = None
    top_p: Float | None = None
    image_config: ImageConfig | None = None


# --- response_format (§3.4) --------------------------------------------------------------


class TextResponseFormat(Tagged):
    """Text output, optionally JSON constrained by a JSON Schema (wire key ``schema``)."""

    type: Literal["text"] = "text"
    mime_type: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")


class ImageResponseFormat(Tagged):
    """Image output options."""

    type: Literal["image"] = "image"
    mime_type: str | None = None
    aspect_ratio: str | None = None
    image_size: str | None = None
    delivery: str | None = None


class AudioResponseFormat(Tagged):
    """Audio output options."""

    type: Literal["audio"] = "audio"
    mime_type: str | None = None
    sample_rate: Int | None = None
    bit_rate: Int | None = None
    delivery: str | None = None


class VideoResponseFormat(Tagged):
    """Video output options."""

    type: Literal["video"] = "video"
    aspect_ratio: str | None = None
    resolution: str | None = None
    duration: str | None = None
    gcs_uri: str | None = None
    delivery: str | None = None


RESPONSE_FORMAT_TAGS = frozenset({"text", "image", "audio", "video"})

ResponseFormat = Annotated[
    Annotated[TextResponseFormat, Tag("text")]
    | Annotated[ImageResponseFormat, Tag("image")]
    | Annotated[AudioResponseFormat, Tag("audio")]
    | Annotated[VideoResponseFormat, Tag("video")]
    | Annotated[dict[str, Any], Tag(UNKNOWN_TAG)],
    Discriminator(tag_discriminator(RESPONSE_FORMAT_TAGS)),
]
"""One response format; anything untagged (old clients send a bare JSON Schema) stays a dict."""

ResponseFormatSpec = ResponseFormat | list[ResponseFormat]
"""``response_format``: one format, or a list when several modalities are wanted."""

# --- safety, webhooks ---------------------------------------------------------------------


class SafetySetting(WireModel):
    """A blocking threshold for one harm category (``type`` is the category, not a tag)."""

    type: str | None = None
    threshold: str | None = None
    method: str | None = None


class WebhookConfig(WireModel):
    """Where to POST lifecycle events of this interaction, and metadata to copy into them."""

    uris: list[str] | None = None
    user_metadata: dict[str, Any] | None = None
