"""Schedules (triggers), webhooks and server credentials for the app.

Qt-free. ``preview`` turns a cron line into words and its next fire times (with ``croniter``,
the parser the engine uses, so the preview and the engine agree); ``Schedules``,
``WebhookRegistry`` and ``ServerCredentials`` wrap the client's resources for the panels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from workbench.client import Client
from workbench.protocol import Credential as StoredCredential
from workbench.protocol import Trigger, TriggerExecution, Webhook, WebhookDelivery

DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip
EVENTS = ("interaction.completed", "interaction.failed", "interaction.requires_action")
"""The events the local engine sends (the panel offers these)."""


@dataclass(frozen=True)
class CronPreview:
    """What a cron line means: words, the next fire times (local to its zone), or why not."""

    description: str = ""
    next_times: list[dt.datetime] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def _time(minute: str, hour: str) -> str | None:
    if minute.isdigit() and hour.isdigit():
        return f"{int(hour):02d}:{int(minute):02d}"
    return None


def _days(field_: str) -> str | None:
    """``1-5`` → "Monday to Friday", ``1,3`` → "Monday and Wednesday"; None when unusual."""
    if "-" in field_ and field_.count("-") == 1 and "," not in field_:
        a, b = field_.split("-")
        if a.isdigit() and b.isdigit() and int(a) <= 7 and int(b) <= 7:
            return f"{DAYS[int(a) % 7]} to {DAYS[int(b) % 7]}"
    parts = field_.split(",")
    if all(p.isdigit() and int(p) <= 7 for p in parts):
        names = [DAYS[int(p) % 7] for p in parts]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return None


def describe(schedule: str) -> str:
    """Plain words for the common shapes of a five-field cron line ("" when unusual)."""
    fields = schedule.split()
    if len(fields) == 6:
        if fields[:5] == ["*"] * 5:
            sec = fields[5]
            if sec == "*":
                return "every second"
            if sec.startswith("*/") and sec[2:].isdigit():
                return f"every {int(sec[2:])} seconds"
        return ""
    if len(fields) != 5:
        return ""
    minute, hour, dom, month, dow = fields
    at = _time(minute, hour)
    if (hour, dom, month, dow) == ("*", "*", "*", "*"):
        if minute == "*":
            return "every minute"
        if minute.startswith("*/") and minute[2:].isdigit():
            return f"every {int(minute[2:])} minutes"
        if minute.isdigit():
            return f"every hour at minute {int(minute)}"
    if hour.startswith("*/") and hour[2:].isdigit() and minute.isdigit() and (dom, month, dow) == (
        "*", "*", "*"
    ):  # fmt: skip
        return f"every {int(hour[2:])} hours at minute {int(minute)}"
    if at is None or month != "*":
        if at is not None and dom.isdigit() and month.isdigit() and dow == "*":
            return f"every year on {MONTHS[int(month) - 1]} {int(dom)} at {at}"
        return ""
    if dom == "*" and dow == "*":
        return f"every day at {at}"
    if dom == "*":
        days = _days(dow)
        return f"at {at}, {days}" if days else ""
    if dow == "*" and dom.isdigit():
        return f"on day {int(dom)} of every month at {at}"
    return ""


def preview(
    schedule: str, time_zone: str, count: int = 5, now: dt.datetime | None = None
) -> CronPreview:
    """Words and the next ``count`` fire times of ``schedule`` in ``time_zone``."""
    schedule = schedule.strip()
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return CronPreview(error=f"“{time_zone}” is not a known time zone")
    fields = schedule.split()
    if len(fields) not in (5, 6):
        return CronPreview(
            error="a schedule has five fields: minute hour day-of-month month day-of-week "
            "(e.g. “0 9 * * 1-5”)"
        )
    if not croniter.is_valid(schedule):
        return CronPreview(error=f"“{schedule}” is not a valid cron line")
    start = (now or dt.datetime.now(dt.UTC)).astimezone(zone)
    it = croniter(schedule, start)
    times = [it.get_next(dt.datetime) for _ in range(count)]
    words = describe(schedule) or f"cron “{schedule}”"
    return CronPreview(description=f"{words} ({time_zone})", next_times=times)


class Schedules:
    """The server's triggers."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def all(self) -> list[Trigger]:
        return await self.client.triggers.list()

    async def create(
        self,
        *,
        agent: str,
        prompt: str,
        schedule: str,
        time_zone: str,
        name: str = "",
        timeout_seconds: int | None = None,
        max_failures: int | None = None,
    ) -> Trigger:
        """A trigger that runs ``agent`` on ``prompt`` in the background on ``schedule``."""
        if not agent.strip():
            raise ValueError("choose the agent to run")
        if not prompt.strip():
            raise ValueError("write what the agent should do each time")
        problem = preview(schedule, time_zone)
        if not problem.ok:
            raise ValueError(problem.error)
        return await self.client.triggers.create(
            {"agent": agent.strip(), "input": prompt},
            schedule=schedule.strip(), time_zone=time_zone, display_name=name.strip() or None,
            execution_timeout_seconds=timeout_seconds, max_consecutive_failures=max_failures,
        )  # fmt: skip

    async def set_paused(self, trigger_id: str, paused: bool) -> Trigger:
        if paused:
            return await self.client.triggers.pause(trigger_id)
        return await self.client.triggers.resume(trigger_id)

    async def run_now(self, trigger_id: str) -> TriggerExecution:
        return await self.client.triggers.run(trigger_id)

    async def delete(self, trigger_id: str) -> None:
        await self.client.triggers.delete(trigger_id)

    async def executions(self, trigger_id: str, limit: int = 50) -> list[TriggerExecution]:
        return await self.client.triggers.executions(trigger_id, limit=limit)


class WebhookRegistry:
    """The server's webhooks."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def all(self) -> list[Webhook]:
        return await self.client.webhooks.list()

    async def register(self, uri: str, events: Sequence[str], name: str = "") -> Webhook:
        """A new webhook; its ``new_signing_secret`` is shown once, by the caller."""
        if not uri.strip():
            raise ValueError("enter the URL that receives the events")
        if not events:
            raise ValueError("choose at least one event")
        return await self.client.webhooks.create(uri.strip(), events, name=name.strip() or None)

    async def ping(self, webhook_id: str) -> None:
        await self.client.webhooks.ping(webhook_id)

    async def rotate(self, webhook_id: str) -> str:
        return await self.client.webhooks.rotate_signing_secret(webhook_id)

    async def set_enabled(self, webhook_id: str, enabled: bool) -> Webhook:
        state = "enabled" if enabled else "disabled"
        return await self.client.webhooks.update(webhook_id, {"state": state})

    async def delete(self, webhook_id: str) -> None:
        await self.client.webhooks.delete(webhook_id)

    async def deliveries(self, webhook_id: str) -> list[WebhookDelivery]:
        return await self.client.webhooks.deliveries(webhook_id, limit=50)


class ServerCredentials:
    """Credentials kept by the server (its keyring), referenced by environments' ``env``.

    Values go one way: they are sent when created or replaced, never read back.
    """

    def __init__(self, client: Client) -> None:
        self.client = client

    async def all(self) -> list[StoredCredential]:
        return await self.client.credentials.list()

    async def create(
        self, credential_id: str, kind: str, secrets: dict[str, str], fields: dict[str, Any]
    ) -> StoredCredential:
        """``secrets`` are the kind's write-only fields, ``fields`` its public ones."""
        if not credential_id.strip():
            raise ValueError("give the credential an id, e.g. github-token")
        missing = [k for k in SECRET_FIELDS.get(kind, ()) if not secrets.get(k)]
        if missing:
            raise ValueError(f"enter the {missing[0].replace('_', ' ')}")
        body = {"id": credential_id.strip(), "type": kind, **fields, **secrets}
        return await self.client.credentials.create(body)

    async def replace_secret(
        self, credential_id: str, kind: str, secrets: dict[str, str]
    ) -> StoredCredential:
        given = {k: v for k, v in secrets.items() if v}
        if not given:
            raise ValueError("enter the new secret value")
        return await self.client.credentials.update(credential_id, {"type": kind, **given})

    async def delete(self, credential_id: str) -> None:
        await self.client.credentials.delete(credential_id)


SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "environment_variable": ("value",),
    "bearer_token": ("token",),
    "oauth2": ("client_secret", "refresh_token"),
}
"""Each credential kind's write-only fields."""
