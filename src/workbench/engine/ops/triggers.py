"""Triggers (``/{v}/triggers``): an interaction template run on a cron schedule.

Each run is a *TriggerExecution* linked to the background interaction it created. A run
that ends ``completed`` (or ``requires_action``: it did its part and waits for you) is a
success; ``failed``, ``cancelled``, ``incomplete``, a refused create, or running past
``execution_timeout_seconds`` (then cancelled, ``timed_out``) is a failure.
``max_consecutive_failures`` failures in a row move the trigger to ``error``: it stops firing
until it is set ``active`` again. A fire while the previous execution still runs is recorded
as ``skipped``. Timing (when to fire, catching up after a restart) is ``scheduler.py``.
"""

from __future__ import annotations

import asyncio
import builtins
import datetime as dt
import logging
import secrets
from collections.abc import Callable
from typing import Any

from ..errors import ApiError, bad_request, not_found
from ..parsing import parse_create
from ..runner import Runner
from ..status import now
from ..store import Store
from . import schedule as cron
from .table import ResourceTable

log = logging.getLogger("workbench.engine.ops")

DEFAULT_MAX_FAILURES = 3
DEFAULT_TIMEOUT_SECONDS = 3600
CREATE_FIELDS = (
    "display_name",
    "environment_id",
    "execution_timeout_seconds",
    "interaction",
    "max_consecutive_failures",
    "schedule",
    "time_zone",
)
SUCCESS = ("completed", "requires_action")


def wire(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if not k.startswith("_")}


def _positive(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise bad_request(f"{key} must be a positive integer")
    return value


class Triggers:
    """The trigger resources of one engine and the executions they start."""

    def __init__(self, store: Store, runner: Runner) -> None:
        self.table = ResourceTable(store, "triggers")
        self.executions = ResourceTable(store, "trigger_executions", scope_column="trigger_id")
        self.runner = runner
        self.lock = asyncio.Lock()
        self.running: dict[str, asyncio.Task[None]] = {}
        self.changed: Callable[[], None] = lambda: None
        """Set by the scheduler: called when a schedule or state changes."""
        self.clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    # -- CRUD ---------------------------------------------------------------------------------

    async def _template(self, body: dict[str, Any]) -> dict[str, Any]:
        template = body.get("interaction")
        if not isinstance(template, dict):
            raise bad_request("interaction is required: the create-interaction body to run")
        if template.get("stream"):
            raise bad_request("interaction.stream: a trigger's interactions run in the background")
        if template.get("store") is False:
            raise bad_request("interaction.store: a trigger's interactions must be stored")
        if body.get("environment_id") and template.get("environment") is not None:
            raise bad_request("give environment_id or interaction.environment, not both")
        try:
            req = parse_create(self._request_body(template, body.get("environment_id")))
            for check in self.runner.create_checks:  # e.g. webhook_config destinations
                await check(req)
        except ApiError as exc:
            raise bad_request(f"interaction: {exc.message}") from exc
        return template

    @staticmethod
    def _request_body(template: dict[str, Any], environment_id: Any) -> dict[str, Any]:
        out = {**template, "background": True, "store": True}
        out.pop("stream", None)
        if environment_id:
            out["environment"] = environment_id
        return out

    async def _get(self, trigger_id: str) -> dict[str, Any]:
        resource = await self.table.get(trigger_id)
        if resource is None:
            raise not_found(f"trigger {trigger_id!r} not found")
        return resource

    async def create(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object (TriggerCreateParams)")
        extra = sorted(k for k, v in body.items() if k not in CREATE_FIELDS and v is not None)
        if extra:
            raise bad_request(
                f"unknown or output-only Trigger fields: {', '.join(extra)}; a create takes "
                f"{', '.join(CREATE_FIELDS)}"
            )
        cron.check(body.get("schedule"), body.get("time_zone"))
        template = await self._template(body)
        for key in ("display_name", "environment_id"):
            if body.get(key) is not None and not isinstance(body[key], str):
                raise bad_request(f"{key} must be a string")
        timeout = _positive(body, "execution_timeout_seconds") or DEFAULT_TIMEOUT_SECONDS
        failures = _positive(body, "max_consecutive_failures") or DEFAULT_MAX_FAILURES
        stamp = now()
        trigger_id = "trg_" + secrets.token_urlsafe(12)
        resource: dict[str, Any] = {
            "id": trigger_id,
            **{k: body[k] for k in ("display_name", "environment_id") if body.get(k)},
            "interaction": template,
            "schedule": body["schedule"],
            "time_zone": body["time_zone"],
            "execution_timeout_seconds": timeout,
            "max_consecutive_failures": failures,
            "status": "active",
            "consecutive_failure_count": 0,
            "create_time": stamp,
            "update_time": stamp,
        }
        self._plan(resource, self.clock())
        await self.table.insert(trigger_id, stamp, resource)
        self.changed()
        return wire(resource)

    @staticmethod
    def _plan(resource: dict[str, Any], after: dt.datetime) -> None:
        """Set ``next_run_time`` to the first fire after ``after`` (none unless active)."""
        if resource.get("status") != "active":
            resource.pop("next_run_time", None)
            return
        nxt = cron.next_after(resource["schedule"], resource["time_zone"], after)
        resource["next_run_time"] = cron.rfc3339(nxt)

    async def get(self, trigger_id: str) -> dict[str, Any]:
        return wire(await self._get(trigger_id))

    async def list(
        self, page_size: int | None, page_token: str | None, filter_: str | None
    ) -> dict[str, Any]:
        state = None
        if filter_:
            text = filter_.replace(" ", "")
            for prefix in ("status=", "state="):
                if text.startswith(prefix):
                    state = text[len(prefix) :].strip("\"'")
            if state not in ("active", "paused", "error"):
                raise bad_request("filter supports status=active, status=paused or status=error")
        items, token = await self.table.page(page_size, page_token)
        if state is not None:
            items = [r for r in items if r.get("status") == state]
        out: dict[str, Any] = {"triggers": [wire(r) for r in items]}
        if token:
            out["next_page_token"] = token
        return out

    async def update(self, trigger_id: str, body: Any, update_mask: str | None) -> dict[str, Any]:
        """Rename, pause (``paused``) or resume (``active``, also out of ``error``)."""
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object (TriggerUpdate)")
        fields = [k for k, v in body.items() if v is not None]
        if update_mask:
            fields = [f.strip() for f in update_mask.split(",") if f.strip()]
        unknown = sorted(f for f in fields if f not in ("display_name", "status"))
        if unknown:
            raise bad_request(
                f"cannot update {', '.join(unknown)}; updatable: display_name, status "
                "(to change the schedule or the interaction, create a new trigger)"
            )
        async with self.lock:
            resource = await self._get(trigger_id)
            stamp = now()
            if "display_name" in fields:
                name = body.get("display_name")
                if name is not None and not isinstance(name, str):
                    raise bad_request("display_name must be a string")
                resource.pop("display_name", None)
                if name:
                    resource["display_name"] = name
            if "status" in fields:
                status = body.get("status")
                if status not in ("active", "paused"):
                    raise bad_request(
                        "status can be set to active (resume) or paused; error is set by the "
                        "engine after consecutive failures"
                    )
                if status == "paused" and resource["status"] != "paused":
                    resource["last_pause_time"] = stamp
                if status == "active" and resource["status"] != "active":
                    resource["last_resume_time"] = stamp
                    resource["consecutive_failure_count"] = 0
                resource["status"] = status
                self._plan(resource, self.clock())
            resource["update_time"] = stamp
            await self.table.update(trigger_id, resource)
        self.changed()
        return wire(resource)

    async def delete(self, trigger_id: str) -> None:
        async with self.lock:
            await self._get(trigger_id)
            await self.table.delete(trigger_id)
            await self.executions.delete_scope(trigger_id)
        self.changed()

    async def list_executions(
        self, trigger_id: str, page_size: int | None, page_token: str | None
    ) -> dict[str, Any]:
        """A trigger's executions, newest first."""
        await self._get(trigger_id)
        items, token = await self.executions.page(
            page_size, page_token, scope=trigger_id, newest_first=True
        )
        out: dict[str, Any] = {"trigger_executions": items}
        if token:
            out["next_page_token"] = token
        return out

    async def referencing(self, credential_id: str) -> builtins.list[str]:
        """Active triggers whose interaction names ``credential_id``."""
        found = []
        for resource in await self.table.all():
            if resource.get("status") == "active" and _names_credential(
                resource.get("interaction"), credential_id
            ):
                found.append(str(resource["id"]))
        return found

    # -- executions ---------------------------------------------------------------------------

    async def run_now(self, trigger_id: str) -> dict[str, Any]:
        """Start an execution now (whatever the trigger's state); the in-progress record."""
        resource = await self._get(trigger_id)
        return await self.fire(resource, self.clock(), manual=True)

    async def fire(
        self, resource: dict[str, Any], scheduled: dt.datetime, manual: bool = False
    ) -> dict[str, Any]:
        """Record an execution for ``scheduled`` and start it (``skipped`` when one runs)."""
        trigger_id = str(resource["id"])
        stamp = now()
        execution: dict[str, Any] = {
            "id": "exe_" + secrets.token_urlsafe(12),
            "trigger_id": trigger_id,
            "scheduled_time": cron.rfc3339(scheduled),
            "status": "in_progress",
        }
        if resource.get("environment_id"):
            execution["environment_id"] = resource["environment_id"]
        live = self.running.get(trigger_id)
        if live is not None and not live.done():
            execution.update(status="skipped", start_time=stamp, end_time=stamp,
                             error="the previous execution was still running")  # fmt: skip
            await self.executions.insert(execution["id"], stamp, execution, trigger_id=trigger_id)
            return execution
        execution["start_time"] = stamp
        await self.executions.insert(execution["id"], stamp, execution, trigger_id=trigger_id)
        started = asyncio.Event()
        task = asyncio.create_task(self._execute(resource, execution, started))
        self.running[trigger_id] = task
        await started.wait()  # the interaction id is known (or the create was refused)
        return execution

    async def _execute(
        self, resource: dict[str, Any], execution: dict[str, Any], started: asyncio.Event
    ) -> None:
        trigger_id = str(resource["id"])
        status, error = "failed", None
        try:
            body = self._request_body(resource["interaction"], resource.get("environment_id"))
            try:
                run = await self.runner.create(parse_create(body))
            except ApiError as exc:
                error = f"the interaction was refused: {exc.message}"
                return
            execution["interaction_id"] = run.id
            await self.executions.update(execution["id"], execution)
            await self._note_run(trigger_id, run.id)
            started.set()
            timeout = float(resource.get("execution_timeout_seconds") or DEFAULT_TIMEOUT_SECONDS)
            try:
                await asyncio.wait_for(asyncio.shield(run.done.wait()), timeout)
            except TimeoutError:
                status, error = "timed_out", f"still running after {timeout:g} s; cancelled"
                await self.runner.cancel_run(
                    run, [{"code": "deadline_exceeded", "message": "execution_timeout_seconds"}]
                )
                return
            final = run.record.status
            if final in SUCCESS:
                status = "completed"
            else:
                errors = run.record.resource.get("errors") or []
                detail = errors[0].get("message") if errors else None
                error = f"the interaction ended {final}" + (f": {detail}" if detail else "")
        except Exception as exc:
            log.exception("trigger %s execution crashed", trigger_id)
            error = f"internal error: {type(exc).__name__}"
        finally:
            started.set()
            execution.update(status=status, end_time=now())
            if error:
                execution["error"] = error
            try:
                await self.executions.update(execution["id"], execution)
                await self._count(trigger_id, ok=status == "completed")
            except Exception:
                log.exception("could not record execution %s", execution["id"])
            self.running.pop(trigger_id, None)

    async def _note_run(self, trigger_id: str, interaction_id: str) -> None:
        async with self.lock:
            resource = await self.table.get(trigger_id)
            if resource is None:
                return
            resource["previous_interaction_id"] = interaction_id
            resource["last_run_time"] = now()
            await self.table.update(trigger_id, resource)

    async def _count(self, trigger_id: str, *, ok: bool) -> None:
        """Update the run of failures; ``error`` when it reaches the trigger's limit."""
        async with self.lock:
            resource = await self.table.get(trigger_id)
            if resource is None:
                return
            count = 0 if ok else int(resource.get("consecutive_failure_count", 0)) + 1
            resource["consecutive_failure_count"] = count
            limit = int(resource.get("max_consecutive_failures") or DEFAULT_MAX_FAILURES)
            if count >= limit and resource.get("status") == "active":
                resource["status"] = "error"
                resource.pop("next_run_time", None)
                log.warning("trigger %s moved to error after %d failures", trigger_id, count)
            resource["update_time"] = now()
            await self.table.update(trigger_id, resource)
        self.changed()

    async def recover(self) -> int:
        """Executions a previous process left ``in_progress`` end ``failed`` (and count)."""
        stale: list[dict[str, Any]] = []
        for trigger in await self.table.all():
            token: str | None = None
            while True:
                items, token = await self.executions.page(1000, token, scope=trigger["id"])
                stale.extend(e for e in items if e.get("status") == "in_progress")
                if not token:
                    break
        for execution in stale:
            execution.update(status="failed", end_time=now(),
                             error="the engine stopped during this execution")  # fmt: skip
            await self.executions.update(execution["id"], execution)
            await self._count(execution["trigger_id"], ok=False)
        return len(stale)

    async def stop(self) -> None:
        tasks = list(self.running.values())
        if tasks:
            await asyncio.wait(tasks, timeout=5)


def _names_credential(value: Any, credential_id: str) -> bool:
    if isinstance(value, dict):
        if value.get("credential") == credential_id:
            return True
        return any(_names_credential(v, credential_id) for v in value.values())
    if isinstance(value, list):
        return any(_names_credential(v, credential_id) for v in value)
    return False
