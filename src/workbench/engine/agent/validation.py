"""Validation shared by agent interactions and saved agents (protocol.md §3.2, §3.6, §5.1, §8).

Pure checks on JSON values that raise only ``ApiError`` (400), so they can run inside
``parse_create`` before any work starts:

* tools: only ``function``, ``code_execution``, ``url_context``, ``google_search`` and
  ``mcp_server``; ``file_search``, ``computer_use`` and ``google_maps`` are named as
  unsupported by Antigravity; an MCP server ``name`` must match ``^[a-z0-9_-]+$``;
* ``agent_config``: an object with a string ``type``; for ``antigravity`` an optional string
  ``model`` and a positive ``max_total_tokens`` (int64: a JSON string or number);
* agents read text and media (image, audio, video, document; inline ``data`` or a ``uri``
  such as a Files API ``files/…`` name) — the media also lands in the workspace
  (``agent/attachments.py``) — and give no structured output.
"""

from __future__ import annotations

import re
from typing import Any

from ..create_request import CreateRequest
from ..errors import bad_request

AGENT_TOOL_TYPES = ("code_execution", "function", "google_search", "mcp_server", "url_context")
NOT_FOR_ANTIGRAVITY = frozenset({"file_search", "computer_use", "google_maps"})
MCP_NAME = re.compile(r"^[a-z0-9_-]+$")
INT64_MAX = 2**63 - 1


def check_builtin_tool(tool: dict[str, Any], here: str) -> None:
    """The fields of an ``mcp_server`` or ``google_search`` declaration (agents and models)."""
    kind = tool.get("type")
    if kind == "mcp_server":
        name = tool.get("name")
        if not isinstance(name, str) or not MCP_NAME.match(name):
            raise bad_request(
                f"{here}: mcp_server 'name' must match ^[a-z0-9_-]+$ (lower-case letters, "
                "digits, '_' and '-')"
            )
        if not isinstance(tool.get("url"), str) or not tool["url"]:
            raise bad_request(f"{here}: mcp_server needs a string 'url'")
        headers = tool.get("headers")
        if headers is not None and (
            not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values())
        ):
            raise bad_request(f"{here}: mcp_server 'headers' must map names to strings")
    elif kind == "google_search":
        types = tool.get("search_types")
        if types is not None and (
            not isinstance(types, list) or not all(isinstance(t, str) for t in types)
        ):
            raise bad_request(f"{here}: 'search_types' must be a list of strings")


def check_agent_tools(tools: Any, where: str = "tools") -> list[dict[str, Any]]:
    """The tool declarations of an agent, checked; 400 for anything an agent cannot use."""
    if not isinstance(tools, list):
        raise bad_request(f"{where} must be a list")
    names: set[str] = set()
    for i, tool in enumerate(tools):
        here = f"{where}[{i}]"
        if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
            raise bad_request(f"{here}: a tool must be an object with a string 'type'")
        kind = tool["type"]
        if kind in NOT_FOR_ANTIGRAVITY:
            raise bad_request(
                f"{here}: Antigravity agents do not support {kind!r} tools; agents can use "
                + ", ".join(AGENT_TOOL_TYPES)
            )
        if kind not in AGENT_TOOL_TYPES:
            raise bad_request(
                f"{here}: tool type {kind!r} is not available for agents; use one of "
                + ", ".join(AGENT_TOOL_TYPES)
            )
        if kind == "function":
            name = tool.get("name")
            if not isinstance(name, str) or not name:
                raise bad_request(f"{here}: a function tool needs a string 'name'")
            if name in names:
                raise bad_request(f"{here}: function {name!r} is declared twice")
            names.add(name)
            if tool.get("description") is not None and not isinstance(tool["description"], str):
                raise bad_request(f"{here}: 'description' must be a string")
            if tool.get("parameters") is not None and not isinstance(tool["parameters"], dict):
                raise bad_request(f"{here}: 'parameters' must be a JSON Schema object")
        else:
            check_builtin_tool(tool, here)
    return [dict(t) for t in tools]


def parse_int64(value: Any, where: str) -> int:
    """A positive int64 given as a JSON number or a decimal string (protocol.md §11.7)."""
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise bad_request(f"{where} must be a positive integer (a number or a decimal string)")
    if not 0 < number <= INT64_MAX:
        raise bad_request(f"{where} must be a positive integer")
    return number


def check_agent_config(config: Any, where: str = "agent_config") -> dict[str, Any]:
    """An ``agent_config`` object, checked; ``max_total_tokens`` comes back as a string
    (int64 fields travel as JSON strings, §11.7)."""
    if not isinstance(config, dict):
        raise bad_request(f"{where} must be an object")
    out: dict[str, Any] = dict(config)
    kind = out.get("type")
    if not isinstance(kind, str) or not kind:
        raise bad_request(f"{where} needs a string 'type' (e.g. 'antigravity')")
    if kind == "antigravity":
        model = out.get("model")
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise bad_request(f"{where}.model must be a non-empty string")
        if out.get("max_total_tokens") is not None:
            budget = parse_int64(out["max_total_tokens"], f"{where}.max_total_tokens")
            out["max_total_tokens"] = str(budget)
    return out


DEEP_RESEARCH_TOOLS = ("google_search", "url_context")
SUMMARY_VALUES = ("auto", "none")
VISUALIZATION_VALUES = ("off", "auto")


def is_deep_research(agent: str | None) -> bool:
    """Whether ``agent`` names one of Gemini's Deep Research agents (``deep-research-*``)."""
    return agent is not None and agent.strip().removeprefix("agents/").startswith("deep-research")


def check_research_config(config: dict[str, Any], where: str = "agent_config") -> None:
    """The fields of a ``deep-research`` config (types and enum values)."""
    for key, allowed in (
        ("thinking_summaries", SUMMARY_VALUES),
        ("visualization", VISUALIZATION_VALUES),
    ):
        value = config.get(key)
        if value is not None and value not in allowed:
            raise bad_request(f"{where}.{key} must be one of {', '.join(allowed)}, not {value!r}")
    for key in ("collaborative_planning", "enable_bigquery_tool"):
        if config.get(key) is not None and not isinstance(config[key], bool):
            raise bad_request(f"{where}.{key} must be true or false")
    if config.get("enable_bigquery_tool"):
        raise bad_request(
            f"{where}.enable_bigquery_tool: the local engine has no BigQuery; put the data in "
            "the environment (files) instead"
        )


def _parse_research_fields(body: dict[str, Any], req: CreateRequest) -> None:
    """The checks of a deep-research create: background only, its own config and tools,
    and text plus ``document`` blocks as input."""
    if not req.background:
        raise bad_request(
            "deep-research agents run only in the background: set background=true (with "
            "store=true), then poll the interaction or stream it"
        )
    config = body.get("agent_config")
    if config is not None:
        if not isinstance(config, dict) or config.get("type") != "deep-research":
            kind = config.get("type") if isinstance(config, dict) else config
            raise bad_request(
                f"agent {req.agent!r} takes an agent_config of type 'deep-research', not {kind!r}"
            )
        check_research_config(config)
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise bad_request("tools must be a list")
        for i, tool in enumerate(tools):
            kind = tool.get("type") if isinstance(tool, dict) else None
            if kind not in DEEP_RESEARCH_TOOLS:
                raise bad_request(
                    f"tools[{i}]: the local deep-research agent can use "
                    f"{' and '.join(DEEP_RESEARCH_TOOLS)} only, not {kind!r} (its sources are "
                    "the environment's files and the input's documents)"
                )
        req.agent_tools = [dict(t) for t in tools]
    for i, step in enumerate(req.input_steps):
        if step.get("type") != "user_input":
            continue
        for j, block in enumerate(step.get("content") or []):
            if block.get("type") not in ("text", "document"):
                raise bad_request(
                    f"input[{i}].content[{j}]: deep research reads text and documents, not "
                    f"{block.get('type')}"
                )


def max_total_tokens(config: dict[str, Any] | None) -> int | None:
    """The token budget of a checked antigravity config (None without one)."""
    if not config or config.get("max_total_tokens") is None:
        return None
    return parse_int64(config["max_total_tokens"], "agent_config.max_total_tokens")


AGENT_CONTENT_TYPES = ("text", "image", "audio", "video", "document")


def _check_agent_input(steps: list[dict[str, Any]]) -> None:
    """Content an agent cannot take at all; the media itself is read (and refused with its
    reason) when the conversation is built, as for a model."""
    for i, step in enumerate(steps):
        if step.get("type") != "user_input":
            continue
        for j, block in enumerate(step.get("content") or []):
            kind = block.get("type") if isinstance(block, dict) else None
            here = f"input[{i}].content[{j}]"
            if kind not in AGENT_CONTENT_TYPES:
                raise bad_request(
                    f"{here}: agents accept {', '.join(AGENT_CONTENT_TYPES)} content, not {kind!r}"
                )
            if kind != "text" and not block.get("data") and not block.get("uri"):
                raise bad_request(f"{here}: a {kind} block needs 'data' (base64) or a 'uri'")


def parse_agent_fields(body: dict[str, Any], req: CreateRequest) -> None:
    """The agent-only checks of a create body (the built-in agent's validation, §11.9)."""
    if is_deep_research(req.agent):
        _parse_research_fields(body, req)
        _check_common(body, req)
        return
    if body.get("tools") is not None:
        req.agent_tools = check_agent_tools(body["tools"])
    config = body.get("agent_config")
    if config is not None:
        config = body["agent_config"] = check_agent_config(config)
        if config.get("type") == "antigravity":
            req.max_total_tokens = max_total_tokens(config)
    _check_common(body, req)
    _check_agent_input(req.input_steps)


def _check_common(body: dict[str, Any], req: CreateRequest) -> None:
    if body.get("response_format") is not None or body.get("response_mime_type") not in (
        None,
        "text/plain",
    ):
        raise bad_request(
            "agents do not support structured output (response_format / response_mime_type); "
            "ask for the format in the input instead"
        )
    if req.continuation_token is not None:
        raise bad_request(
            "agents never return requires_continuation, so continuation_token does not apply"
        )
