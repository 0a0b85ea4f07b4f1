"""Our own client's webhooks, triggers and credentials against the real engine."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from engine_helpers import EngineProcess
from standardwebhooks.webhooks import Webhook as Verifier

from support.webhook_receiver import Receiver, receiver
from workbench.client import Client, InvalidRequestError, NotFoundError

__all__ = ["receiver"]

pytestmark = pytest.mark.timeout(120)


async def _until(check: Any) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30.0
    while True:
        value = await check()
        if value:
            return value
        assert loop.time() < deadline, "the condition did not hold in time"
        await asyncio.sleep(0.05)


async def test_webhooks_through_the_client(
    keyring_env: Any, engine_factory: Any, receiver: Receiver
) -> None:
    eng: EngineProcess = engine_factory("--webhook-retry-seconds", "0.05")
    async with Client(eng.url, api_key=eng.token) as client:
        hook = await client.webhooks.create(receiver.url, ["interaction.completed"], name="ci")
        assert hook.id and hook.new_signing_secret and hook.state == "enabled"
        assert [h.id for h in await client.webhooks.list()] == [hook.id]
        assert (await client.webhooks.get(hook.id)).new_signing_secret is None
        renamed = await client.webhooks.update(hook.id, {"name": "builds"})
        assert renamed.name == "builds" and renamed.uri == receiver.url
        secret = await client.webhooks.rotate_signing_secret(
            hook.id, revocation="revoke_previous_secrets_immediately"
        )
        assert secret.startswith("whsec_") and secret != hook.new_signing_secret
        await client.webhooks.ping(hook.id)
        (got,) = await asyncio.to_thread(receiver.wait_for, 1)
        assert Verifier(secret).verify(got.body, got.headers)["type"] == "webhook.ping"

        async def delivered() -> Any:
            log = await client.webhooks.deliveries(hook.id)
            return log if log and log[0].state == "delivered" else None

        (entry,) = await _until(delivered)
        assert (entry.event_type, entry.attempts, entry.last_status) == ("webhook.ping", 1, 200)
        with pytest.raises(InvalidRequestError):
            await client.webhooks.update(hook.id, {"state": "disabled_due_to_failed_deliveries"})
        await client.webhooks.delete(hook.id)
        with pytest.raises(NotFoundError):
            await client.webhooks.get(hook.id)


async def test_triggers_through_the_client(engine: EngineProcess) -> None:
    async with Client(engine.url, api_key=engine.token) as client:
        trigger = await client.triggers.create(
            {"model": "scripted", "input": "[[text: from the client]]"},
            schedule="0 6 * * *", time_zone="UTC", display_name="morning",
        )  # fmt: skip
        assert trigger.id and trigger.status == "active" and trigger.next_run_time
        assert trigger.id in [t.id for t in await client.triggers.list()]
        paused = await client.triggers.pause(trigger.id)
        assert paused.status == "paused" and paused.next_run_time is None
        assert (await client.triggers.resume(trigger.id)).status == "active"
        run = await client.triggers.run(trigger.id)
        assert run.trigger_id == trigger.id and run.interaction_id

        async def finished() -> Any:
            found = await client.triggers.executions(trigger.id, limit=5)
            return found if found and found[0].status != "in_progress" else None

        (execution,) = await _until(finished)
        assert execution.status == "completed" and execution.id == run.id
        inter = await client.interactions.get(run.interaction_id)
        assert inter.status == "completed"
        await client.triggers.delete(trigger.id)
        with pytest.raises(NotFoundError):
            await client.triggers.get(trigger.id)


async def test_credentials_through_the_client(keyring_env: Any, engine_factory: Any) -> None:
    eng: EngineProcess = engine_factory()
    async with Client(eng.url, api_key=eng.token) as client:
        made = await client.credentials.create(
            {"id": "deploy", "type": "bearer_token", "token": "tok-abc", "prefix": "Token"}
        )
        assert (made.id, made.type, made.status) == ("deploy", "bearer_token", "active")
        assert "tok-abc" not in json.dumps(made.to_wire())
        assert [c.id for c in await client.credentials.list()] == ["deploy"]
        updated = await client.credentials.update(
            "deploy", {"type": "bearer_token", "token": "tok-def"}
        )
        assert updated.update_time != made.update_time
        with pytest.raises(ValueError):
            await client.credentials.create({"id": "x", "type": "password"})
        await client.credentials.delete("deploy")
        with pytest.raises(NotFoundError):
            await client.credentials.get("deploy")
