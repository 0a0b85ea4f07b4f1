""" "Get code": the request being composed, as Python (google-genai), curl and raw JSON.

A pure function of the create body and the server it would go to, so the samples are exactly
what the app would send. The API key never appears: the samples read it from an environment
variable (``$GEMINI_API_KEY`` for Gemini, ``$WORKBENCH_ENGINE_TOKEN`` for the local engine,
whose per-launch token the user can export from the engine's ``engine.json``). Inline file
data is replaced by a short placeholder: a sample is for reading and adapting, and base64 of
a video would bury the request.
"""

from __future__ import annotations

import json
import pprint
import shlex
from dataclasses import dataclass
from typing import Any

from .engine_process import TOKEN_ENV
from .profiles import GEMINI_URL, Profile

GEMINI_KEY_ENV = "GEMINI_API_KEY"
INLINE_LIMIT = 200
"""Inline ``data`` longer than this many characters is shown as a placeholder."""


@dataclass(frozen=True)
class Server:
    """Where a request goes and which environment variable holds its key."""

    base_url: str
    api_version: str
    key_env: str
    local: bool = False

    @property
    def endpoint(self) -> str:
        return f"{self.base_url.rstrip('/')}/{self.api_version}/interactions"


@dataclass(frozen=True)
class CodeSamples:
    """The same request three ways."""

    python: str
    curl: str
    json: str


def server_for(profile: Profile, engine_url: str | None = None) -> Server:
    """The server ``profile`` talks to (``engine_url``: the running local engine's address)."""
    if profile.is_local:
        if not engine_url:
            raise ValueError("the local engine is not running yet; connect first")
        return Server(engine_url, profile.api_version, TOKEN_ENV, local=True)
    base = profile.base_url or GEMINI_URL
    return Server(base, profile.api_version, GEMINI_KEY_ENV)


def _shorten(value: Any) -> Any:
    """``value`` with long inline ``data`` strings replaced by a placeholder."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "data" and isinstance(item, str) and len(item) > INLINE_LIMIT:
                mime = value.get("mime_type") or "the file"
                size = len(item) * 3 // 4 - (len(item) - len(item.rstrip("=")))
                out[key] = f"<base64 of {mime}, {size} bytes>"
            else:
                out[key] = _shorten(item)
        return out
    if isinstance(value, list):
        return [_shorten(item) for item in value]
    return value


def _py(value: Any, indent: int) -> str:
    """A Python literal for JSON data (``True``/``None``, not ``true``/``null``)."""
    text = pprint.pformat(value, width=96 - indent, sort_dicts=False)
    return text.replace("\n", "\n" + " " * indent)


def _python(body: dict[str, Any], server: Server) -> str:
    lines = [
        "import os",
        "",
        "from google import genai",
        "",
        "client = genai.Client(",
        f'    api_key=os.environ["{server.key_env}"],',
        "    http_options={",
        f'        "base_url": {json.dumps(server.base_url)},',
        f'        "api_version": {json.dumps(server.api_version)},',
        "    },",
        ")",
    ]
    stream = bool(body.get("stream"))
    args = {k: v for k, v in body.items() if k != "stream"}
    call = [f"{'events' if stream else 'interaction'} = client.interactions.create("]
    for key, value in args.items():
        call.append(f"    {key}={_py(value, 4)},")
    if stream:
        call.append("    stream=True,")
    call.append(")")
    lines += ["", *call, ""]
    if stream:
        lines += [
            "for event in events:",
            '    if event.event_type == "step.delta" and getattr(event.delta, "text", None):',
            '        print(event.delta.text, end="", flush=True)',
            "print()",
        ]
    elif body.get("background"):
        lines += ["print(interaction.id, interaction.status)  # poll interactions.get(id)"]
    else:
        lines += ["print(interaction.output_text)"]
    return "\n".join(lines) + "\n"


def _curl(body_json: str, server: Server, stream: bool) -> str:
    flags = "-sS -N" if stream else "-sS"
    return (
        f"curl {flags} {shlex.quote(server.endpoint)} \\\n"
        f'  -H "x-goog-api-key: ${server.key_env}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        "  -d @- <<'JSON'\n"
        f"{body_json}\n"
        "JSON\n"
    )


def request_code(body: dict[str, Any], server: Server) -> CodeSamples:
    """The request ``body`` (as ``build_request`` makes it) for ``server``, three ways."""
    if not body.get("model") and not body.get("agent"):
        raise ValueError("the request names no model or agent")
    shown = _shorten(body)
    as_json = json.dumps(shown, indent=2, ensure_ascii=False)
    return CodeSamples(
        python=_python(shown, server),
        curl=_curl(as_json, server, bool(body.get("stream"))),
        json=as_json + "\n",
    )
