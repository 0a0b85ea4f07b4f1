"""Agent tools: registry, code_execution, file tools, url_context, google_search, functions."""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from workbench.engine.agent import ToolContext, build_registry, shorten
from workbench.engine.agent.tools_web import SEARCH_OFFLINE
from workbench.engine.sandbox import InvalidRequest, Mechanism
from workbench.engine.sandbox import isolation as iso
from workbench.engine.sandbox.network import parse_network
from workbench.protocol import (
    CodeExecutionResultStep,
    FunctionCallStep,
    FunctionResultStep,
    GoogleSearchResultStep,
    UrlContextCallStep,
    UrlContextResultStep,
)

pytestmark = pytest.mark.timeout(60)


async def test_default_registry() -> None:
    reg = await build_registry(None)
    assert reg.names == [
        "code_execution",
        "google_search",
        "url_context",
        "read_file",
        "write_file",
        "list_files",
        "delete_file",
    ]
    for decl in reg.declarations():
        assert (
            decl["parameters"]["type"] == "object"
            and decl["parameters"]["additionalProperties"] is False
        )
    only = await build_registry([{"type": "url_context"}], with_file_tools=False)
    assert only.names == ["url_context"]
    with pytest.raises(InvalidRequest, match="computer_use"):
        await build_registry([{"type": "computer_use"}])


async def test_unknown_tool_and_bad_args(ctx: ToolContext) -> None:
    reg = await build_registry(None)
    out = await reg.run("nope", {}, ctx)
    assert out.is_error and "no tool named 'nope'" in out.text
    out = await reg.run("code_execution", {"language": "cobol", "code": "x"}, ctx)
    assert out.is_error and "invalid arguments" in out.text
    out = await reg.run("read_file", {"path": "a", "extra": 1}, ctx)
    assert out.is_error and "invalid arguments" in out.text
    out = await reg.run("read_file", "not-an-object", ctx)
    assert out.is_error


async def test_code_execution_steps(ctx: ToolContext) -> None:
    if (await iso.detect()).mechanism is not Mechanism.BWRAP:
        pytest.skip("bubblewrap is not usable here")
    reg = await build_registry(None)
    args = {"language": "python", "code": "print(6 * 7)\nopen('out.txt', 'w').write('ok')"}
    out = await reg.run("code_execution", args, ctx)
    assert not out.is_error and out.text == "42"
    tool = reg.get("code_execution")
    assert tool is not None
    call = tool.call_step("c1", args).to_wire()
    assert call == {
        "type": "code_execution_call",
        "id": "c1",
        "arguments": {"code": args["code"], "language": "python"},
    }
    res = tool.result_step("c1", out)
    assert isinstance(res, CodeExecutionResultStep) and res.result == "42" and res.is_error is None
    out = await reg.run(
        "code_execution", {"language": "bash", "code": "echo oops >&2; exit 4"}, ctx
    )
    assert out.is_error and "[stderr]\noops" in out.text and "[exit status 4]" in out.text
    # an allowlist of single hosts keeps code offline and says so
    narrow = replace(ctx, network=parse_network({"allowlist": [{"domain": "pypi.org"}]}))
    out = await reg.run("code_execution", {"language": "bash", "code": "true"}, narrow)
    assert "network: off for code" in out.text


async def test_file_tools(ctx: ToolContext, root: Path, tmp_path: Path) -> None:
    reg = await build_registry(None)
    out = await reg.run("write_file", {"path": "/notes/a.md", "content": "hello"}, ctx)
    assert not out.is_error and (root / "notes/a.md").read_text() == "hello"
    out = await reg.run("read_file", {"path": "notes/a.md"}, ctx)
    assert out.text == "hello"
    out = await reg.run("list_files", {"path": "."}, ctx)
    assert out.text == "notes/\nnotes/a.md (5 bytes)"
    step = reg.get("read_file").call_step("f1", {"path": "notes/a.md"})  # type: ignore[union-attr]
    assert isinstance(step, FunctionCallStep) and step.name == "read_file"
    res = reg.get("read_file").result_step("f1", out)  # type: ignore[union-attr]
    assert isinstance(res, FunctionResultStep) and res.call_id == "f1"
    out = await reg.run("delete_file", {"path": "notes/a.md"}, ctx)
    assert not out.is_error and not (root / "notes/a.md").exists()
    (root / "bin.dat").write_bytes(b"\x00\x01")
    assert "binary" in (await reg.run("read_file", {"path": "bin.dat"}, ctx)).text


@pytest.mark.parametrize(
    "path",
    ["../outside.txt", "/../outside.txt", "notes/../../outside.txt", "escape", "escape_dir/x"],
)
async def test_file_tools_refuse_escapes(ctx: ToolContext, root: Path, path: str) -> None:
    outside = root.parent.parent
    (outside / "outside.txt").write_text("SECRET")
    (root / "escape").symlink_to(outside / "outside.txt")
    (root / "escape_dir").symlink_to(outside)
    reg = await build_registry(None)
    for name, args in (
        ("read_file", {"path": path}),
        ("write_file", {"path": path, "content": "pwned"}),
        ("delete_file", {"path": path}),
        ("list_files", {"path": path}),
    ):
        out = await reg.run(name, args, ctx)
        if name == "delete_file" and path == "escape":
            # the link itself lives in the sandbox: deleting removes the link, never its target
            assert not out.is_error and not (root / "escape").is_symlink()
            continue
        assert out.is_error, (name, path, out.text)
        assert "SECRET" not in out.text
    assert (outside / "outside.txt").read_text() == "SECRET"


async def test_absolute_path_reads_the_sandbox_not_the_host(ctx: ToolContext) -> None:
    reg = await build_registry(None)
    out = await reg.run("read_file", {"path": "/etc/passwd"}, ctx)
    assert out.is_error and "root:" not in out.text


async def test_google_search_is_unavailable(ctx: ToolContext) -> None:
    reg = await build_registry(None)
    out = await reg.run("google_search", {"queries": ["weather in Paris"]}, ctx)
    assert out.is_error and "unavailable" in out.text and "no results" in out.text
    res = reg.get("google_search").result_step("g1", out)  # type: ignore[union-attr]
    assert isinstance(res, GoogleSearchResultStep) and res.is_error is True
    assert [r.search_suggestions for r in res.result] == [SEARCH_OFFLINE]


async def test_url_context_with_network_disabled(ctx: ToolContext) -> None:
    reg = await build_registry(None)
    out = await reg.run("url_context", {"urls": ["https://example.com/"]}, ctx)
    assert out.is_error and "network access is disabled" in out.text
    assert out.result == [{"url": "https://example.com/", "status": "error"}]


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/redirect-out":
            self.send_response(302)
            self.send_header("Location", "http://not-allowed.invalid/")
            self.end_headers()
            return
        body = (
            "<html><head><title>Test page</title><style>p{}</style></head>"
            f"<body><p>Hello <b>world</b></p><script>evil()</script><p>auth={self.headers.get('X-Token')}</p></body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(5)


async def test_url_context_fetches_allowed_local_page(ctx: ToolContext, http_port: int) -> None:
    policy = parse_network(
        {"allowlist": [{"domain": "127.0.0.1", "transform": {"X-Token": "abc"}}]}
    )
    reg = await build_registry(None)
    url = f"http://127.0.0.1:{http_port}/page"
    out = await reg.run(
        "url_context", {"urls": [url, "http://other.invalid/"]}, replace(ctx, network=policy)
    )
    assert out.result == [
        {"url": url, "status": "success"},
        {"url": "http://other.invalid/", "status": "error"},
    ]
    assert "Test page" in out.text and "Hello world" in out.text and "auth=abc" in out.text
    assert "evil()" not in out.text and "not in the environment's network allowlist" in out.text
    tool = reg.get("url_context")
    assert tool is not None
    assert isinstance(tool.call_step("u1", {"urls": [url]}), UrlContextCallStep)
    res = tool.result_step("u1", out)
    assert (
        isinstance(res, UrlContextResultStep)
        and res.result is not None
        and res.result[0].status == "success"
    )
    redirect = await reg.run(
        "url_context",
        {"urls": [f"http://127.0.0.1:{http_port}/redirect-out"]},
        replace(ctx, network=policy),
    )
    assert redirect.is_error and "not-allowed.invalid is not in" in redirect.text


async def test_url_context_star_does_not_reach_loopback(ctx: ToolContext, http_port: int) -> None:
    reg = await build_registry(None)
    star = parse_network({"allowlist": [{"domain": "*"}]})
    out = await reg.run(
        "url_context", {"urls": [f"http://localhost:{http_port}/"]}, replace(ctx, network=star)
    )
    assert out.is_error and "local or private address" in out.text


async def test_client_function_requires_action(ctx: ToolContext) -> None:
    reg = await build_registry(
        [
            {
                "type": "function",
                "name": "get_weather",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string", "minLength": 3}},
                },
            }
        ]
    )
    out = await reg.run("get_weather", {"city": "X"}, ctx)
    assert out.requires_action
    tool = reg.get("get_weather")
    assert tool is not None and tool.result_step("c", out) is None
    assert tool.call_step("c", {"city": "X"}).to_wire() == {
        "type": "function_call",
        "id": "c",
        "name": "get_weather",
        "arguments": {"city": "X"},
    }
    # a client function with a built-in's name wins over the built-in
    reg = await build_registry([{"type": "function", "name": "read_file"}])
    assert reg.get("read_file").kind == "client"  # type: ignore[union-attr]


def test_shorten() -> None:
    assert shorten("abc", 10) == "abc"
    text = shorten("a" * 50 + "b" * 50, 30)
    assert text.startswith("a" * 20) and text.endswith("b" * 10) and "70 characters omitted" in text


async def test_cancel_event_stops_code(ctx: ToolContext) -> None:
    if (await iso.detect()).mechanism is not Mechanism.BWRAP:
        pytest.skip("bubblewrap is not usable here")
    cancel = asyncio.Event()
    reg = await build_registry(None)
    asyncio.get_running_loop().call_later(0.3, cancel.set)
    out = await reg.run(
        "code_execution", {"language": "bash", "code": "sleep 20"}, replace(ctx, cancel=cancel)
    )
    assert out.is_error and "cancelled" in out.text
