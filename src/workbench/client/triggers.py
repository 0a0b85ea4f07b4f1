"""``client.triggers``: scheduled runs of an interaction template, and their executions."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Mapping
from typing import Any

from ._paging import iter_pages
from ._wire import Trigger, TriggerExecution, body_of, to_model
from .retry import Idempotency
from .transport import Transport, decode_json_object
from .webhooks import resource_id


class Triggers:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def _path(self, trigger_id: str) -> str:
        return f"triggers/{resource_id(trigger_id, 'trigger')}"

    async def create(
        self,
        interaction: Mapping[str, Any],
        *,
        schedule: str,
        time_zone: str,
        display_name: str | None = None,
        environment_id: str | None = None,
        execution_timeout_seconds: int | None = None,
        max_consecutive_failures: int | None = None,
    ) -> Trigger:
        """``POST /triggers``: run ``interaction`` (a create body) on the cron ``schedule``."""
        body = body_of({
            "interaction": body_of(interaction), "schedule": schedule, "time_zone": time_zone,
            "display_name": display_name, "environment_id": environment_id,
            "execution_timeout_seconds": execution_timeout_seconds,
            "max_consecutive_failures": max_consecutive_failures,
        })  # fmt: skip
        response = await self._t.request(
            "POST", "triggers", json_body=body, idempotency=Idempotency.CREATE,
            what="create trigger",
        )  # fmt: skip
        return to_model(Trigger, decode_json_object(response, "create trigger"), "trigger")

    async def iter(self, *, page_size: int | None = None) -> AsyncIterator[Trigger]:
        async for page in iter_pages(
            self._t, "triggers", items_key="triggers", page_size=page_size, what="list triggers"
        ):
            for item in page:
                yield to_model(Trigger, item, "trigger")

    async def list(self, *, page_size: int | None = None) -> list[Trigger]:
        return [trigger async for trigger in self.iter(page_size=page_size)]

    async def get(self, trigger_id: str) -> Trigger:
        response = await self._t.request(
            "GET", self._path(trigger_id), what=f"get trigger {trigger_id}"
        )
        return to_model(Trigger, decode_json_object(response, "get trigger"), "trigger")

    async def update(
        self, trigger_id: str, *, display_name: str | None = None, status: str | None = None
    ) -> Trigger:
        body = body_of({"display_name": display_name, "status": status})
        if not body:
            raise ValueError("nothing to update")
        response = await self._t.request(
            "PATCH", self._path(trigger_id), json_body=body,
            params={"update_mask": ",".join(body)}, what=f"update trigger {trigger_id}",
        )  # fmt: skip
        return to_model(Trigger, decode_json_object(response, "update trigger"), "trigger")

    async def pause(self, trigger_id: str) -> Trigger:
        return await self.update(trigger_id, status="paused")

    async def resume(self, trigger_id: str) -> Trigger:
        """Back to ``active`` (also out of ``error``; the failure count starts again)."""
        return await self.update(trigger_id, status="active")

    async def delete(self, trigger_id: str) -> None:
        await self._t.request("DELETE", self._path(trigger_id), what=f"delete trigger {trigger_id}")

    async def run(self, trigger_id: str) -> TriggerExecution:
        """Run now; the execution (``in_progress``, with its ``interaction_id``)."""
        response = await self._t.request(
            "POST", f"{self._path(trigger_id)}/executions", json_body={},
            idempotency=Idempotency.CREATE, what=f"run trigger {trigger_id}",
        )  # fmt: skip
        data = decode_json_object(response, "run trigger")
        return to_model(TriggerExecution, data, "trigger execution")

    async def iter_executions(
        self, trigger_id: str, *, page_size: int | None = None
    ) -> AsyncIterator[TriggerExecution]:
        """Executions, newest first."""
        async for page in iter_pages(
            self._t, f"{self._path(trigger_id)}/executions", items_key="trigger_executions",
            page_size=page_size, what=f"list executions of {trigger_id}",
        ):  # fmt: skip
            for item in page:
                yield to_model(TriggerExecution, item, "trigger execution")

    async def executions(
        self, trigger_id: str, *, limit: int | None = None
    ) -> builtins.list[TriggerExecution]:
        """The newest ``limit`` executions (all of them when None)."""
        out: builtins.list[TriggerExecution] = []
        async for execution in self.iter_executions(trigger_id, page_size=limit):
            out.append(execution)
            if limit is not None and len(out) >= limit:
                break
        return out
