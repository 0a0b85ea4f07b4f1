"""Discovery of OpenAI-compatible servers. Ollama's ``/api/tags`` shape comes from a small
loopback fake (no real Ollama runs here); the real llama.cpp server is covered in
``tests/engine/backends/test_models_real_server.py``."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from workbench.client.discovery import discover, normalize_base_url, probe

OLLAMA_TAGS = {
    "models": [
        {
            "name": "qwen2.5-coder:1.5b",
            "model": "qwen2.5-coder:1.5b",
            "size": 986_061_892,
            "details": {"family": "qwen2", "parameter_size": "1.5B", "quantization_level": "Q4_K_M"},
        },
        {"name": "nomic-embed-text:latest", "model": "nomic-embed-text:latest", "size": 274_302_450,
         "details": {"family": "nomic-bert", "quantization_level": "F16"}},
    ]
}  # fmt: skip
OPENAI_MODELS = {"object": "list", "data": [{"id": "qwen2.5-coder:1.5b", "object": "model"}]}


class FakeServer:
    """Answers fixed JSON per path (or a status); anything else is a 404."""

    def __init__(self, routes: dict[str, tuple[int, Any]]) -> None:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = outer.routes.get(self.path, (404, {"error": "not found"}))
                data = json.dumps(body).encode() if not isinstance(body, bytes) else body
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.routes = routes
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    server = FakeServer({})
    try:
        yield server
    finally:
        server.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_ollama_is_recognised_with_sizes_and_quantization(fake: FakeServer) -> None:
    fake.routes.update({"/v1/models": (200, OPENAI_MODELS), "/api/tags": (200, OLLAMA_TAGS)})
    found = await probe(fake.base, "Ollama")
    assert found.ok and found.kind == "ollama" and found.name == "Ollama"
    first, second = found.models
    assert (first.id, first.size, first.quantization, first.family) == (
        "qwen2.5-coder:1.5b",
        986_061_892,
        "Q4_K_M",
        "qwen2",
    )
    assert second.id == "nomic-embed-text:latest"  # only in /api/tags: still listed


async def test_a_plain_openai_server(fake: FakeServer) -> None:
    body = {"data": [{"id": "m", "max_model_len": 8192}, {"id": ""}, "junk"]}
    fake.routes["/v1/models"] = (200, body)
    found = await probe(fake.base)
    assert found.ok and found.kind == "openai"
    assert [(m.id, m.context_length) for m in found.models] == [("m", 8192)]


@pytest.mark.parametrize(
    ("route", "problem"),
    [
        ((401, {"error": "no key"}), "wants an API key"),
        ((500, {"error": "boom"}), "HTTP 500"),
        ((200, {"models": []}), "not OpenAI-compatible"),
        ((200, b"<html>hi</html>"), "not OpenAI-compatible"),
    ],
)
async def test_odd_servers_are_listed_with_the_reason(
    fake: FakeServer, route: tuple[int, Any], problem: str
) -> None:
    fake.routes["/v1/models"] = route
    found = await probe(fake.base)
    assert not found.ok
    assert problem in found.problem


async def test_discover_probes_well_known_and_user_urls_at_once(fake: FakeServer) -> None:
    fake.routes["/v1/models"] = (200, OPENAI_MODELS)
    nobody = f"http://127.0.0.1:{closed_port()}/v1"
    found = await discover(
        [fake.base.removesuffix("/v1"), "not a url at all://"],
        well_known=(("Nobody", nobody),),
        seconds=1.0,
    )
    assert [(f.name, f.ok) for f in found] == [
        ("Nobody", False), (fake.base.removeprefix("http://").removesuffix("/v1"), True),
        ("not a url at all://", False),
    ]  # fmt: skip
    assert found[0].problem == "nothing is listening there"
    assert found[1].base_url == fake.base


def test_normalize_base_url() -> None:
    assert normalize_base_url("localhost:1234") == "http://localhost:1234/v1"
    assert normalize_base_url("https://gpu.example/openai/v1/") == "https://gpu.example/openai/v1"
    with pytest.raises(ValueError, match="Enter a server URL"):
        normalize_base_url("  ")
