"""Stream deltas (protocol.md §6.5): 26 kinds tagged by ``type``, carried by ``step.delta``.

Deltas carry no identity (``id``, ``call_id``): that travels in ``step.start``. Several delta
tags equal step tags (``code_execution_call``, ``function_result``, ...), but the two unions
are separate. ``arguments_delta.arguments`` is a *string* fragment of JSON.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Tag

from ._base import UNKNOWN_TAG, Base64, Bool, Int, Tagged, WireModel, fallback_to, tag_discriminator
from .content import Annotation, Content
from .tool_records import (
    CodeExecutionArguments,
    CodeExecutionOutput,
    GoogleMapsResult,
    GoogleSearchResult,
    QueryArguments,
    ToolResultValue,
    UrlContextArguments,
    UrlContextResult,
)


class TextDelta(Tagged):
    """Text to append to the trailing text block."""

    type: Literal["text"] = "text"
    text: str | None = None


class TextAnnotationDelta(Tagged):
    """Annotations for the current text block."""

    type: Literal["text_annotation_delta"] = "text_annotation_delta"
    annotations: list[Annotation] | None = None


class ImageDelta(Tagged):
    """One complete image block."""

    type: Literal["image"] = "image"
    data: Base64 | None = None
    uri: str | None = None
    mime_type: str | None = None
    resolution: str | None = None


class AudioDelta(Tagged):
    """A chunk of audio, appended to one audio block (``rate`` is deprecated)."""

    type: Literal["audio"] = "audio"
    data: Base64 | None = None
    uri: str | None = None
    mime_type: str | None = None
    sample_rate: Int | None = None
    channels: Int | None = None
    rate: Int | None = None


class VideoDelta(Tagged):
    """One complete video block."""

    type: Literal["video"] = "video"
    data: Base64 | None = None
    uri: str | None = None
    mime_type: str | None = None
    resolution: str | None = None


class DocumentDelta(Tagged):
    """One complete document block."""

    type: Literal["document"] = "document"
    data: Base64 | None = None
    uri: str | None = None
    mime_type: str | None = None


class ThoughtSummaryDelta(Tagged):
    """A block appended to ``thought.summary``."""

    type: Literal["thought_summary"] = "thought_summary"
    content: Content | None = None


class ThoughtSignatureDelta(Tagged):
    """Sets ``thought.signature``."""

    type: Literal["thought_signature"] = "thought_signature"
    signature: Base64 | None = None


class ArgumentsDelta(Tagged):
    """A fragment of a function call's JSON arguments; parse the concatenation at ``step.stop``."""

    type: Literal["arguments_delta"] = "arguments_delta"
    arguments: str | None = None


class FunctionResultDelta(Tagged):
    """Sets the result of a ``function_result`` step."""

    type: Literal["function_result"] = "function_result"
    result: ToolResultValue | None = None
    name: str | None = None
    is_error: Bool | None = None


class CodeExecutionCallDelta(Tagged):
    """Sets the code to run."""

    type: Literal["code_execution_call"] = "code_execution_call"
    arguments: CodeExecutionArguments | None = None
    signature: Base64 | None = None


class CodeExecutionResultDelta(Tagged):
    """Output to append to ``code_execution_result.result`` (text or a list of blocks)."""

    type: Literal["code_execution_result"] = "code_execution_result"
    result: CodeExecutionOutput | None = None
    is_error: Bool | None = None
    signature: Base64 | None = None


class UrlContextCallDelta(Tagged):
    """Sets the URLs to fetch."""

    type: Literal["url_context_call"] = "url_context_call"
    arguments: UrlContextArguments | None = None
    signature: Base64 | None = None


class UrlContextResultDelta(Tagged):
    """Sets the fetch outcomes."""

    type: Literal["url_context_result"] = "url_context_result"
    result: list[UrlContextResult] | None = None
    is_error: Bool | None = None
    signature: Base64 | None = None


class GoogleSearchCallDelta(Tagged):
    """Sets the search queries."""

    type: Literal["google_search_call"] = "google_search_call"
    arguments: QueryArguments | None = None
    search_type: str | None = None
    signature: Base64 | None = None


class GoogleSearchResultDelta(Tagged):
    """Sets the search results."""

    type: Literal["google_search_result"] = "google_search_result"
    result: list[GoogleSearchResult] | None = None
    is_error: Bool | None = None
    signature: Base64 | None = None


class GoogleMapsCallDelta(Tagged):
    """Sets the Maps queries."""

    type: Literal["google_maps_call"] = "google_maps_call"
    arguments: QueryArguments | None = None
    signature: Base64 | None = None


class GoogleMapsResultDelta(Tagged):
    """Sets the Maps results."""

    type: Literal["google_maps_result"] = "google_maps_result"
    result: list[GoogleMapsResult] | None = None
    signature: Base64 | None = None


class FileSearchCallDelta(Tagged):
    """Sets the file search signature."""

    type: Literal["file_search_call"] = "file_search_call"
    signature: Base64 | None = None


class FileSearchResultDelta(Tagged):
    """Sets the file search results."""

    type: Literal["file_search_result"] = "file_search_result"
    result: list[dict[str, Any]] | None = None
    signature: Base64 | None = None


class McpServerToolCallDelta(Tagged):
    """Sets an MCP tool call."""

    type: Literal["mcp_server_tool_call"] = "mcp_server_tool_call"
    name: str | None = None
    server_name: str | None = None
    arguments: dict[str, Any] | None = None


class McpServerToolResultDelta(Tagged):
    """Sets an MCP tool result."""

    type: Literal["mcp_server_tool_result"] = "mcp_server_tool_result"
    result: ToolResultValue | None = None
    name: str | None = None
    server_name: str | None = None


class RetrievalCallDelta(Tagged):
    """Sets the retrieval queries."""

    type: Literal["retrieval_call"] = "retrieval_call"
    arguments: QueryArguments | None = None
    retrieval_type: str | None = None
    signature: Base64 | None = None


class RetrievalResultDelta(Tagged):
    """Sets the retrieval outcome."""

    type: Literal["retrieval_result"] = "retrieval_result"
    is_error: Bool | None = None
    signature: Base64 | None = None


class ProcessingCallDelta(Tagged):
    """Sets the processing signature."""

    type: Literal["processing_call"] = "processing_call"
    signature: Base64 | None = None


class ProcessingResultDelta(Tagged):
    """Sets the processing outcome."""

    type: Literal["processing_result"] = "processing_result"
    signature: Base64 | None = None


class UnknownDelta(WireModel):
    """A delta of an unknown type; every field is kept and written back."""

    type: str | None = None


DELTA_TAGS = frozenset(
    {
        "text",
        "text_annotation_delta",
        "image",
        "audio",
        "video",
        "document",
        "thought_summary",
        "thought_signature",
        "arguments_delta",
        "function_result",
        "code_execution_call",
        "code_execution_result",
        "url_context_call",
        "url_context_result",
        "google_search_call",
        "google_search_result",
        "google_maps_call",
        "google_maps_result",
        "file_search_call",
        "file_search_result",
        "mcp_server_tool_call",
        "mcp_server_tool_result",
        "retrieval_call",
        "retrieval_result",
        "processing_call",
        "processing_result",
    }
)

Delta = Annotated[
    Annotated[TextDelta, Tag("text")]
    | Annotated[TextAnnotationDelta, Tag("text_annotation_delta")]
    | Annotated[ImageDelta, Tag("image")]
    | Annotated[AudioDelta, Tag("audio")]
    | Annotated[VideoDelta, Tag("video")]
    | Annotated[DocumentDelta, Tag("document")]
    | Annotated[ThoughtSummaryDelta, Tag("thought_summary")]
    | Annotated[ThoughtSignatureDelta, Tag("thought_signature")]
    | Annotated[ArgumentsDelta, Tag("arguments_delta")]
    | Annotated[FunctionResultDelta, Tag("function_result")]
    | Annotated[CodeExecutionCallDelta, Tag("code_execution_call")]
    | Annotated[CodeExecutionResultDelta, Tag("code_execution_result")]
    | Annotated[UrlContextCallDelta, Tag("url_context_call")]
    | Annotated[UrlContextResultDelta, Tag("url_context_result")]
    | Annotated[GoogleSearchCallDelta, Tag("google_search_call")]
    | Annotated[GoogleSearchResultDelta, Tag("google_search_result")]
    | Annotated[GoogleMapsCallDelta, Tag("google_maps_call")]
    | Annotated[GoogleMapsResultDelta, Tag("google_maps_result")]
    | Annotated[FileSearchCallDelta, Tag("file_search_call")]
    | Annotated[FileSearchResultDelta, Tag("file_search_result")]
    | Annotated[McpServerToolCallDelta, Tag("mcp_server_tool_call")]
    | Annotated[McpServerToolResultDelta, Tag("mcp_server_tool_result")]
    | Annotated[RetrievalCallDelta, Tag("retrieval_call")]
    | Annotated[RetrievalResultDelta, Tag("retrieval_result")]
    | Annotated[ProcessingCallDelta, Tag("processing_call")]
    | Annotated[ProcessingResultDelta, Tag("processing_result")]
    | Annotated[UnknownDelta, Tag(UNKNOWN_TAG)],
    Discriminator(tag_discriminator(DELTA_TAGS)),
    fallback_to(UnknownDelta),
]
"""The ``delta`` of a ``step.delta`` event, tagged by ``type``."""
