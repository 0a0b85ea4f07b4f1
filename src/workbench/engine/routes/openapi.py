"""JSON Schemas for the engine's OpenAPI document.

Routes parse bodies themselves (the wire schema is open and lenient), so the request and
response shapes are declared here for the document only. They describe what the engine
accepts closely enough for schemathesis to generate meaningful requests.
"""

from __future__ import annotations

from typing import Any

_TEXT = {
    "type": "object",
    "required": ["type", "text"],
    "properties": {"type": {"enum": ["text"]}, "text": {"type": "string"}},
}
_MEDIA = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"enum": ["image", "audio", "video", "document"]},
        "data": {"type": "string"},
        "uri": {"type": "string"},
        "mime_type": {"type": "string"},
    },
}
_CONTENT: dict[str, Any] = {"oneOf": [_TEXT, _MEDIA]}
_STEP = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {
            "type": "string",
            "enum": ["user_input", "model_output", "thought", "function_call", "function_result"],
        },
        "content": {"type": "array", "items": _CONTENT},
        "id": {"type": "string"},
        "name": {"type": "string"},
        "arguments": {"type": "object"},
        "call_id": {"type": "string"},
        "result": {},
    },
}
_TOOL = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "parameters": {"type": "object"},
    },
}
_TOOL_MODE = {"type": "string", "enum": ["auto", "any", "none", "validated"]}

CREATE_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "'input' may be left out only on a continuation hop "
    "(with continuation_token and previous_interaction_id).",
    "required": ["input"],
    "properties": {
        "model": {"type": "string"},
        "agent": {"type": "string"},
        "input": {
            "oneOf": [
                {"type": "string"},
                _CONTENT,
                {"type": "array", "items": _CONTENT},
                {"type": "array", "items": _STEP},
            ]
        },
        "system_instruction": {"type": "string"},
        "tools": {"type": "array", "items": _TOOL},
        "generation_config": {
            "type": "object",
            "properties": {
                "max_output_tokens": {"type": "integer"},
                "temperature": {"type": "number"},
                "top_p": {"type": "number"},
                "seed": {"type": "integer"},
                "stop_sequences": {"type": "array", "items": {"type": "string"}},
                "thinking_level": {"type": "string"},
                "tool_choice": {
                    "oneOf": [
                        _TOOL_MODE,
                        {
                            "type": "object",
                            "properties": {
                                "allowed_tools": {
                                    "type": "object",
                                    "properties": {
                                        "mode": _TOOL_MODE,
                                        "tools": {"type": "array", "items": {"type": "string"}},
                                    },
                                }
                            },
                        },
                    ]
                },
            },
        },
        "agent_config": {"type": "object"},
        "previous_interaction_id": {"type": "string"},
        "continuation_token": {"type": "string"},
        "stream": {"type": "boolean"},
        "background": {"type": "boolean"},
        "store": {"type": "boolean"},
        "response_format": {"type": "object"},
        "response_mime_type": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "service_tier": {"type": "string"},
    },
}

INTERACTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {
        "id": {"type": "string"},
        "object": {"type": "string"},
        "status": {"type": "string"},
        "model": {"type": "string"},
        "created": {"type": "string"},
        "updated": {"type": "string"},
        "steps": {"type": "array", "items": {"type": "object"}},
        "usage": {"type": "object"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "status": {"type": "string"},
            },
        }
    },
}

INTERACTION_RESPONSE: dict[str, Any] = {
    "description": "The interaction",
    "content": {"application/json": {"schema": INTERACTION_SCHEMA}},
}
STREAM_OR_INTERACTION_RESPONSE: dict[str, Any] = {
    "description": "The interaction, or its events as Server-Sent Events",
    "content": {
        "application/json": {"schema": INTERACTION_SCHEMA},
        "text/event-stream": {"schema": {"type": "string"}},
    },
}
_ERROR = {"content": {"application/json": {"schema": ERROR_SCHEMA}}}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid request", **_ERROR},
    401: {"description": "Missing or wrong API key", **_ERROR},
    404: {"description": "Not found", **_ERROR},
    413: {"description": "Body too large", **_ERROR},
}
