"""Content blocks (protocol.md §4.2) and text annotations (§4.3).

Content is what users send and models produce: text and the four media kinds. Media bytes
stay base64 strings (``data``) so a parse never re-encodes them; large media is referenced by
``uri`` instead. Both unions are open: an unknown ``type`` parses into an ``Unknown*`` model
that keeps every field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Tag

from ._base import (
    UNKNOWN_TAG,
    Base64,
    Float,
    Int,
    Tagged,
    WireModel,
    fallback_to,
    tag_discriminator,
)

# --- annotations (§4.3) -------------------------------------------------------------------

ANNOTATION_TAGS = frozenset(
    {"url_citation", "file_citation", "place_citation", "speech_metadata", "word_info"}
)


class ReviewSnippet(WireModel):
    """A review quoted by a place citation or a Maps result."""

    review_id: str | None = None
    title: str | None = None
    url: str | None = None


class UrlCitation(Tagged):
    """Cites a web page for ``text[start_index:end_index]`` (byte offsets, end exclusive)."""

    type: Literal["url_citation"] = "url_citation"
    url: str | None = None
    title: str | None = None
    start_index: Int | None = None
    end_index: Int | None = None


class FileCitation(Tagged):
    """Cites a document from file search or retrieval."""

    type: Literal["file_citation"] = "file_citation"
    document_uri: str | None = None
    file_name: str | None = None
    source: str | None = None
    page_number: Int | None = None
    media_id: str | None = None
    custom_metadata: dict[str, Any] | None = None
    start_index: Int | None = None
    end_index: Int | None = None


class PlaceCitation(Tagged):
    """Cites a Google Maps place."""

    type: Literal["place_citation"] = "place_citation"
    place_id: str | None = None
    name: str | None = None
    url: str | None = None
    review_snippets: list[ReviewSnippet] | None = None
    start_index: Int | None = None
    end_index: Int | None = None


class SpeechAnnotation(Tagged):
    """Speaker and style of a span of generated speech text."""

    type: Literal["speech_metadata"] = "speech_metadata"
    speaker: str | None = None
    style: str | None = None
    start_index: Int | None = None
    end_index: Int | None = None


class WordInfo(Tagged):
    """Timing of one transcribed word."""

    type: Literal["word_info"] = "word_info"
    text: str | None = None
    start_offset: str | None = None
    end_offset: str | None = None
    speaker: str | None = None
    start_index: Int | None = None
    end_index: Int | None = None


class UnknownAnnotation(WireModel):
    """An annotation of a type this code does not know; every field is kept."""

    type: str | None = None


Annotation = Annotated[
    Annotated[UrlCitation, Tag("url_citation")]
    | Annotated[FileCitation, Tag("file_citation")]
    | Annotated[PlaceCitation, Tag("place_citation")]
    | Annotated[SpeechAnnotation, Tag("speech_metadata")]
    | Annotated[WordInfo, Tag("word_info")]
    | Annotated[UnknownAnnotation, Tag(UNKNOWN_TAG)],
    Discriminator(tag_discriminator(ANNOTATION_TAGS)),
    fallback_to(UnknownAnnotation),
]
"""A text annotation, tagged by ``type``."""

# --- content blocks (§4.2) ----------------------------------------------------------------

CONTENT_TAGS = frozenset({"text", "image", "audio", "video", "document"})
"""The content ``type`` tags; any other tag in an ``input`` list means the list holds steps."""


class TextContent(Tagged):
    """A block of text, optionally annotated with citations."""

    type: Literal["text"] = "text"
    text: str | None = None
    annotations: list[Annotation] | None = None


class ImageContent(Tagged):
    """An image given inline (base64 ``data``) or by ``uri``."""

    type: Literal["image"] = "image"
    data: Base64 | None = None
    uri: str | None = None
    mime_type: str | None = None
    resolution: str | None = None


class AudioContent(Tagged):
    """Audio given inline or by ``uri``."""

    type: Literal["audio"] = "audio"
    data: Base64 | None = None
    uri: str | None = None
    mime_type: str | None = None
    sample_rate: Int | None = None
    channels: Int | None = None


class StaticMediaProcessing(Tagged):
    """Frame sampling for video understanding (``processing: {"type": "static", ...}``)."""

    type: Literal["static"] = "static"
    fps: Float | None = None
    start_offset: str | None = None
    end_offset: str | None = None


class UnknownMediaProcessing(WireModel):
    """A processing object of an unknown type; every field is kept."""

    type: str | None = None


MediaProcessing = Annotated[
    Annotated[StaticMediaProcessing, Tag("static")]
    | Annotated[UnknownMediaProcessing, Tag(UNKNOWN_TAG)],
    Discriminator(tag_discriminator({"static"})),
    fallback_to(UnknownMediaProcessing),
]

VideoProcessing = str | MediaProcessing
"""``"static"`` / ``"agentic"`` or a processing object."""


class VideoContent(Tagged):
    """A video given inline or by ``uri``; ``name`` is a label the prompt can refer to."""

    type: Literal["video"] = "video"
    data: Base64 | None = None
    uri: str | None = None
    mime_type: str | None = None
    resolution: str | None = None
    name: str | None = None
    processing: VideoProcessing | None = None


class DocumentContent(Tagged):
    """A document (PDF, CSV, office formats) given inline or by ``uri``."""

    type: Literal["document"] = "document"
    data: Base64 | None = None
    uri: str | None = None
    mime_type: str | None = None


class UnknownContent(WireModel):
    """A content block of an unknown type; every field is kept and written back."""

    type: str | None = None


Content = Annotated[
    Annotated[TextContent, Tag("text")]
    | Annotated[ImageContent, Tag("image")]
    | Annotated[AudioContent, Tag("audio")]
    | Annotated[VideoContent, Tag("video")]
    | Annotated[DocumentContent, Tag("document")]
    | Annotated[UnknownContent, Tag(UNKNOWN_TAG)],
    Discriminator(tag_discriminator(CONTENT_TAGS)),
    fallback_to(UnknownContent),
]
"""A content block, tagged by ``type``."""

KnownContent = TextContent | ImageContent | AudioContent | VideoContent | DocumentContent


def content_text(content: list[Any] | None) -> str:
    """The concatenated text of the text blocks in a content list (other blocks are skipped)."""
    parts = [c.text or "" for c in content or [] if isinstance(c, TextContent)]
    return "".join(parts)
