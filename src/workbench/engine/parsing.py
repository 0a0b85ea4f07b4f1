"""Validation of create bodies: JSON in, a ``CreateRequest`` out, or a 400/404 ``ApiError``.

The wire schema is open (protocol.md §0): unknown fields are ignored, a ``null`` counts as
absent, and unknown enum values are refused only where the engine would otherwise have to
guess. Everything here runs before any work starts, so a bad request never creates anything
(protocol.md §10.4). ``parse_create`` must raise nothing but ``ApiError`` for any JSON value;
the hypothesis tests hold it to that.
"""

from __future__ import annotations

from typing import Any

from workbench.protocol import ProtocolError, parse_create_body

from .agent.validation import check_builtin_tool, parse_agent_fields
from .backends.base import FunctionSpec
from .create_request import CreateRequest, ToolChoice
from .errors import bad_request, not_found
from .steps import normalize_input

TOOL_CHOICES = ("auto", "any", "none", "validated")

MODEL_BUILTINS = ("code_execution", "url_context", "google_search", "mcp_server")
"""Built-in tool types a model interaction runs server-side (``model_tools.py``)."""
SANDBOX_TOOLS = ("code_execution", "url_context")
"""Built-ins that work in (or under the network rules of) an ``environment``."""

THINKING_BUDGETS: dict[str, int | None] = {
    "minimal": 0,
    "low": 256,
    "medium": 1024,
    "high": None,
}
"""``thinking_level`` → the local thinking budget in tokens (None: as much as the model wants)."""

UNAVAILABLE_CONFIG = ("speech_config", "image_config", "video_config", "transcription_config")
"""``generation_config`` fields for output or input the engine cannot produce (400, named)."""


def _opt_str(body: dict[str, Any], key: str, where: str = "") -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"{where}{key} must be a string")
    return value


def _opt_bool(body: dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_request(f"{key} must be true or false")
    return value


def _opt_int(cfg: dict[str, Any], key: str, minimum: int | None = None) -> int | None:
    value = cfg.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"generation_config.{key} must be an integer")
    if minimum is not None and value < minimum:
        raise bad_request(f"generation_config.{key} must be at least {minimum}")
    return value


def _opt_float(cfg: dict[str, Any], key: str, low: float, high: float) -> float | None:
    value = cfg.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_request(f"generation_config.{key} must be a number")
    if not low <= float(value) <= high:
        raise bad_request(f"generation_config.{key} must be between {low} and {high}")
    return float(value)


def parse_create(body: Any) -> CreateRequest:
    """Validate a create body (already decoded from JSON)."""
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    model = _opt_str(body, "model")
    agent = _opt_str(body, "agent")
    agent_config = body.get("agent_config")
    agentish = agent is not None or agent_config is not None
    if model is not None and agentish:
        raise bad_request("send either 'model' or 'agent'/'agent_config', not both")
    for key in ("generation_config", "cached_content"):
        if agentish and body.get(key) is not None:
            raise bad_request(f"'{key}' cannot be combined with 'agent'/'agent_config'")
    if model is None and agent is None:
        raise bad_request("'model' (or 'agent') is required")
    if model is not None and not model.strip():
        raise bad_request("'model' must not be empty")
    if agent_config is not None and not isinstance(agent_config, dict):
        raise bad_request("agent_config must be an object")
    req = CreateRequest(body=body, model=_strip_models(model), agent=agent)
    req.stream = _opt_bool(body, "stream", False)
    req.background = _opt_bool(body, "background", False)
    req.store = _opt_bool(body, "store", True)
    if req.background and not req.store:
        raise bad_request("background interactions must be stored: drop 'store: false'")
    req.system_instruction = _opt_str(body, "system_instruction")
    req.previous_interaction_id = _opt_str(body, "previous_interaction_id")
    req.continuation_token = _opt_str(body, "continuation_token")
    for key in ("service_tier", "response_mime_type"):
        _opt_str(body, key)
    req.cached_content = _opt_str(body, "cached_content")
    for key in ("labels", "webhook_config"):
        if body.get(key) is not None and not isinstance(body[key], dict):
            raise bad_request(f"{key} must be an object")
    if body.get("safety_settings") is not None and not isinstance(body["safety_settings"], list):
        raise bad_request("safety_settings must be a list")
    env = body.get("environment")
    if env is not None and not isinstance(env, str | dict):
        raise bad_request("environment must be a string or an object")
    raw_input = body.get("input")
    req.input_present = raw_input is not None
    if req.input_present:
        req.input_steps = normalize_input(raw_input)
    elif req.continuation_token is None:
        raise bad_request("'input' is required")
    if agentish:
        parse_agent_fields(body, req)
    else:
        _parse_tools(body.get("tools"), req)
        if env is not None and not any(t["type"] in SANDBOX_TOOLS for t in req.builtin_tools):
            raise bad_request(
                "environment is used on model interactions only by the code_execution and "
                "url_context tools; declare one of them or drop 'environment'"
            )
    _parse_generation_config(body.get("generation_config"), req)
    _parse_response_format(body, req)
    try:
        # The shared wire models check the remaining fields' types (labels, safety
        # settings, webhook config, …) the same way clients build them.
        parse_create_body(body)
    except ProtocolError as exc:
        raise bad_request(str(exc)) from exc
    return req


def _strip_models(model: str | None) -> str | None:
    if model is not None and model.startswith("models/"):
        return model[len("models/") :]
    return model


def _parse_tools(tools: Any, req: CreateRequest) -> None:
    if tools is None:
        return
    if not isinstance(tools, list):
        raise bad_request("tools must be a list")
    seen: set[str] = set()
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
            raise bad_request(f"{where}: a tool must be an object with a string 'type'")
        kind = tool["type"]
        if kind == "file_search":
            _refuse_file_search(tool, where)
        if kind in MODEL_BUILTINS:
            if kind != "mcp_server" and any(t["type"] == kind for t in req.builtin_tools):
                raise bad_request(f"{where}: the {kind} tool is declared twice")
            check_builtin_tool(tool, where)
            req.builtin_tools.append(dict(tool))
            continue
        if kind != "function":
            raise bad_request(
                f"{where}: tool type {kind!r} is not available in the local engine; it "
                f"supports 'function' tools and {', '.join(MODEL_BUILTINS)}"
            )
        name = tool.get("name")
        if not isinstance(name, str) or not name:
            raise bad_request(f"{where}: a function tool needs a string 'name'")
        if name in seen:
            raise bad_request(f"{where}: function {name!r} is declared twice")
        seen.add(name)
        description = tool.get("description")
        if description is not None and not isinstance(description, str):
            raise bad_request(f"{where}: 'description' must be a string")
        params = tool.get("parameters")
        if params is not None and not isinstance(params, dict):
            raise bad_request(f"{where}: 'parameters' must be a JSON Schema object")
        req.functions.append(
            FunctionSpec(
                name=name,
                description=description or "",
                parameters=params if params is not None else {"type": "object"},
            )
        )


def _refuse_file_search(tool: dict[str, Any], where: str) -> None:
    """``file_search`` searches File Search stores, which the local engine does not have."""
    stores = tool.get("file_search_store_names")
    if stores is not None and (
        not isinstance(stores, list) or not all(isinstance(n, str) for n in stores)
    ):
        raise bad_request(f"{where}: file_search_store_names must be a list of strings")
    if stores:
        raise not_found(
            f"{where}: file search store {stores[0]!r} not found: the local engine has no "
            "File Search stores; send Files API files as document input instead"
        )
    raise bad_request(
        f"{where}: file_search needs file_search_store_names, and the local engine has no "
        "File Search stores; send Files API files as document input instead"
    )


def _tool_choice_mode(value: Any, where: str) -> ToolChoice:
    if value not in TOOL_CHOICES:
        raise bad_request(f"{where} must be one of {', '.join(TOOL_CHOICES)}")
    return "auto" if value == "validated" else value


def _parse_generation_config(cfg: Any, req: CreateRequest) -> None:
    if cfg is None:
        return
    if not isinstance(cfg, dict):
        raise bad_request("generation_config must be an object")
    req.max_output_tokens = _opt_int(cfg, "max_output_tokens", minimum=1)
    req.seed = _opt_int(cfg, "seed")
    req.temperature = _opt_float(cfg, "temperature", 0.0, 2.0)
    req.top_p = _opt_float(cfg, "top_p", 0.0, 1.0)
    stops = cfg.get("stop_sequences")
    if stops is not None:
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise bad_request("generation_config.stop_sequences must be a list of strings")
        req.stop_sequences = tuple(s for s in stops if s)
    for key in ("thinking_level", "thinking_summaries"):
        if cfg.get(key) is not None and not isinstance(cfg[key], str):
            raise bad_request(f"generation_config.{key} must be a string")
    level = cfg.get("thinking_level")
    if level is not None and level not in THINKING_BUDGETS:
        raise bad_request(
            f"generation_config.thinking_level must be one of {', '.join(THINKING_BUDGETS)}"
        )
    req.thinking_level = level
    summaries = cfg.get("thinking_summaries")
    if summaries is not None and summaries not in ("auto", "none"):
        raise bad_request("generation_config.thinking_summaries must be auto or none")
    req.thought_summaries = summaries != "none"
    for key in UNAVAILABLE_CONFIG:
        if cfg.get(key) is not None:
            raise bad_request(
                f"generation_config.{key} is not available in the local engine: it answers in "
                "text only"
            )
    choice = cfg.get("tool_choice")
    if choice is None:
        return
    if isinstance(choice, str):
        req.tool_choice = _tool_choice_mode(choice, "generation_config.tool_choice")
        return
    allowed = choice.get("allowed_tools") if isinstance(choice, dict) else None
    if not isinstance(allowed, dict):
        raise bad_request(
            "generation_config.tool_choice must be a mode string or {'allowed_tools': {…}}"
        )
    mode = allowed.get("mode", "auto")
    req.tool_choice = _tool_choice_mode(mode, "generation_config.tool_choice.allowed_tools.mode")
    names = allowed.get("tools")
    if names is not None:
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise bad_request("tool_choice.allowed_tools.tools must be a list of function names")
        known = {f.name for f in req.functions} | {t["type"] for t in req.builtin_tools}
        unknown = [n for n in names if n not in known]
        # MCP tool names are known once the servers are listed (model_tools.prepare).
        if unknown and not any(t["type"] == "mcp_server" for t in req.builtin_tools):
            raise bad_request(f"tool_choice names undeclared functions: {', '.join(unknown)}")
        req.allowed_functions = tuple(names)


def _parse_response_format(body: dict[str, Any], req: CreateRequest) -> None:
    mime = body.get("response_mime_type")
    if isinstance(mime, str):
        if mime == "application/json":
            req.json_output = True
        elif not mime.startswith("text/"):
            raise bad_request(
                f"response_mime_type {mime!r} is not available; the engine writes text or JSON"
            )
    modalities = body.get("response_modalities")
    if modalities is not None:
        if not isinstance(modalities, list) or not all(isinstance(m, str) for m in modalities):
            raise bad_request("response_modalities must be a list of strings")
        other = [m for m in modalities if m.lower() != "text"]
        if other:
            raise bad_request(
                f"response modality {other[0]!r} is not available; the engine answers in text"
            )
    fmt = body.get("response_format")
    if fmt is None:
        return
    items = fmt if isinstance(fmt, list) else [fmt]
    for i, item in enumerate(items):
        where = "response_format" + (f"[{i}]" if isinstance(fmt, list) else "")
        if not isinstance(item, dict):
            raise bad_request(f"{where} must be an object")
        kind = item.get("type")
        if kind == "text":
            item_mime = item.get("mime_type")
            schema = item.get("schema")
            if schema is not None and not isinstance(schema, dict):
                raise bad_request(f"{where}.schema must be a JSON Schema object")
            if item_mime == "application/json" or schema is not None:
                req.json_output = True
                req.response_schema = schema
            elif item_mime is not None and item_mime != "text/plain":
                raise bad_request(f"{where}.mime_type must be text/plain or application/json")
        elif kind in ("image", "audio", "video"):
            raise bad_request(
                f"{where}: {kind} output is not available; the engine answers in text"
            )
        else:
            # Old clients send a bare JSON schema.
            req.json_output = True
            req.response_schema = item
