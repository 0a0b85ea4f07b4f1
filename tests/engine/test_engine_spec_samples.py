"""The OpenAPI document's own code samples (``x-codeSamples``) run against the engine.

The Python samples are executed unchanged with ``genai.Client()`` pointed at the engine
(scripted backend), and the curl samples' JSON bodies are sent raw. Each must succeed, or
fail with the clear, documented answer this engine gives for what it does not serve
(repositories, which need the network the engine does not use).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from engine_helpers import EngineProcess, create
from google import genai

from support.openapi_oracle import OracleTransport, spec

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
REAL_CLIENT = genai.Client  # the tests put a client of the engine in its place
SAMPLES = spec()["paths"]["/{api_version}/interactions"]["post"]["x-codeSamples"]

# label -> (HTTP status, words in the message) for what the engine does not serve
REFUSED: dict[str, tuple[int, str]] = {
    "with_sources": (400, "repository"),
    "custom_agent": (400, "repository"),
}


def _samples(lang: str) -> list[Any]:
    return [pytest.param(s, id=s["label"]) for s in SAMPLES if s["lang"] == lang]


def _placeholders(text: str) -> str:
    return text.replace("BASE64_ENCODED_IMAGE", PNG)


def _engine_sdk(engine: EngineProcess) -> Callable[..., genai.Client]:
    """``genai.Client`` as a sample calls it: the official SDK's client of ``engine``, every
    answer checked against the spec (one transport for all the clients a test makes)."""
    options = {
        "base_url": engine.url,
        "api_version": "v1beta",
        "client_args": {"transport": OracleTransport()},
    }
    return lambda *_a, **_k: REAL_CLIENT(api_key=engine.token, http_options=options)


def _run_python_sample(
    sample: dict[str, Any],
    names: dict[str, Any],
    refused: tuple[int, str] | None,
    status_text: str = "{}",
) -> None:
    """Execute ``sample`` with ``names``: it must run, or raise the ``refused`` answer (its
    status, written as ``status_text`` says, and words)."""
    code = compile(_placeholders(sample["source"]), sample["label"], "exec")
    if refused is None:
        exec(code, names)
        return
    with pytest.raises(Exception) as caught:
        exec(code, names)
    assert status_text.format(refused[0]) in str(caught.value)
    assert refused[1] in str(caught.value).lower()


def _check_served(
    resp: httpx.Response, refused: tuple[int, str] | None, statuses: tuple[str, ...] = ()
) -> None:
    """A raw sample's answer: 200 (an interaction in one of ``statuses``), or ``refused``."""
    if refused is None:
        assert resp.status_code == 200, resp.text
        if statuses:
            assert resp.json()["status"] in statuses
    else:
        assert resp.status_code == refused[0], resp.text
        assert refused[1] in resp.json()["error"]["message"].lower()


@pytest.mark.parametrize("sample", _samples("python"))
def test_python_sample_runs(
    sample: dict[str, Any], engine: EngineProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(genai, "Client", _engine_sdk(engine))
    # The SDK raises its interactions errors (not genai.errors); their text has the status.
    _run_python_sample(sample, {}, REFUSED.get(sample["label"]), "Error code: {}")


def _curl_body(source: str) -> dict[str, Any] | None:
    """The body of a one-request sample (samples of two requests are run in Python)."""
    bodies = re.findall(r"-d '(.*?)'", source, re.S)
    return json.loads(_placeholders(bodies[0])) if len(bodies) == 1 else None


@pytest.mark.parametrize("sample", _samples("sh"))
def test_curl_sample_body_is_served(sample: dict[str, Any], engine: EngineProcess) -> None:
    body = _curl_body(sample["source"])
    if body is None:
        pytest.skip("a sample of several requests (its Python twin runs it)")
    body.pop("previous_interaction_id", None)  # names an interaction of Google's
    if body.get("environment") not in (None, "remote") and isinstance(body["environment"], str):
        body["environment"] = "remote"
    with engine.http() as http:
        resp = create(http, body)
    statuses = ("completed", "requires_action", "in_progress")
    _check_served(resp, REFUSED.get(sample["label"]), statuses)


# --- the samples of the other paths: agents, environments and their files, one interaction ---

RESOURCE_SAMPLES = [
    (path, method, sample)
    for path, ops in spec()["paths"].items()
    if path != "/{api_version}/interactions"
    for method, op in ops.items()
    if isinstance(op, dict)
    for sample in op.get("x-codeSamples", [])
]
RESOURCE_REFUSED: dict[str, tuple[int, str]] = {
    # label -> what the engine answers instead (documented in docs/engine.md)
    "agents with_sources": (400, "repository"),  # repositories need the network
    "interactions cancel": (400, "computer_use"),  # a Gemini-only tool (needs a screen)
}
RESOURCE_SKIPPED: dict[str, str] = {
    "environments get_file": "stale sample: the SDK has no environments.files.get (the "
    "curl twin sends the same GET raw)",
}


def _resource_params(lang: str) -> list[Any]:
    return [
        pytest.param(path, method, s, id=f"{method} {path} {s['label']}")
        for path, method, s in RESOURCE_SAMPLES
        if s["lang"] == lang
    ]


def _sample_key(path: str, sample: dict[str, Any]) -> str:
    return f"{path.split('/')[2]} {sample['label']}"


def _setup(client: genai.Client, path: str) -> dict[str, Any]:
    """The variables a sample takes from its page's earlier steps (``created``, …)."""
    names: dict[str, Any] = {}
    if "/agents/" in path:
        names["agent_id"] = client.agents.create(
            id=f"sample-{len(path)}-{id(names) % 100000}",
            base_agent="antigravity-preview-05-2026",
        ).id
    elif "/environments" in path:
        env = client.environments.create(
            sources=[
                {"type": "inline", "target": "main.py", "content": "print('Hello, World!')"},
                {"type": "inline", "target": "src/main.py", "content": "print('from src')"},
            ]
        )
        names["created"] = names["source_env"] = env
    elif "/interactions/" in path:
        names["created"] = client.interactions.create(model="scripted", input="[[text: hi]]")
    return names


@pytest.mark.parametrize(("path", "method", "sample"), _resource_params("python"))
def test_python_resource_sample_runs(
    path: str,
    method: str,
    sample: dict[str, Any],
    engine: EngineProcess,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each Python sample of the agents, environments and interaction pages, unchanged,
    with the variables its page set up before it."""
    client = _engine_sdk(engine)()
    monkeypatch.setattr(genai, "Client", lambda *a, **k: client)
    skipped = RESOURCE_SKIPPED.get(_sample_key(path, sample))
    if skipped:
        pytest.skip(skipped)
    names = _setup(client, path)
    _run_python_sample(sample, names, RESOURCE_REFUSED.get(_sample_key(path, sample)))


@pytest.mark.parametrize(("path", "method", "sample"), _resource_params("sh"))
def test_curl_resource_sample_is_served(
    path: str, method: str, sample: dict[str, Any], engine: EngineProcess
) -> None:
    """Each curl sample of those pages sent raw: its method, path, headers and body."""
    source = sample["source"]
    url = re.search(r"https://generativelanguage\.googleapis\.com(/[^\s'\"]*)", source)
    assert url is not None, source
    target = url.group(1)
    bodies = re.findall(r"-d '(.*?)'", source, re.S)
    if len(re.findall(r"curl ", source)) > 1 or '-d "' in source:
        pytest.skip("a sample of several requests (its Python twin runs it)")
    with engine.http() as http:
        names = _setup(engine.client(), path)
        env = names.get("created")
        if env is not None and "/environments" in path:
            target = re.sub(r"env_[A-Za-z0-9]+", str(env.id), target)
            bodies = [re.sub(r"env_[A-Za-z0-9]+", str(env.id), b) for b in bodies]
        if "agent_id" in names:
            target = re.sub(r"(/agents/)[^/?]+", rf"\g<1>{names['agent_id']}", target)
        if env is not None and "/interactions/" in path:
            target = re.sub(r"(/interactions/)[^/?:]+", rf"\g<1>{env.id}", target)
        headers = dict(re.findall(r"-H '([^:']+): ([^']*)'", source))
        headers.update(
            {k: "22" for k in re.findall(r'-H "([^:"]+): \$\(wc', source)}
        )  # the file's size, as $(wc -c < main.py) would say
        verb = re.search(r"-X (\w+)", source)
        body = json.loads(bodies[0]) if bodies else None
        resp = http.request(
            verb.group(1) if verb else ("POST" if body is not None else "GET"),
            target,
            json=body,
            headers=headers,
        )
    # What is refused is in a body (the cancel page's curl twin creates nothing).
    refused = RESOURCE_REFUSED.get(_sample_key(path, sample)) if body is not None else None
    _check_served(resp, refused)


# -- the tool schemas' own samples (built-in tools on model interactions) -----------------

TOOL_SCHEMAS = ("CodeExecution", "UrlContext", "GoogleSearch", "McpServer", "FileSearch",
                "ComputerUse", "GoogleMaps", "Function")  # fmt: skip
TOOL_REFUSED: dict[str, tuple[int, str]] = {
    "mcp_server": (400, "could not be reached"),  # the demo server is on the internet
    "file_search": (404, "no file search stores"),  # the store create is a 404 already
    "computer_use": (400, "computer_use"),
    "google_maps": (400, "google_maps"),
}


def _tool_samples(lang: str) -> list[Any]:
    schemas = spec()["components"]["schemas"]
    return [
        pytest.param(s, id=s["label"])
        for name in TOOL_SCHEMAS
        for s in schemas[name].get("x-codeSamples", [])
        if s["lang"] == lang
    ]


@pytest.mark.parametrize("sample", _tool_samples("python"))
def test_tool_python_sample_runs(
    sample: dict[str, Any], engine: EngineProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(genai, "Client", _engine_sdk(engine))
    _run_python_sample(sample, {}, TOOL_REFUSED.get(sample["label"]))


@pytest.mark.parametrize("sample", _tool_samples("sh"))
def test_tool_curl_sample_body_is_served(sample: dict[str, Any], engine: EngineProcess) -> None:
    body = _curl_body(sample["source"])
    assert body is not None
    with engine.http() as http:
        resp = create(http, body)
    refused = TOOL_REFUSED.get(sample["label"])
    if refused is not None and sample["label"] == "file_search":
        refused = (refused[0], "not found")  # the raw body names a store that is not there
    _check_served(resp, refused, ("completed", "requires_action"))
