"""Credentials in sandboxed code's own requests, against the real engine: the OS keyring (a
private Secret Service) for the values, bubblewrap for the code, the egress proxy between
them, and loopback origins that record what they got. The values must never show up in the
code's environment, its files, the transcript, the data directory or the engine's log.
"""

from __future__ import annotations

import json
import secrets
import shutil
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import EngineProcess

from support.webhook_receiver import Receiver, _handler, running_receiver
from workbench.engine.sandbox.tls_ca import LocalCA

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap"),
]

AGENT = "antigravity-preview-05-2026"

CODE = """
import json, os, urllib.request
key = os.environ["SVC_KEY"]
open("seen.txt", "w").write(json.dumps(dict(os.environ)))
for url in os.environ["URLS"].split():
    req = urllib.request.Request(url + "?key=" + key, headers={"X-Key": key})
    print(urllib.request.urlopen(req, timeout=20).read().decode())
print("KEY", key)
"""


@pytest.fixture
def https_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """An HTTPS receiver whose CA the engine process trusts (its ``SSL_CERT_FILE``)."""
    ca = LocalCA(tmp_path / "origin-ca")
    rec = Receiver("")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec))
    server.socket = ca.server_context("127.0.0.1").wrap_socket(server.socket, server_side=True)
    rec.url = f"https://127.0.0.1:{server.server_address[1]}/hook"
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.cert_path))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


def _scan(secret: str, folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def test_code_requests_carry_credentials_it_never_sees(
    keyring_env: Any, engine_factory: Any, https_site: Receiver
) -> None:
    eng: EngineProcess = engine_factory("--log-level", "debug")
    token = "tok-" + secrets.token_hex(12)
    value = "key-" + secrets.token_hex(12)
    with running_receiver() as site, eng.http() as http:
        for body in (
            {"id": "ci", "type": "bearer_token", "token": token},
            {"id": "svc", "type": "environment_variable", "value": value,
             "injection_location": ["header", "query"], "trusted_domains": ["127.0.0.1"]},
        ):  # fmt: skip
            assert http.post("/v1beta/credentials", json=body).status_code == 200
        env = http.post(
            "/v1beta/environments",
            json={"env": {"SVC_KEY": {"credential": "svc"},
                          "URLS": f"{site.url} {https_site.url}"},
                  "network": {"allowlist": [{"domain": "127.0.0.1", "credential": "ci"}]}},
        ).json()  # fmt: skip

        def run() -> dict[str, Any]:
            resp = http.post(
                "/v1beta/interactions",
                json={"agent": AGENT, "environment": env["id"],
                      "input": f"[[call code_execution {json.dumps({'language': 'python', 'code': CODE})}]]"},
            )  # fmt: skip
            assert resp.status_code == 200, resp.text
            out: dict[str, Any] = resp.json()
            return out

        first = run()
        results = [s for s in first["steps"] if s["type"] == "code_execution_result"]
        assert results and "KEY WBCRED.svc." in results[0]["result"], results
        assert "network: off" not in results[0]["result"]  # a single-host allowlist, enforced
        for origin in (site, https_site):
            got = origin.received[-1]
            assert got.headers["authorization"] == f"Bearer {token}"
            assert got.headers["x-key"] == value
            assert got.path == f"/hook?key={value}"

        # Rotation takes effect on the next request.
        rotated = "key-" + secrets.token_hex(12)
        patched = http.patch(
            "/v1beta/credentials/svc", json={"type": "environment_variable", "value": rotated}
        )
        assert patched.status_code == 200, patched.text
        second = run()
        again = [s for s in second["steps"] if s["type"] == "code_execution_result"]
        assert again and again[0]["result"].startswith("ok\nok\n"), again
        assert site.received[-1].headers["x-key"] == rotated
        assert https_site.received[-1].headers["x-key"] == rotated

        seen = json.loads(http.get(
            f"/v1beta/environments/{env['id']}/files/seen.txt", params={"alt": "media"}
        ).content)  # fmt: skip
        assert seen["SVC_KEY"].startswith("WBCRED.svc.")
        assert seen["HTTPS_PROXY"] == "http://127.0.0.1:3128"
    for secret in (token, value, rotated):
        assert secret not in json.dumps(first) + json.dumps(second)
        assert secret not in json.dumps(seen)
        assert _scan(secret, eng.data_dir) == []
        assert secret not in eng.stderr()
    assert "egress" in eng.stderr()  # the proxy did log (without the values)
    bundle = eng.data_dir / "egress-ca" / "bundle.pem"
    assert bundle.exists() and b"BEGIN CERTIFICATE" in bundle.read_bytes()


PROBE = """
import os, socket, urllib.error, urllib.parse, urllib.request
url = os.environ["URL"]
try:
    socket.create_connection(("127.0.0.1", urllib.parse.urlsplit(url).port), timeout=5).close()
    print("direct: connected")
except OSError:
    print("direct: no route")
print("proxy:", os.environ.get("HTTP_PROXY", "none"))
try:
    print(urllib.request.urlopen(url, timeout=20).read().decode())
except urllib.error.HTTPError as exc:
    print("HTTP", exc.code, exc.read().decode())
"""


def test_star_allowlist_keeps_the_host_network_unless_something_is_added(
    engine_factory: Any,
) -> None:
    eng: EngineProcess = engine_factory()
    with running_receiver() as site, eng.http() as http:

        def run(network: dict[str, Any]) -> str:
            resp = http.post(
                "/v1beta/interactions",
                json={"agent": AGENT, "input": "[[call code_execution "
                      f"{json.dumps({'language': 'python', 'code': PROBE})}]]",
                      "environment": {"type": "remote", "network": network,
                                      "env": {"URL": site.url}}},
            )  # fmt: skip
            assert resp.status_code == 200, resp.text
            steps = [s for s in resp.json()["steps"] if s["type"] == "code_execution_result"]
            return str(steps[0]["result"])

        plain = run({"allowlist": [{"domain": "*"}]})
        assert plain.startswith("direct: connected\nproxy: none\nok"), plain
        assert "x-team" not in site.received[-1].headers
        added = run({"allowlist": [{"domain": "*", "transform": {"X-Team": "blue"}}]})
        assert added.startswith("direct: no route\nproxy: http://127.0.0.1:3128\nok"), added
        assert site.received[-1].headers["x-team"] == "blue"
        single = run({"allowlist": [{"domain": "localhost"}]})
        assert "HTTP 403" in single and "127.0.0.1 is not allowed" in single, single
