"""The egress proxy with real sandboxed programs and real origin servers on 127.0.0.1.

An HTTP and an HTTPS origin echo what they received; code in the bubblewrap sandbox calls
them with python urllib and curl through the proxy. Credentials come from a small in-memory
``CredentialSource`` (the engine's keyring-backed one is tested end to end in
``tests/engine/test_engine_egress.py``); each test scans what the sandbox could see for the
secret.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from workbench.engine.sandbox import CodeRunner
from workbench.engine.sandbox.egress_proxy import EgressGrant, EgressProxy, Refused
from workbench.engine.sandbox.network import DomainRule, parse_network
from workbench.engine.sandbox.tls_ca import LocalCA

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")


class _Echo(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        data = json.dumps({"path": self.path, "headers": dict(self.headers.items()),
                           "body": body}).encode()  # fmt: skip
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        return


def _serve(context: ssl.SSLContext | None) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def origin_ca(tmp_path: Path) -> LocalCA:
    return LocalCA(tmp_path / "origin-ca")


@pytest.fixture
def http_port() -> Iterator[int]:
    yield from _serve(None)


@pytest.fixture
def https_port(origin_ca: LocalCA) -> Iterator[int]:
    yield from _serve(origin_ca.server_context("127.0.0.1"))


class Source:
    """Credentials as the engine's ops layer answers them, kept in a dict."""

    def __init__(self) -> None:
        self.bearer: dict[str, str] = {}
        self.values: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}

    async def rule_header(self, credential_id: str, domain: str) -> tuple[str, str]:
        if credential_id not in self.bearer:
            raise Refused(f"credential {credential_id!r} for {domain} not found")
        return "Authorization", f"Bearer {self.bearer[credential_id]}"

    async def trusts(self, credential_id: str, host: str) -> bool:
        entry = self.values.get(credential_id)
        return entry is not None and any(DomainRule(d).matches(host) for d in entry[1])

    async def value(self, credential_id: str, host: str, location: str) -> str | None:
        entry = self.values.get(credential_id)
        if entry is None or location not in entry[2] or not await self.trusts(credential_id, host):
            return None
        return entry[0]


@pytest.fixture
def source() -> Source:
    return Source()


@pytest.fixture
def proxy(tmp_path: Path, source: Source, origin_ca: LocalCA) -> EgressProxy:
    origin_ca.ensure()
    upstream = ssl.create_default_context(cafile=str(origin_ca.cert_path))
    return EgressProxy(tmp_path / "data" / "egress-ca", source, upstream)


def _grant(proxy: EgressProxy, allowlist: list[dict[str, Any]], *creds: str) -> EgressGrant:
    return proxy.grant("env_test", parse_network({"allowlist": allowlist}), creds)


FETCH = """
import json, os, sys, urllib.request, urllib.error
url = sys.argv[1] if len(sys.argv) > 1 else {url!r}
req = urllib.request.Request(url, data={data!r}, headers={headers!r})
try:
    with urllib.request.urlopen(req, timeout=20) as resp:
        print(resp.read().decode())
except urllib.error.HTTPError as exc:
    print("HTTP", exc.code, exc.read().decode())
"""


def _fetch(url: str, headers: dict[str, str] | None = None, data: bytes | None = None) -> str:
    return FETCH.format(url=url, headers=headers or {}, data=data)


def _echo(stdout: str) -> dict[str, Any]:
    return dict(json.loads(stdout.strip().splitlines()[-1]))


def _scan(secret: str, root: Path, *texts: str) -> None:
    """The secret is in none of ``texts`` and no file under ``root``."""
    for text in texts:
        assert secret not in text
    for path in root.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


async def test_http_request_gets_the_allowlist_credential(
    runner: CodeRunner, root: Path, proxy: EgressProxy, source: Source, http_port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    secret = "tok-" + secrets.token_hex(12)
    source.bearer["gh"] = secret
    grant = _grant(proxy, [{"domain": "127.0.0.1", "credential": "gh",
                            "transform": {"X-Team": "blue"}}])  # fmt: skip
    code = _fetch(f"http://127.0.0.1:{http_port}/api?x=1") + (
        "import os\nopen('env.txt','w').write(json.dumps(dict(os.environ)))\n"
        "print(open('/proc/self/environ','rb').read().decode('latin-1'), file=sys.stderr)\n"
    )
    res = await runner.run(root, code, egress=grant)
    assert res.ok, res.stderr
    assert res.proxied and res.network
    seen = _echo(res.stdout)
    assert seen["path"] == "/api?x=1"
    assert seen["headers"]["Authorization"] == f"Bearer {secret}"
    assert seen["headers"]["X-Team"] == "blue"
    env = json.loads((root / "env.txt").read_text())
    assert env["HTTP_PROXY"] == "http://127.0.0.1:3128"
    (root / "env.txt").unlink()
    _scan(secret, root, res.stderr, caplog.text, json.dumps(env))
    _scan(secret, proxy.ca.directory)

    # Rotation and deletion take effect on the next request.
    source.bearer["gh"] = "tok-rotated"
    res = await runner.run(root, _fetch(f"http://127.0.0.1:{http_port}/"), egress=grant)
    assert _echo(res.stdout)["headers"]["Authorization"] == "Bearer tok-rotated"
    del source.bearer["gh"]
    res = await runner.run(root, _fetch(f"http://127.0.0.1:{http_port}/"), egress=grant)
    assert res.stdout.startswith("HTTP 403") and "'gh'" in res.stdout


async def test_https_is_intercepted_only_for_credential_hosts(
    runner: CodeRunner, root: Path, proxy: EgressProxy, source: Source, https_port: int,
    origin_ca: LocalCA,
) -> None:  # fmt: skip
    secret = "tok-" + secrets.token_hex(12)
    source.bearer["api"] = secret
    url = f"https://127.0.0.1:{https_port}/secure"
    grant = _grant(proxy, [{"domain": "127.0.0.1", "credential": "api"}])
    curl = f"curl -sS --max-time 20 {url}\necho\ncurl -sS --max-time 20 -d 'a=1' {url}?q=2\n"
    res = await runner.run(root, curl, "bash", egress=grant)
    assert res.ok, res.stderr
    first, second = (json.loads(line) for line in res.stdout.splitlines() if line)
    assert first["headers"]["Authorization"] == f"Bearer {secret}"
    assert second["path"] == "/secure?q=2" and second["body"] == "a=1"
    assert second["headers"]["Authorization"] == f"Bearer {secret}"
    res = await runner.run(root, _fetch(url), egress=grant)
    assert _echo(res.stdout)["headers"]["Authorization"] == f"Bearer {secret}"
    _scan(secret, root, res.stdout.replace(secret, ""), res.stderr)

    # Without a credential the host is tunnelled: the code sees the origin's own
    # certificate, which its bundle does not trust (the proxy did not touch the TLS).
    plain = _grant(proxy, [{"domain": "127.0.0.1"}])
    res = await runner.run(root, _fetch(url), egress=plain)
    assert "CERTIFICATE_VERIFY_FAILED" in res.stderr
    trusting = (
        "import ssl, urllib.request\n"
        f"ctx = ssl.create_default_context(cadata={origin_ca.cert_path.read_text()!r})\n"
        f"print(urllib.request.urlopen({url!r}, context=ctx, timeout=20).read().decode())\n"
    )
    res = await runner.run(root, trusting, egress=plain)
    assert res.ok, res.stderr
    assert "Authorization" not in _echo(res.stdout)["headers"]


async def test_hosts_outside_the_allowlist_are_refused(
    runner: CodeRunner, root: Path, proxy: EgressProxy, http_port: int
) -> None:
    grant = _grant(proxy, [{"domain": "example.org"}])
    res = await runner.run(root, _fetch(f"http://127.0.0.1:{http_port}/"), egress=grant)
    assert res.stdout.startswith("HTTP 403")
    assert "127.0.0.1 is not allowed" in res.stdout and "example.org" in res.stdout
    code = f"curl -sS --max-time 20 https://localhost:{http_port}/ 2>&1; echo; exit 0"
    res = await runner.run(root, code, "bash", egress=grant)
    assert "403" in res.stdout
    # No route around the proxy: a direct connection finds nothing.
    direct = (
        "import socket\ntry:\n"
        f"    socket.create_connection(('127.0.0.1', {http_port}), timeout=5)\n"
        "    print('connected')\nexcept OSError as exc:\n    print('blocked', exc)\n"
    )
    res = await runner.run(root, direct, egress=grant)
    assert res.stdout.startswith("blocked")


async def test_environment_variable_placeholders(
    runner: CodeRunner, root: Path, proxy: EgressProxy, source: Source, http_port: int,
    https_port: int,
) -> None:  # fmt: skip
    secret = "key-" + secrets.token_hex(12)
    source.values["svc"] = (secret, ("127.0.0.1",), ("header", "query", "body"))
    source.values["hdr"] = (secret + "-h", ("127.0.0.1",), ("header",))
    grant = _grant(proxy, [{"domain": "*"}], "svc", "hdr")
    token, only_header = proxy.placeholder("env_test", "svc"), proxy.placeholder("env_test", "hdr")
    env = {"SVC_KEY": token, "HDR_KEY": only_header}
    code = (
        "import json, os, urllib.request\n"
        "key, hdr = os.environ['SVC_KEY'], os.environ['HDR_KEY']\n"
        "req = urllib.request.Request(os.environ['URL'], data=f'k={key}&h={hdr}'.encode(),\n"
        "                             headers={'X-Key': key})\n"
        "print(urllib.request.urlopen(req, timeout=20).read().decode())\n"
    )
    for url in (f"http://127.0.0.1:{http_port}/q?key={token}&h={only_header}",
                f"https://127.0.0.1:{https_port}/q?key={token}"):  # fmt: skip
        res = await runner.run(root, code, env={**env, "URL": url}, egress=grant)
        assert res.ok, res.stderr
        seen = _echo(res.stdout)
        assert seen["headers"]["X-Key"] == secret
        assert seen["path"].startswith(f"/q?key={secret}")
        assert seen["body"] == f"k={secret}&h={only_header}"  # not allowed in the body
        if "&h=" in seen["path"]:
            assert seen["path"].endswith(f"&h={only_header}")  # nor in the query
    # Only the query is "query": a placeholder in the path stays.
    res = await runner.run(
        root, code, env={**env, "URL": f"http://127.0.0.1:{http_port}/p/{token}"}, egress=grant
    )
    assert _echo(res.stdout)["path"] == f"/p/{token}"
    # Another environment's placeholder, or an untrusted host, gets nothing.
    other = proxy.placeholder("env_other", "svc")
    res = await runner.run(
        root, code,
        env={"URL": f"http://127.0.0.1:{http_port}/?k={other}", "SVC_KEY": other, "HDR_KEY": ""},
        egress=grant,
    )  # fmt: skip
    assert secret not in res.stdout
    source.values["svc"] = (secret, ("example.org",), ("header", "query", "body"))
    res = await runner.run(
        root, code, env={**env, "URL": f"http://localhost:{http_port}/"}, egress=grant
    )
    assert secret not in res.stdout and _echo(res.stdout)["headers"]["X-Key"] == token


async def test_disabled_network_starts_no_proxy(
    runner: CodeRunner, root: Path, proxy: EgressProxy, http_port: int
) -> None:
    grant = proxy.grant("env_test", parse_network("disabled"))
    code = "import os\nprint(sorted(k for k in os.environ if 'PROXY' in k.upper()))\n"
    res = await runner.run(root, code, egress=grant)
    assert res.ok and res.stdout.strip() == "[]"
    assert not res.proxied and not res.network


async def test_large_post_with_expect_continue(
    runner: CodeRunner, root: Path, proxy: EgressProxy, source: Source, http_port: int
) -> None:
    """curl sends ``Expect: 100-continue`` for big bodies; the proxy answers it itself."""
    source.bearer["gh"] = "tok-big"
    grant = _grant(proxy, [{"domain": "127.0.0.1", "credential": "gh"}])
    summary = (
        "import json, sys; d = json.load(sys.stdin); print(json.dumps({'n': len(d['body']), "
        "'a': d['body'].count('a'), 'auth': d['headers'].get('Authorization'), "
        "'expect': 'Expect' in d['headers']}))"
    )
    code = (
        "python3 -c \"open('big.txt', 'w').write('a' * 300000)\"\n"
        f"curl -sS --max-time 20 --data-binary @big.txt http://127.0.0.1:{http_port}/up"
        f' | python3 -c "{summary}"\n'
    )
    res = await runner.run(root, code, "bash", egress=grant)
    assert res.ok, res.stderr
    seen = json.loads(res.stdout)
    assert seen == {"n": 300000, "a": 300000, "auth": "Bearer tok-big", "expect": False}


async def test_line_breaks_never_split_the_request_head(
    runner: CodeRunner, root: Path, proxy: EgressProxy, source: Source, http_port: int
) -> None:
    url = f"http://127.0.0.1:{http_port}/"
    bad = _grant(proxy, [{"domain": "127.0.0.1", "transform": {"X-Bad": "a\r\nInjected: 1"}}])
    res = await runner.run(root, _fetch(url), egress=bad)
    assert res.stdout.startswith("HTTP 403") and "line break" in res.stdout
    source.values["nl"] = ("v\r\nInjected: 1", ("127.0.0.1",), ("header", "query"))
    token = proxy.placeholder("env_test", "nl")
    grant = _grant(proxy, [{"domain": "127.0.0.1"}], "nl")
    res = await runner.run(root, _fetch(f"{url}?q={token}", {"X-Key": token}), egress=grant)
    seen = _echo(res.stdout)
    assert seen["headers"]["X-Key"] == token and "Injected" not in seen["headers"]
    assert seen["path"] == "/?q=v%0D%0AInjected%3A%201"


async def test_a_damaged_ca_is_made_again_and_a_broken_one_refuses_cleanly(
    runner: CodeRunner, root: Path, proxy: EgressProxy, source: Source, https_port: int,
    tmp_path: Path,
) -> None:  # fmt: skip
    proxy.ca.ensure()
    (proxy.ca.directory / "ca-key.pem").write_text("garbage")
    again = EgressProxy(proxy.ca.directory, source, proxy.upstream_tls)
    source.bearer["gh"] = "tok-x"
    grant = again.grant("env_test", parse_network({"allowlist": [
        {"domain": "127.0.0.1", "credential": "gh"}]}))  # fmt: skip
    res = await runner.run(root, _fetch(f"https://127.0.0.1:{https_port}/"), egress=grant)
    assert _echo(res.stdout)["headers"]["Authorization"] == "Bearer tok-x"
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the CA folder should be")
    broken = EgressProxy(blocked / "ca", source)
    res = await runner.run(root, "print(1)", egress=broken.grant("env_test", grant.policy))
    assert res.refused and "egress proxy failed" in res.refused


async def test_chunked_body_is_reframed_with_its_placeholder_swapped(
    runner: CodeRunner, root: Path, proxy: EgressProxy, source: Source, http_port: int
) -> None:
    secret = "key-" + secrets.token_hex(8)
    source.values["svc"] = (secret, ("127.0.0.1",), ("body",))
    token = proxy.placeholder("env_test", "svc")
    grant = _grant(proxy, [{"domain": "127.0.0.1"}], "svc")
    code = (
        f"printf 'k={token}' | curl -sS --max-time 20 -H 'Transfer-Encoding: chunked' "
        f"--data-binary @- http://127.0.0.1:{http_port}/c\n"
    )
    res = await runner.run(root, code, "bash", env={"K": token}, egress=grant)
    assert res.ok, res.stderr
    seen = _echo(res.stdout)
    assert seen["body"] == f"k={secret}"
    assert seen["headers"]["Content-Length"] == str(len(f"k={secret}"))
    assert "Transfer-Encoding" not in seen["headers"]
