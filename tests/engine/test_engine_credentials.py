"""Credentials against the real engine: the official SDK for the resource, the OS keyring
(a private Secret Service) for the values, an environment's ``env`` naming one.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

import pytest
from engine_helpers import EngineProcess
from google.genai._gaos.lib import compat_errors

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.filterwarnings("ignore:.*experimental.*:UserWarning"),
]

AGENT = "antigravity-preview-05-2026"


def test_credential_resource_with_the_sdk(keyring_env: Any, engine_factory: Any) -> None:
    eng: EngineProcess = engine_factory()
    client = eng.client()
    value = "ghp_" + secrets.token_hex(16)
    made = client.credentials.create(
        id="github", type="environment_variable", value=value,
        injection_location="header", trusted_domains=["api.github.com"],
    )  # fmt: skip
    assert (made.id, made.type, made.status) == ("github", "environment_variable", "active")
    assert value not in json.dumps(made.model_dump(mode="json"))
    assert client.credentials.get("github").create_time == made.create_time
    listed = client.credentials.list().credentials or []
    assert [c.id for c in listed] == ["github"]
    updated = client.credentials.update(
        "github", type="environment_variable", value="ghp_" + secrets.token_hex(16)
    )
    assert updated.update_time and updated.update_time > (made.update_time or "")
    client.credentials.delete("github")
    with pytest.raises(compat_errors.APIError) as info:
        client.credentials.get("github")
    assert info.value.status_code == 404


def test_kinds_and_bad_credentials(keyring_env: Any, engine_factory: Any) -> None:
    eng: EngineProcess = engine_factory()
    with eng.http() as http:
        bearer = http.post(
            "/v1beta/credentials", json={"id": "ci", "type": "bearer_token", "token": "tok-1"}
        )
        assert bearer.status_code == 200 and bearer.json()["type"] == "bearer_token"
        oauth = http.post(
            "/v1beta/credentials",
            json={"id": "drive", "type": "oauth2", "client_id": "cid", "client_secret": "cs",
                  "refresh_token": "rt", "token_url": "https://oauth2.example/token",
                  "scopes": ["drive.readonly"]},
        )  # fmt: skip
        assert oauth.status_code == 200 and set(oauth.json()) == {
            "id", "type", "status", "create_time", "update_time"
        }  # fmt: skip
        cases = [
            ({"id": "x", "type": "password", "value": "v"}, 400, "type must be one of"),
            ({"id": "x", "type": "bearer_token"}, 400, "token is required"),
            ({"id": "bad id!", "type": "bearer_token", "token": "t"}, 400, "not valid"),
            ({"id": "y", "type": "environment_variable", "value": "v",
              "injection_location": "cookie"}, 400, "injection_location"),
            ({"id": "ci", "type": "bearer_token", "token": "again"}, 409, "already exists"),
        ]  # fmt: skip
        for body, status, words in cases:
            resp = http.post("/v1beta/credentials", json=body)
            assert resp.status_code == status, (body, resp.text)
            assert words in resp.json()["error"]["message"]
        wrong = http.patch("/v1beta/credentials/ci", json={"type": "oauth2", "client_id": "z"})
        assert wrong.status_code == 400 and "cannot change" in wrong.json()["error"]["message"]
        paged = http.get("/v1beta/credentials", params={"page_size": 1}).json()
        assert len(paged["credentials"]) == 1 and paged["next_page_token"]
        rest = http.get("/v1beta/credentials", params={"page_token": paged["next_page_token"]})
        assert [c["id"] for c in rest.json()["credentials"]] == ["drive"]


def test_no_keyring_refuses_credentials(engine_factory: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    eng: EngineProcess = engine_factory()
    with eng.http() as http:
        resp = http.post(
            "/v1beta/credentials", json={"id": "ci", "type": "bearer_token", "token": "tok"}
        )
        assert resp.status_code == 503
        message = resp.json()["error"]["message"]
        assert "keyring" in message and "tok" not in message
        assert http.get("/v1beta/credentials").json() == {"credentials": []}


def test_environment_env_takes_a_credential(keyring_env: Any, engine_factory: Any) -> None:
    """The sandboxed code gets the value as a variable; the environment shows the reference."""
    eng: EngineProcess = engine_factory()
    value = "s3cr3t-" + secrets.token_hex(12)
    code = {
        "language": "python",
        "code": "import hashlib, os\nprint(hashlib.sha256(os.environ['API_TOKEN'].encode())"
        ".hexdigest())",
    }
    with eng.http() as http:
        made = http.post(
            "/v1beta/credentials",
            json={"id": "api", "type": "environment_variable", "value": value,
                  "injection_location": "header"},
        )  # fmt: skip
        assert made.status_code == 200, made.text
        env = http.post(
            "/v1beta/environments", json={"env": {"API_TOKEN": {"credential": "api"}}}
        ).json()
        assert env["env"] == {"API_TOKEN": {"credential": "api"}}
        run = http.post(
            "/v1beta/interactions",
            json={"agent": AGENT, "environment": env["id"],
                  "input": f"[[call code_execution {json.dumps(code)}]]"},
        ).json()  # fmt: skip
        results = [s for s in run["steps"] if s["type"] == "code_execution_result"]
        assert (
            results and results[0]["result"].strip() == hashlib.sha256(value.encode()).hexdigest()
        )
        missing = http.post(
            "/v1beta/interactions",
            json={"agent": AGENT, "input": "hi",
                  "environment": {"type": "remote", "env": {"X": {"credential": "nope"}}}},
        )  # fmt: skip
        assert missing.status_code == 400
        assert "credential 'nope' not found" in missing.json()["error"]["message"]


def test_allowlist_credentials_reach_url_context_only(
    keyring_env: Any, engine_factory: Any
) -> None:
    """A bearer and an OAuth2 credential named in the allowlist: the engine's fetch carries
    them (the access token got with the refresh token); the model's transcript does not."""
    from support.webhook_receiver import running_receiver

    eng: EngineProcess = engine_factory()
    token = "tok-" + secrets.token_hex(8)
    access = "acc-" + secrets.token_hex(8)
    with running_receiver() as site, running_receiver() as oauth, eng.http() as http:
        site.reply, site.reply_type = b"<html><title>Hi</title>hello page</html>", "text/html"
        oauth.reply = json.dumps({"access_token": access, "expires_in": 3600}).encode()
        oauth.reply_type = "application/json"
        for body in (
            {"id": "ci", "type": "bearer_token", "token": token, "prefix": "Token"},
            {"id": "drive", "type": "oauth2", "client_id": "cid", "client_secret": "cs-1",
             "refresh_token": "rt-1", "token_url": oauth.url, "scopes": ["read"]},
            {"id": "plain", "type": "environment_variable", "value": "v",
             "injection_location": "header"},
        ):  # fmt: skip
            assert http.post("/v1beta/credentials", json=body).status_code == 200

        def run(credential: str) -> dict[str, Any]:
            network = {"allowlist": [{"domain": "127.0.0.1", "credential": credential}]}
            call = {"urls": [site.url]}
            resp = http.post(
                "/v1beta/interactions",
                json={"agent": AGENT, "input": f"[[call url_context {json.dumps(call)}]]",
                      "environment": {"type": "remote", "network": network}},
            )  # fmt: skip
            out: dict[str, Any] = resp.json()
            out["_status"] = resp.status_code
            return out

        first = run("ci")
        assert first["status"] == "completed", first
        assert site.received[0].headers["authorization"] == f"Token {token}"
        assert "hello page" in json.dumps(first["steps"]) and token not in json.dumps(first)
        second = run("drive")
        assert second["status"] == "completed", second
        assert site.received[1].headers["authorization"] == f"Bearer {access}"
        grant = oauth.received[0].body.decode()
        assert "grant_type=refresh_token" in grant and "refresh_token=rt-1" in grant
        assert access not in json.dumps(second)
        run("drive")  # the access token is kept until it expires: no second grant
        assert len(oauth.received) == 1
        refused = run("plain")
        assert refused["_status"] == 400
        assert "allowlist entries take" in refused["error"]["message"]
