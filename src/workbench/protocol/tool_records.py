"""Tool call arguments and results (protocol.md §4.4, §6.5), shared by steps and deltas.

Apart from ``steps`` because both unions use them: a ``*_call`` step and its delta carry the
same arguments record, a ``*_result`` step and its delta the same result. The two helpers fold
and read code execution output, which is a string or a list of content blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import Field, JsonValue

from ._base import WireModel
from .content import Content, ReviewSnippet, TextContent

ToolResultValue = Annotated[
    str | list[Content] | dict[str, Any] | JsonValue,
    Field(union_mode="left_to_right"),
]
"""``result`` of function and MCP results: a string, a list of content blocks, or any JSON.

Tried in that order, so a list of content blocks parses as content, and anything else is kept
verbatim as JSON.
"""

CodeExecutionOutput = Annotated[str | list[Content], Field(union_mode="left_to_right")]
"""``code_execution_result.result``: the printed output, or content blocks.

The spec says string, but a run that produces an image comes back from the real service as
a list of content blocks (text and images), and the SDK accepts both; so do we.
"""


def code_output_text(result: str | Sequence[Any] | None) -> str:
    """The text of a code execution result, whichever form it took (images are skipped)."""
    if result is None:
        return ""
    if isinstance(result, str):
        return result
    return "".join(block.text or "" for block in result if isinstance(block, TextContent))


def join_code_output(current: Any, more: Any) -> Any:
    """Fold a ``code_execution_result`` delta's ``result`` into the step's (wire JSON).

    Text appends to text. When either side is a list of content blocks the result is a list:
    text becomes a text block, so output printed before an image keeps its place.
    """
    if current is None or current == "":
        return more
    if more is None:
        return current
    if isinstance(current, str) and isinstance(more, str):
        return current + more

    def blocks(value: Any) -> list[Any]:
        if isinstance(value, list):
            return list(value)
        return [{"type": "text", "text": value if isinstance(value, str) else str(value)}]

    return blocks(current) + blocks(more)


# --- argument and result records ------------------------------------------------------


class CodeExecutionArguments(WireModel):
    """What a code execution call runs."""

    code: str | None = None
    language: str | None = None


class UrlContextArguments(WireModel):
    """The URLs a url_context call fetches."""

    urls: list[str] | None = None


class QueryArguments(WireModel):
    """Queries of a google_search, google_maps or retrieval call."""

    queries: list[str] | None = None


class UrlContextResult(WireModel):
    """Outcome of fetching one URL: ``status`` is success/error/paywall/unsafe."""

    url: str | None = None
    status: str | None = None


class GoogleSearchResult(WireModel):
    """One search result: an HTML snippet of search suggestions."""

    search_suggestions: str | None = None


class MapsPlace(WireModel):
    """A place returned by a Google Maps call."""

    name: str | None = None
    place_id: str | None = None
    url: str | None = None
    review_snippets: list[ReviewSnippet] | None = None


class GoogleMapsResult(WireModel):
    """Places found by one Google Maps query."""

    places: list[MapsPlace] | None = None
    widget_context_token: str | None = None
