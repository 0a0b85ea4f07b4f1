"""Steps (protocol.md §4.4): the timeline of an interaction, 21 kinds tagged by ``type``.

Every ``*_call`` step carries ``id`` and its ``*_result`` step carries the same value as
``call_id``. Signatures are opaque base64 strings that must be echoed back unchanged, so they
stay ``str``. The argument and result records are shared with the stream deltas (§6.5), so
they live in ``tool_records`` (and are importable from here too).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Tag

from ._base import UNKNOWN_TAG, Base64, Bool, Tagged, WireModel, fallback_to, tag_discriminator
from .content import Content, TextContent
from .errors import ErrorDetail
from .tool_records import (
    CodeExecutionArguments,
    CodeExecutionOutput,
    GoogleMapsResult,
    GoogleSearchResult,
    MapsPlace,
    QueryArguments,
    ToolResultValue,
    UrlContextArguments,
    UrlContextResult,
    code_output_text,
    join_code_output,
)

__all__ = [
    "STEP_TAGS",
    "CodeExecutionArguments",
    "CodeExecutionCallStep",
    "CodeExecutionOutput",
    "CodeExecutionResultStep",
    "FileSearchCallStep",
    "FileSearchResultStep",
    "FunctionCallStep",
    "FunctionResultStep",
    "GoogleMapsCallStep",
    "GoogleMapsResult",
    "GoogleMapsResultStep",
    "GoogleSearchCallStep",
    "GoogleSearchResult",
    "GoogleSearchResultStep",
    "MapsPlace",
    "McpServerToolCallStep",
    "McpServerToolResultStep",
    "ModelOutputStep",
    "ProcessingCallStep",
    "ProcessingResultStep",
    "QueryArguments",
    "RetrievalCallStep",
    "RetrievalResultStep",
    "Step",
    "ThoughtStep",
    "ToolResultValue",
    "UnknownStep",
    "UrlContextArguments",
    "UrlContextCallStep",
    "UrlContextResult",
    "UrlContextResultStep",
    "UserInputStep",
    "code_output_text",
    "join_code_output",
    "output_text",
    "pending_function_calls",
]

# --- the 21 steps ------------------------------------------------------------------------


class UserInputStep(Tagged):
    """What the user sent."""

    type: Literal["user_input"] = "user_input"
    content: list[Content] | None = None


class ModelOutputStep(Tagged):
    """What the model produced; ``error`` (a google.rpc.Status) when this output failed."""

    type: Literal["model_output"] = "model_output"
    content: list[Content] | None = None
    error: ErrorDetail | None = None


class ThoughtStep(Tagged):
    """Model reasoning: an opaque ``signature`` to echo back and an optional summary."""

    type: Literal["thought"] = "thought"
    signature: Base64 | None = None
    summary: list[Content] | None = None


class FunctionCallStep(Tagged):
    """A call of a client-side function; the client answers with a ``function_result``."""

    type: Literal["function_call"] = "function_call"
    id: str | None = None
    name: str | None = None
    arguments: dict[str, Any] | None = None


class FunctionResultStep(Tagged):
    """The client's answer to a ``function_call`` with the same ``call_id``."""

    type: Literal["function_result"] = "function_result"
    call_id: str | None = None
    name: str | None = None
    result: ToolResultValue | None = None
    is_error: Bool | None = None


class CodeExecutionCallStep(Tagged):
    """Server-side code execution started."""

    type: Literal["code_execution_call"] = "code_execution_call"
    id: str | None = None
    arguments: CodeExecutionArguments | None = None
    signature: Base64 | None = None


class CodeExecutionResultStep(Tagged):
    """Output of server-side code execution."""

    type: Literal["code_execution_result"] = "code_execution_result"
    call_id: str | None = None
    result: CodeExecutionOutput | None = None
    is_error: Bool | None = None
    signature: Base64 | None = None


class UrlContextCallStep(Tagged):
    """Server-side URL fetch started."""

    type: Literal["url_context_call"] = "url_context_call"
    id: str | None = None
    arguments: UrlContextArguments | None = None
    signature: Base64 | None = None


class UrlContextResultStep(Tagged):
    """Outcome of a URL fetch."""

    type: Literal["url_context_result"] = "url_context_result"
    call_id: str | None = None
    result: list[UrlContextResult] | None = None
    is_error: Bool | None = None
    signature: Base64 | None = None


class GoogleSearchCallStep(Tagged):
    """Server-side Google Search started."""

    type: Literal["google_search_call"] = "google_search_call"
    id: str | None = None
    arguments: QueryArguments | None = None
    search_type: str | None = None
    signature: Base64 | None = None


class GoogleSearchResultStep(Tagged):
    """Google Search results."""

    type: Literal["google_search_result"] = "google_search_result"
    call_id: str | None = None
    result: list[GoogleSearchResult] | None = None
    is_error: Bool | None = None
    signature: Base64 | None = None


class GoogleMapsCallStep(Tagged):
    """Server-side Google Maps lookup started."""

    type: Literal["google_maps_call"] = "google_maps_call"
    id: str | None = None
    arguments: QueryArguments | None = None
    signature: Base64 | None = None


class GoogleMapsResultStep(Tagged):
    """Google Maps results."""

    type: Literal["google_maps_result"] = "google_maps_result"
    call_id: str | None = None
    result: list[GoogleMapsResult] | None = None
    signature: Base64 | None = None


class FileSearchCallStep(Tagged):
    """Server-side file search started."""

    type: Literal["file_search_call"] = "file_search_call"
    id: str | None = None
    signature: Base64 | None = None


class FileSearchResultStep(Tagged):
    """File search results (free-form items)."""

    type: Literal["file_search_result"] = "file_search_result"
    call_id: str | None = None
    result: list[dict[str, Any]] | None = None
    signature: Base64 | None = None


class McpServerToolCallStep(Tagged):
    """A tool call on a remote MCP server, run by the server."""

    type: Literal["mcp_server_tool_call"] = "mcp_server_tool_call"
    id: str | None = None
    name: str | None = None
    server_name: str | None = None
    arguments: dict[str, Any] | None = None


class McpServerToolResultStep(Tagged):
    """The MCP server's answer."""

    type: Literal["mcp_server_tool_result"] = "mcp_server_tool_result"
    call_id: str | None = None
    name: str | None = None
    server_name: str | None = None
    result: ToolResultValue | None = None


class RetrievalCallStep(Tagged):
    """Server-side retrieval (Vertex AI Search, RAG store, Exa, Parallel) started."""

    type: Literal["retrieval_call"] = "retrieval_call"
    id: str | None = None
    arguments: QueryArguments | None = None
    retrieval_type: str | None = None
    signature: Base64 | None = None


class RetrievalResultStep(Tagged):
    """Retrieval finished."""

    type: Literal["retrieval_result"] = "retrieval_result"
    call_id: str | None = None
    is_error: Bool | None = None
    signature: Base64 | None = None


class ProcessingCallStep(Tagged):
    """Server-side media processing (e.g. video understanding) started."""

    type: Literal["processing_call"] = "processing_call"
    id: str | None = None
    signature: Base64 | None = None


class ProcessingResultStep(Tagged):
    """Media processing finished."""

    type: Literal["processing_result"] = "processing_result"
    call_id: str | None = None
    signature: Base64 | None = None


class UnknownStep(WireModel):
    """A step of an unknown type; every field is kept and written back."""

    type: str | None = None


STEP_TAGS = frozenset(
    {
        "user_input",
        "model_output",
        "thought",
        "function_call",
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

Step = Annotated[
    Annotated[UserInputStep, Tag("user_input")]
    | Annotated[ModelOutputStep, Tag("model_output")]
    | Annotated[ThoughtStep, Tag("thought")]
    | Annotated[FunctionCallStep, Tag("function_call")]
    | Annotated[FunctionResultStep, Tag("function_result")]
    | Annotated[CodeExecutionCallStep, Tag("code_execution_call")]
    | Annotated[CodeExecutionResultStep, Tag("code_execution_result")]
    | Annotated[UrlContextCallStep, Tag("url_context_call")]
    | Annotated[UrlContextResultStep, Tag("url_context_result")]
    | Annotated[GoogleSearchCallStep, Tag("google_search_call")]
    | Annotated[GoogleSearchResultStep, Tag("google_search_result")]
    | Annotated[GoogleMapsCallStep, Tag("google_maps_call")]
    | Annotated[GoogleMapsResultStep, Tag("google_maps_result")]
    | Annotated[FileSearchCallStep, Tag("file_search_call")]
    | Annotated[FileSearchResultStep, Tag("file_search_result")]
    | Annotated[McpServerToolCallStep, Tag("mcp_server_tool_call")]
    | Annotated[McpServerToolResultStep, Tag("mcp_server_tool_result")]
    | Annotated[RetrievalCallStep, Tag("retrieval_call")]
    | Annotated[RetrievalResultStep, Tag("retrieval_result")]
    | Annotated[ProcessingCallStep, Tag("processing_call")]
    | Annotated[ProcessingResultStep, Tag("processing_result")]
    | Annotated[UnknownStep, Tag(UNKNOWN_TAG)],
    Discriminator(tag_discriminator(STEP_TAGS)),
    fallback_to(UnknownStep),
]
"""One step of an interaction, tagged by ``type``."""


# --- helpers -----------------------------------------------------------------------------


def pending_function_calls(steps: Sequence[Any] | None) -> list[FunctionCallStep]:
    """The ``function_call`` steps that still wait for the client (protocol.md §12 item 11).

    A call is pending when no later step carries its ``id`` as ``call_id``. Agents resolve
    their built-in filesystem calls themselves, so those already have a result and are skipped.
    """
    pending: list[FunctionCallStep] = []
    answered: set[str] = set()
    for step in reversed(list(steps or [])):
        call_id = getattr(step, "call_id", None)
        if isinstance(call_id, str):
            answered.add(call_id)
        if isinstance(step, FunctionCallStep) and (step.id is None or step.id not in answered):
            pending.append(step)
    pending.reverse()
    return pending


def output_text(steps: Sequence[Any] | None) -> str:
    """The answer to show: the trailing run of ``model_output`` text after the last user input.

    Mirrors the SDK's ``Interaction.output_text`` (protocol.md §12 item 21): ``thought`` steps
    are skipped, any other step or a non-text block ends the run once text has been found.
    """
    parts: list[str] = []
    collecting = False
    for step in reversed(list(steps or [])):
        if isinstance(step, UserInputStep):
            break
        if isinstance(step, ThoughtStep):
            continue
        if not isinstance(step, ModelOutputStep):
            if collecting:
                break
            continue
        for block in reversed(step.content or []):
            if isinstance(block, TextContent):
                collecting = True
                parts.append(block.text or "")
            elif collecting:
                return "".join(reversed(parts))
    return "".join(reversed(parts))
