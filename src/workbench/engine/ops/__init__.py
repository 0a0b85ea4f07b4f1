"""Runs that start and report on their own: triggers, webhooks, credentials.

``start`` builds the three services around the engine's store and runner, hooks them into
interaction creates and ends, and starts the background tasks (the delivery worker and the
scheduler); ``Ops.stop`` ends them before the store closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import EngineConfig
from ..create_request import CreateRequest
from ..errors import bad_request
from ..runner import Runner
from ..store import Store
from .credentials import Credentials
from .delivery import Deliverer, DeliveryPolicy
from .egress import CodeEgress
from .injection import Injector
from .scheduler import Scheduler
from .triggers import Triggers
from .vault import Vault
from .webhooks import Webhooks

__all__ = ["Ops", "start"]


@dataclass
class Ops:
    vault: Vault
    deliverer: Deliverer
    webhooks: Webhooks
    credentials: Credentials
    triggers: Triggers
    scheduler: Scheduler

    async def stop(self) -> None:
        """Stop firing and delivering (pending deliveries stay queued for the next start)."""
        await self.scheduler.stop()
        await self.triggers.stop()
        await self.deliverer.stop()


async def start(config: EngineConfig, store: Store, runner: Runner) -> Ops:
    """Build the services, apply the restart rules, start the background tasks."""
    vault = Vault()
    policy = DeliveryPolicy(
        max_attempts=config.webhook_attempts,
        base_seconds=config.webhook_retry_seconds,
        timeout_seconds=config.webhook_timeout_seconds,
        disable_after=config.webhook_disable_after,
    )
    deliverer = Deliverer(store, vault, policy)
    webhooks = Webhooks(store, vault, deliverer, config.webhook_allow)
    credentials = Credentials(store, vault)
    triggers = Triggers(store, runner)
    credentials.users = triggers.referencing
    scheduler = Scheduler(triggers)

    async def check_webhook_config(req: CreateRequest) -> None:
        config_: Any = req.body.get("webhook_config")
        if config_ is not None and not req.store:
            raise bad_request(
                "webhook_config needs a stored interaction: drop 'store: false' (events "
                "name the interaction, which the receiver then reads)"
            )
        webhooks.check_config(config_)
        await webhooks.check_config_registered(config_)

    runner.create_checks.append(check_webhook_config)
    runner.end_hooks.append(webhooks.interaction_ended)
    injector = Injector(credentials)
    credentials.on_change = injector.forget
    if runner.agents is not None:
        runner.agents.credential_env = credentials.resolve_env
        runner.agents.credential_network = injector.policy
        egress = CodeEgress(config.data_dir, credentials, injector, runner.agents.code_runner)
        runner.agents.code_egress = egress.prepare
    await triggers.recover()
    deliverer.start()
    scheduler.start()
    return Ops(vault, deliverer, webhooks, credentials, triggers, scheduler)
