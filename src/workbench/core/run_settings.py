"""Run settings: what the right-hand dock edits, and how a turn's request body is built.

Continuing a session sends only the new turn plus ``previous_interaction_id``; tools, the
system instruction and the generation config are resent on every turn because the server
does not inherit them (protocol.md §3.8, §12 items 6–9).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

BUILTIN_TOOLS: dict[str, str] = {
    "google_search": "Google Search",
    "url_context": "URL context",
    "code_execution": "Code execution",
    "google_maps": "Google Maps",
}
"""Built-in tool types the dock offers, with their labels."""

THINKING_LEVELS = ("", "minimal", "low", "medium", "high")


class McpServer(BaseModel):
    """A remote MCP server (streamable HTTP) the model may use."""

    model_config = ConfigDict(extra="forbid")

    name: str
    url: str


class RunSettings(BaseModel):
    """The request knobs for the next turn."""

    model_config = ConfigDict(extra="forbid")

    target_kind: Literal["model", "agent"] = "model"
    target: str = ""
    system_instruction: str = ""
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    seed: int | None = None
    thinking_level: str = ""
    stop_sequences: list[str] = Field(default_factory=list)
    builtin_tools: list[str] = Field(default_factory=list)
    functions: list[dict[str, Any]] = Field(default_factory=list)
    mcp_servers: list[McpServer] = Field(default_factory=list)
    stream: bool = True
    background: bool = False
    store: bool = True

    def tools(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{"type": t} for t in self.builtin_tools]
        out += [{"type": "function", **fn} for fn in self.functions]
        out += [{"type": "mcp_server", "name": m.name, "url": m.url} for m in self.mcp_servers]
        return out

    def generation_config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {}
        if self.temperature is not None:
            cfg["temperature"] = self.temperature
        if self.top_p is not None:
            cfg["top_p"] = self.top_p
        if self.max_output_tokens is not None:
            cfg["max_output_tokens"] = self.max_output_tokens
        if self.seed is not None:
            cfg["seed"] = self.seed
        if self.thinking_level:
            cfg["thinking_level"] = self.thinking_level
        if self.stop_sequences:
            cfg["stop_sequences"] = list(self.stop_sequences)
        return cfg


def user_turn(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The input of a user turn: one ``user_input`` step, as the SDK sends it."""
    return [{"type": "user_input", "content": content}]


def build_request(
    settings: RunSettings,
    input_steps: list[dict[str, Any]],
    previous_interaction_id: str | None = None,
) -> dict[str, Any]:
    """The create body for one turn: only the new input, chained to the previous one."""
    if not settings.target:
        raise ValueError("choose a model or an agent first")
    body: dict[str, Any] = {settings.target_kind: settings.target, "input": input_steps}
    if previous_interaction_id:
        body["previous_interaction_id"] = previous_interaction_id
    if settings.system_instruction.strip():
        body["system_instruction"] = settings.system_instruction
    tools = settings.tools()
    if tools:
        body["tools"] = tools
    if settings.target_kind == "model":
        cfg = settings.generation_config()
        if cfg:
            body["generation_config"] = cfg
    if settings.stream:
        body["stream"] = True
    if settings.background:
        body["background"] = True
    if not settings.store:
        body["store"] = False
    return body
