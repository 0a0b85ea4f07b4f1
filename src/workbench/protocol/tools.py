"""Tool declarations (protocol.md §5.1), 9 kinds tagged by ``type``, and tool choice (§3.3).

Declarations are flat: a ``function`` tool carries ``name`` and ``parameters`` itself, with no
``function_declarations`` wrapper. MCP ``allowed_tools`` comes in two shapes (§13 Q13): the
SDK's ``[{"mode", "tools"}]`` and Antigravity's list of tool names; both parse.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Tag

from ._base import UNKNOWN_TAG, Bool, Float, Int, Tagged, WireModel, fallback_to, tag_discriminator

TOOL_CHOICE_MODES = frozenset({"auto", "any", "none", "validated"})


class AllowedTools(WireModel):
    """Restricts which tools may be called, and how (``mode``: auto/any/none/validated)."""

    mode: str | None = None
    tools: list[str] | None = None


class ToolChoiceConfig(WireModel):
    """The object form of ``generation_config.tool_choice``."""

    allowed_tools: AllowedTools | None = None


ToolChoice = str | ToolChoiceConfig
"""``auto`` / ``any`` / ``none`` / ``validated``, or ``{"allowed_tools": {...}}``."""


class FunctionTool(Tagged):
    """A function the client runs; the model asks for it with a ``function_call`` step."""

    type: Literal["function"] = "function"
    name: str | None = None
    description: str | None = None
    parameters: Any = None


class CodeExecutionTool(Tagged):
    """Lets the model run code on the server."""

    type: Literal["code_execution"] = "code_execution"


class UrlContextTool(Tagged):
    """Lets the model fetch URLs."""

    type: Literal["url_context"] = "url_context"


class GoogleSearchTool(Tagged):
    """Grounding with Google Search; ``search_types`` picks web/image/enterprise search."""

    type: Literal["google_search"] = "google_search"
    search_types: list[str] | None = None


class GoogleMapsTool(Tagged):
    """Grounding with Google Maps around an optional location."""

    type: Literal["google_maps"] = "google_maps"
    latitude: Float | None = None
    longitude: Float | None = None
    enable_widget: Bool | None = None


class FileSearchTool(Tagged):
    """Search over File Search stores."""

    type: Literal["file_search"] = "file_search"
    file_search_store_names: list[str] | None = None
    top_k: Int | None = None
    metadata_filter: str | None = None


class McpServerTool(Tagged):
    """A remote MCP server (streamable HTTP) whose tools the server calls."""

    type: Literal["mcp_server"] = "mcp_server"
    name: str | None = None
    url: str | None = None
    headers: dict[str, str] | None = None
    allowed_tools: list[AllowedTools | str] | None = None

    def allowed_tool_names(self) -> list[str] | None:
        """Tool names allowed by either shape of ``allowed_tools``; None when unrestricted."""
        if self.allowed_tools is None:
            return None
        names: list[str] = []
        for entry in self.allowed_tools:
            if isinstance(entry, str):
                names.append(entry)
            else:
                names.extend(entry.tools or [])
        return names


class ComputerUseTool(Tagged):
    """Lets the model drive a browser, phone or desktop."""

    type: Literal["computer_use"] = "computer_use"
    environment: str | None = None
    excluded_predefined_functions: list[str] | None = None
    enable_prompt_injection_detection: Bool | None = None
    disabled_safety_policies: list[str] | None = None


class VertexAiSearchConfig(WireModel):
    """Vertex AI Search engine or data stores to retrieve from."""

    engine: str | None = None
    datastores: list[str] | None = None


class RagResource(WireModel):
    """A RAG corpus, optionally narrowed to some files."""

    rag_corpus: str | None = None
    rag_file_ids: list[str] | None = None


class RagFilter(WireModel):
    """Filters applied to RAG retrieval."""

    metadata_filter: str | None = None
    vector_distance_threshold: Float | None = None
    vector_similarity_threshold: Float | None = None


class HybridSearch(WireModel):
    """Weight between dense and sparse retrieval."""

    alpha: Float | None = None


class RankService(WireModel):
    """The ranking model."""

    model_name: str | None = None


class Ranking(WireModel):
    """Re-ranking of retrieved chunks."""

    ranking_config: str | None = None
    rank_service: RankService | None = None
    model_name: str | None = None


class RagRetrievalConfig(WireModel):
    """How RAG retrieval selects chunks."""

    top_k: Int | None = None
    filter: RagFilter | None = None
    hybrid_search: HybridSearch | None = None
    ranking: Ranking | None = None


class RagStoreConfig(WireModel):
    """Retrieval from Vertex RAG stores."""

    rag_resources: list[RagResource] | None = None
    similarity_top_k: Int | None = None
    vector_distance_threshold: Float | None = None
    rag_retrieval_config: RagRetrievalConfig | None = None


class ExaAiSearchConfig(WireModel):
    """Retrieval through Exa."""

    api_key: str | None = None
    custom_config: dict[str, Any] | None = None


class ParallelAiSearchConfig(WireModel):
    """Retrieval through Parallel."""

    api_key: str | None = None
    custom_config: dict[str, Any] | None = None


class RetrievalTool(Tagged):
    """Retrieval from Vertex AI Search, RAG stores, Exa or Parallel."""

    type: Literal["retrieval"] = "retrieval"
    retrieval_types: list[str] | None = None
    vertex_ai_search_config: VertexAiSearchConfig | None = None
    rag_store_config: RagStoreConfig | None = None
    exa_ai_search_config: ExaAiSearchConfig | None = None
    parallel_ai_search_config: ParallelAiSearchConfig | None = None


class UnknownTool(WireModel):
    """A tool of an unknown type; every field is kept and written back."""

    type: str | None = None


TOOL_TAGS = frozenset(
    {
        "function",
        "code_execution",
        "url_context",
        "google_search",
        "google_maps",
        "file_search",
        "mcp_server",
        "computer_use",
        "retrieval",
    }
)

AGENT_TOOL_TAGS = frozenset(
    {"code_execution", "function", "google_search", "mcp_server", "url_context"}
)
"""The only tool types a saved agent (§8) may declare."""

Tool = Annotated[
    Annotated[FunctionTool, Tag("function")]
    | Annotated[CodeExecutionTool, Tag("code_execution")]
    | Annotated[UrlContextTool, Tag("url_context")]
    | Annotated[GoogleSearchTool, Tag("google_search")]
    | Annotated[GoogleMapsTool, Tag("google_maps")]
    | Annotated[FileSearchTool, Tag("file_search")]
    | Annotated[McpServerTool, Tag("mcp_server")]
    | Annotated[ComputerUseTool, Tag("computer_use")]
    | Annotated[RetrievalTool, Tag("retrieval")]
    | Annotated[UnknownTool, Tag(UNKNOWN_TAG)],
    Discriminator(tag_discriminator(TOOL_TAGS)),
    fallback_to(UnknownTool),
]
"""A tool declaration, tagged by ``type``."""
