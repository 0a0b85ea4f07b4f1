"""Finding OpenAI-compatible model servers the user already runs (Ollama, LM Studio, …).

The app offers them as backends for the local engine (``--backend openai``). Probing is a
``GET {base}/models`` with a short timeout on each candidate, all at once; Ollama also
answers ``GET /api/tags`` with sizes and quantizations, which are merged in when present.
Nothing here sends a key: servers that need one are listed with the reason they refused.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

WELL_KNOWN: tuple[tuple[str, str], ...] = (
    ("Ollama", "http://127.0.0.1:11434/v1"),
    ("LM Studio", "http://127.0.0.1:1234/v1"),
    ("llama.cpp server", "http://127.0.0.1:8080/v1"),
    ("vLLM", "http://127.0.0.1:8000/v1"),
)
"""The usual loopback addresses of local OpenAI-compatible servers."""

DEFAULT_TIMEOUT = 1.5
"""Seconds per probe: a server on loopback answers in milliseconds, a closed port at once."""


@dataclass(frozen=True)
class ServerModel:
    """One model a server lists."""

    id: str
    size: int | None = None
    quantization: str = ""
    family: str = ""
    context_length: int | None = None


@dataclass(frozen=True)
class FoundServer:
    """The result of probing one base URL: ``ok`` with models, or ``problem`` in words."""

    name: str
    base_url: str
    ok: bool
    models: tuple[ServerModel, ...] = field(default=())
    problem: str = ""
    kind: str = "openai"
    """``ollama`` when ``/api/tags`` answered too, else ``openai``."""


def normalize_base_url(url: str) -> str:
    """``url`` as a ``…/v1`` base: adds ``http://`` and ``/v1`` when missing.

    Raises:
        ValueError: not an http(s) URL with a host, or it carries a query or fragment.
    """
    text = url.strip()
    if not text:
        raise ValueError("Enter a server URL, e.g. http://127.0.0.1:8080/v1.")
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL with a host.")
    if parts.query or parts.fragment:
        raise ValueError("The server URL must not contain '?' or '#'.")
    path = parts.path.rstrip("/")
    if not path.endswith("/v1"):
        path += "/v1"
    return f"{parts.scheme}://{parts.netloc}{path}"


def _openai_models(payload: Any) -> list[ServerModel]:
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        raise ValueError("its /models answer has no 'data' list")
    models: list[ServerModel] = []
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"]:
            ctx = item.get("context_length") or item.get("max_model_len")
            models.append(ServerModel(item["id"], context_length=ctx if _is_int(ctx) else None))
    return models


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _ollama_tags(payload: Any) -> dict[str, ServerModel]:
    """Ollama's ``/api/tags``: ``{"models": [{"name", "size", "details": {…}}]}``."""
    out: dict[str, ServerModel] = {}
    items = payload.get("models") if isinstance(payload, dict) else None
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        name = item.get("model") or item.get("name")
        if not isinstance(name, str) or not name:
            continue
        raw_details = item.get("details")
        details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
        size = item.get("size")
        out[name] = ServerModel(
            name,
            size=size if _is_int(size) else None,
            quantization=str(details.get("quantization_level") or ""),
            family=str(details.get("family") or ""),
        )
    return out


async def probe(base_url: str, name: str = "", *, seconds: float = DEFAULT_TIMEOUT) -> FoundServer:
    """Ask ``base_url`` for its models (``seconds`` per request); never raises for an
    unreachable or odd server."""
    try:
        base = normalize_base_url(base_url)
    except ValueError as exc:
        return FoundServer(name or base_url, base_url, False, problem=str(exc))
    label = name or (urlsplit(base).netloc)
    async with httpx.AsyncClient(timeout=seconds, trust_env=False) as http:
        try:
            response = await http.get(f"{base}/models")
        except httpx.TimeoutException:
            return FoundServer(label, base, False, problem="no answer in time")
        except httpx.HTTPError:
            return FoundServer(label, base, False, problem="nothing is listening there")
        if response.status_code in (401, 403):
            return FoundServer(label, base, False, problem="it wants an API key")
        if response.status_code != 200:
            return FoundServer(
                label, base, False, problem=f"GET /models answered HTTP {response.status_code}"
            )
        try:
            models = _openai_models(response.json())
        except ValueError as exc:
            return FoundServer(label, base, False, problem=f"not OpenAI-compatible: {exc}")
        tags = await _try_ollama(http, base)
    if tags is None:
        return FoundServer(label, base, True, tuple(models))
    merged = [tags.get(m.id, m) for m in models]
    merged += [m for key, m in tags.items() if key not in {x.id for x in models}]
    return FoundServer(label, base, True, tuple(merged), kind="ollama")


async def _try_ollama(http: httpx.AsyncClient, base: str) -> dict[str, ServerModel] | None:
    root = base.removesuffix("/v1")
    try:
        response = await http.get(f"{root}/api/tags")
        if response.status_code != 200:
            return None
        payload = response.json()
    except (httpx.HTTPError, ValueError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("models"), list):
        return None
    return _ollama_tags(payload)


async def discover(
    extra_urls: tuple[str, ...] | list[str] = (),
    *,
    seconds: float = DEFAULT_TIMEOUT,
    well_known: tuple[tuple[str, str], ...] = WELL_KNOWN,
) -> list[FoundServer]:
    """Probe the well-known loopback servers and ``extra_urls`` concurrently, in that order."""
    candidates = [*well_known, *(("", url) for url in extra_urls)]
    return list(
        await asyncio.gather(*(probe(url, name, seconds=seconds) for name, url in candidates))
    )
