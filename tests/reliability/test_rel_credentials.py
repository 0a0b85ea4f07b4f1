"""Issue 16: after a session that used credentials, their values are found nowhere.

The session, against the real engine (scripted backend, logging at DEBUG) with a real Secret
Service keyring: credentials of all three kinds are created and one is updated; an
environment's ``env`` names one and an agent's code reads it (and prints only its SHA-256);
a trigger runs that agent on demand; the credential's delete is refused while the trigger is
active; a webhook is registered and receives the run's end event; the environment is
downloaded as a tar archive (an export) and the interactions are read back as JSON.

Then the engine's data directory, its log, the export and every answer it gave are searched
for every secret (raw, URL-encoded, hex, base64 at all alignments, ``test_rel_secrets.scan``).
Zero hits. The scan is checked against a planted copy, and the keyring is checked to hold
the value (so the test cannot pass by storing nothing).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from pathlib import Path
from typing import Any

import httpx
import keyring
import pytest
from test_rel_secrets import scan

from support.rel_engine import TOKEN, Engine
from support.webhook_receiver import Receiver, receiver

__all__ = ["receiver"]

pytestmark = pytest.mark.timeout(120)

AGENT = "antigravity-preview-05-2026"


def _wait(http: httpx.Client, interaction_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        got: dict[str, Any] = http.get(f"/v1beta/interactions/{interaction_id}").json()
        if got["status"] not in ("queued", "in_progress"):
            return got
        assert time.monotonic() < deadline, got
        time.sleep(0.05)


def test_credential_values_are_found_nowhere(
    keyring_env: Path, engines: Any, tmp_path: Path, receiver: Receiver
) -> None:
    values = {
        "env": "envval-" + secrets.token_hex(16),
        "env2": "rotated-" + secrets.token_hex(16),
        "bearer": "bearer-" + secrets.token_hex(16),
        "client_secret": "cs-" + secrets.token_hex(16),
        "refresh": "rt-" + secrets.token_hex(16),
    }
    eng: Engine = engines("--log-level", "debug", "--webhook-retry-seconds", "0.05")
    answers: dict[str, bytes] = {}
    export = tmp_path / "environment.tar"
    with httpx.Client(base_url=eng.url, headers={"x-goog-api-key": TOKEN}, timeout=60) as http:

        def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
            resp = http.request(method, path, **kwargs)
            answers[f"{method} {path} #{len(answers)}"] = resp.content
            assert resp.status_code < 500, resp.text
            return resp

        hook = call(
            "POST",
            "/v1beta/webhooks",
            json={"uri": receiver.url, "subscribed_events": ["interaction.completed"]},
        )
        values["signing"] = hook.json()["new_signing_secret"]
        call(
            "POST",
            "/v1beta/credentials",
            json={
                "id": "api",
                "type": "environment_variable",
                "value": values["env"],
                "injection_location": ["header", "query"],
            },
        )
        call(
            "PATCH",
            "/v1beta/credentials/api",
            json={"type": "environment_variable", "value": values["env2"]},
        )
        call(
            "POST",
            "/v1beta/credentials",
            json={"id": "ci", "type": "bearer_token", "token": values["bearer"]},
        )
        call("POST", "/v1beta/credentials",
             json={"id": "drive", "type": "oauth2", "client_id": "cid",
                   "client_secret": values["client_secret"], "refresh_token": values["refresh"],
                   "token_url": "https://oauth2.example/token"})  # fmt: skip
        env = call("POST", "/v1beta/environments",
                   json={"env": {"API_TOKEN": {"credential": "api"}}}).json()  # fmt: skip
        code = {"language": "python", "code": "import hashlib, os\nprint(hashlib.sha256("
                "os.environ['API_TOKEN'].encode()).hexdigest())"}  # fmt: skip
        template = {"agent": AGENT, "environment": env["id"],
                    "input": f"[[call code_execution {json.dumps(code)}]]"}  # fmt: skip
        run = call("POST", "/v1beta/interactions", json=template).json()
        digest = hashlib.sha256(values["env2"].encode()).hexdigest()
        assert any(digest in s.get("result", "") for s in run["steps"])
        trigger = call("POST", "/v1beta/triggers",
                       json={"interaction": {"agent": AGENT, "input": template["input"],
                             "environment": {"type": "remote",
                                             "env": {"API_TOKEN": {"credential": "api"}}}},
                             "schedule": "0 0 1 1 *", "time_zone": "UTC"}).json()  # fmt: skip
        execution = call("POST", f"/v1beta/triggers/{trigger['id']}/executions").json()
        done = _wait(http, execution["interaction_id"])
        assert any(digest in s.get("result", "") for s in done["steps"])
        refused = call("DELETE", "/v1beta/credentials/api")
        assert refused.status_code == 400 and trigger["id"] in refused.json()["error"]["message"]
        receiver.wait_for(2)
        with http.stream(
            "GET", f"/v1beta/files/environment-{env['id']}:download", params={"alt": "media"}
        ) as tar:
            assert tar.status_code == 200
            export.write_bytes(tar.read())
        for iid in (run["id"], execution["interaction_id"]):
            call("GET", f"/v1beta/interactions/{iid}", params={"include_input": "true"})
        call("GET", f"/v1beta/triggers/{trigger['id']}/executions")
        call("GET", f"/v1beta/webhooks/{hook.json()['id']}/deliveries")
        call("GET", "/v1beta/credentials")
    assert keyring.get_password("workbench-engine", "credential/api/value") == values["env2"]
    eng.stop()
    paths = [eng.data_dir, eng.stderr_path, export]
    assert export.stat().st_size > 0 and "DEBUG" in eng.stderr()
    blobs = {**answers, "deliveries": b"\n".join(r.body for r in receiver.received)}
    for name, value in values.items():
        if name == "signing":  # handed over once, in the create answer, by design
            blobs = {k: v for k, v in blobs.items() if not k.startswith("POST /v1beta/webhooks")}
        assert scan(paths, blobs, value) == [], name
    files = [p for root in paths for p in ([root] if root.is_file() else root.rglob("*"))
             if p.is_file()]  # fmt: skip
    size = sum(p.stat().st_size for p in files) + sum(len(b) for b in blobs.values())
    print(f"scanned {len(files)} files and {len(blobs)} answers, {size} bytes: 0 hits")
    planted = tmp_path / "planted.txt"
    planted.write_text(f"x{values['bearer']}y")
    assert scan([planted], {}, values["bearer"])  # the scan does find a copy
