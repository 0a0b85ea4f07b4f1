"""Webhooks end to end: the official SDK for the resource, a real receiver on 127.0.0.1 for
deliveries, signatures checked with the ``standardwebhooks`` package.

The engine runs as a subprocess with a private Secret Service keyring (``keyring_env``):
signing secrets live only there.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from engine_helpers import EngineProcess, create
from google.genai._gaos.lib import compat_errors
from standardwebhooks.webhooks import Webhook as Verifier

from support.webhook_receiver import Receiver, receiver, running_receiver

__all__ = ["receiver"]

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.filterwarnings("ignore:.*experimental.*:UserWarning"),
]

FAST = ("--webhook-retry-seconds", "0.05")


def _verified(secret: str, got: Any) -> dict[str, Any]:
    """The payload, after the Standard Webhooks library accepted its signature."""
    payload: dict[str, Any] = Verifier(secret).verify(got.body, got.headers)
    return payload


def _register(http: httpx.Client, uri: str, events: list[str]) -> dict[str, Any]:
    resp = http.post("/v1beta/webhooks", json={"uri": uri, "subscribed_events": events})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _deliveries(http: httpx.Client, webhook_id: str) -> list[dict[str, Any]]:
    resp = http.get(f"/v1beta/webhooks/{webhook_id}/deliveries")
    assert resp.status_code == 200, resp.text
    found: list[dict[str, Any]] = resp.json()["deliveries"]
    return found


def _until(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold in time")
        time.sleep(0.05)


def test_webhook_resource_with_the_sdk(keyring_env: Any, engine_factory: Any) -> None:
    eng: EngineProcess = engine_factory()
    client = eng.client()
    hook = client.webhooks.create(
        name="builds", uri="http://127.0.0.1:9/hook", subscribed_events=["interaction.completed"]
    )
    assert hook.new_signing_secret and hook.new_signing_secret.startswith("whsec_")
    assert hook.state == "enabled" and hook.id
    assert hook.signing_secrets and hook.new_signing_secret.endswith(
        hook.signing_secrets[0].truncated_secret[-4:]
    )
    got = client.webhooks.get(hook.id)
    assert got.new_signing_secret is None and got.name == "builds"
    assert hook.new_signing_secret not in json.dumps(got.model_dump(mode="json"))
    assert [w.id for w in client.webhooks.list().webhooks or []] == [hook.id]
    updated = client.webhooks.update(hook.id, name="ci", state="disabled")
    assert (updated.name, updated.state) == ("ci", "disabled")
    rotated = client.webhooks.rotate_signing_secret(hook.id)
    assert rotated.secret and rotated.secret != hook.new_signing_secret
    after = client.webhooks.get(hook.id)
    assert len(after.signing_secrets or []) == 2
    assert after.signing_secrets and after.signing_secrets[1].expire_time  # the old one, 24 h
    client.webhooks.delete(hook.id)
    with pytest.raises(compat_errors.APIError) as info:
        client.webhooks.get(hook.id)
    assert info.value.status_code == 404


def test_bad_webhooks_are_refused(keyring_env: Any, engine_factory: Any) -> None:
    eng: EngineProcess = engine_factory()
    with eng.http() as http:
        far = http.post(
            "/v1beta/webhooks",
            json={
                "uri": "https://hooks.example.com/x",
                "subscribed_events": ["interaction.failed"],
            },
        )
        assert far.status_code == 400 and "--webhook-allow" in far.json()["error"]["message"]
        odd = http.post(
            "/v1beta/webhooks",
            json={"uri": "http://127.0.0.1:9/", "subscribed_events": ["interaction.exploded"]},
        )
        assert odd.status_code == 400 and "interaction.exploded" in odd.json()["error"]["message"]
        unregistered = create(
            http,
            {"model": "scripted", "input": "hi",
             "webhook_config": {"uris": ["http://127.0.0.1:9/unknown"]}},
        )  # fmt: skip
        assert unregistered.status_code == 400
        assert "registered webhook" in unregistered.json()["error"]["message"]
        unstored = create(
            http,
            {"model": "scripted", "input": "hi", "store": False,
             "webhook_config": {"user_metadata": {"a": 1}}},
        )  # fmt: skip
        assert unstored.status_code == 400 and "stored" in unstored.json()["error"]["message"]


def test_allowed_host_can_be_registered(keyring_env: Any, engine_factory: Any) -> None:
    eng: EngineProcess = engine_factory("--webhook-allow", "*.example.com")
    with eng.http() as http:
        hook = _register(http, "https://hooks.example.com/x", ["interaction.failed"])
        assert hook["uri"] == "https://hooks.example.com/x"


def test_no_keyring_means_a_clear_refusal(engine_factory: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    eng: EngineProcess = engine_factory()
    with eng.http() as http:
        resp = http.post(
            "/v1beta/webhooks",
            json={"uri": "http://127.0.0.1:9/", "subscribed_events": ["interaction.completed"]},
        )
        assert resp.status_code == 503
        assert "keyring" in resp.json()["error"]["message"]
        assert http.get("/v1beta/webhooks").json() == {"webhooks": []}


def test_completed_interaction_is_delivered_signed(
    keyring_env: Any, engine_factory: Any, receiver: Receiver
) -> None:
    eng: EngineProcess = engine_factory(*FAST)
    with eng.http() as http:
        hook = _register(http, receiver.url, ["interaction.completed"])
        secret = hook["new_signing_secret"]
        done = create(http, {"model": "scripted", "input": "[[text: all good]]"}).json()
        failed = create(http, {"model": "scripted", "input": "[[error: boom]]"}).json()
        assert failed["status"] == "failed"  # not subscribed: no delivery for it
        (got,) = receiver.wait_for(1)
        payload = _verified(secret, got)
        assert payload["type"] == "interaction.completed"
        assert payload["data"]["interaction"]["id"] == done["id"]
        assert payload["data"]["interaction"]["status"] == "completed"
        assert got.headers["webhook-id"].startswith("msg_")
        log = _until(lambda: [d for d in _deliveries(http, hook["id"]) if d["state"] != "pending"])
        assert [(d["state"], d["attempts"]) for d in log] == [("delivered", 1)]
        assert len(receiver.received) == 1


def test_webhook_config_uris_and_user_metadata(
    keyring_env: Any, engine_factory: Any, receiver: Receiver
) -> None:
    eng: EngineProcess = engine_factory(*FAST)
    with eng.http() as http:
        # Subscribed to something else: webhook_config.uris overrides the subscription.
        hook = _register(http, receiver.url, ["batch.succeeded"])
        config = {"uris": [receiver.url], "user_metadata": {"job": 7}}
        failed = create(
            http, {"model": "scripted", "input": "[[error: nope]]", "webhook_config": config}
        ).json()
        assert failed["webhook_config"] == config
        (got,) = receiver.wait_for(1)
        payload = _verified(hook["new_signing_secret"], got)
        assert payload["type"] == "interaction.failed"
        assert payload["data"]["user_metadata"] == {"job": 7}
        assert payload["data"]["interaction"]["id"] == failed["id"]
        create(http, {"model": "scripted", "input": "no config, no subscription"})
        ping = http.post(f"/v1beta/webhooks/{hook['id']}:ping", json={})
        assert ping.status_code == 200 and ping.json() == {}
        second = receiver.wait_for(2)[1]
        assert _verified(hook["new_signing_secret"], second)["type"] == "webhook.ping"


def test_receiver_500_then_recovers_delivered_once(
    keyring_env: Any, engine_factory: Any, receiver: Receiver
) -> None:
    receiver.plan = [500, 500]
    eng: EngineProcess = engine_factory(*FAST)
    with eng.http() as http:
        hook = _register(http, receiver.url, ["interaction.completed"])
        create(http, {"model": "scripted", "input": "[[text: done]]"})
        attempts = receiver.wait_for(3)
        log = _until(lambda: [d for d in _deliveries(http, hook["id"]) if d["state"] != "pending"])
        assert [(d["state"], d["attempts"], d["last_status"]) for d in log] == [
            ("delivered", 3, 200)
        ]
        assert [a.answered for a in attempts] == [500, 500, 200]
        assert len({a.headers["webhook-id"] for a in attempts}) == 1  # one message, retried
        assert _verified(hook["new_signing_secret"], attempts[-1])["type"] == (
            "interaction.completed"
        )
        assert http.get(f"/v1beta/webhooks/{hook['id']}").json()["state"] == "enabled"


def test_hanging_receiver_does_not_hold_up_runs(
    keyring_env: Any, engine_factory: Any, receiver: Receiver
) -> None:
    receiver.plan = ["hang"]
    eng: EngineProcess = engine_factory(*FAST, "--webhook-timeout", "60")
    with eng.http() as http, running_receiver() as healthy:
        _register(http, receiver.url, ["interaction.completed"])
        _register(http, healthy.url, ["interaction.completed"])
        first = create(http, {"model": "scripted", "input": "[[text: one]]"}).json()
        assert receiver.hanging.wait(30)  # the first delivery is stuck in the receiver …
        second = create(http, {"model": "scripted", "input": "[[text: two]]"}).json()
        third = create(
            http, {"model": "scripted", "input": "[[text: three]]", "background": True}
        ).json()

        def third_done() -> dict[str, Any] | None:
            got: dict[str, Any] = http.get(f"/v1beta/interactions/{third['id']}").json()
            return got if got["status"] == "completed" else None

        final = _until(third_done)
        # … while every run ended normally and the other events were delivered.
        assert (first["status"], second["status"], final["status"]) == ("completed",) * 3
        # The other webhook got all three events while the first receiver still hangs.
        got = {json.loads(r.body)["data"]["interaction"]["id"] for r in healthy.wait_for(3)}
        assert got == {first["id"], second["id"], third["id"]}
        assert not receiver.release.is_set() and len(receiver.received) == 1
        receiver.release.set()
        receiver.wait_for(3)  # then its queue drains


def test_failing_receiver_disables_the_webhook(
    keyring_env: Any, engine_factory: Any, receiver: Receiver
) -> None:
    receiver.plan = [500] * 50
    eng: EngineProcess = engine_factory(
        "--webhook-retry-seconds", "0.01", "--webhook-attempts", "2", "--webhook-disable-after", "3"
    )
    with eng.http() as http:
        hook = _register(http, receiver.url, ["interaction.completed"])
        for _ in range(2):
            create(http, {"model": "scripted", "input": "[[text: x]]"})
        state = _until(
            lambda: (
                http.get(f"/v1beta/webhooks/{hook['id']}").json()["state"]
                == "disabled_due_to_failed_deliveries"
            )
        )
        assert state

        def settled() -> list[dict[str, Any]] | None:
            found = _deliveries(http, hook["id"])
            return found if all(d["state"] != "pending" for d in found) else None

        log = _until(settled)
        assert {d["state"] for d in log} == {"failed"}
        resumed = http.patch(f"/v1beta/webhooks/{hook['id']}", json={"state": "enabled"})
        assert resumed.json()["state"] == "enabled"
