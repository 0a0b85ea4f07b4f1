"""Webhook delivery: a durable queue in SQLite worked by one background task.

Nothing here runs on an interaction's path: ending a run only inserts a row
(``enqueue``). The worker picks rows that are due and POSTs each on its own task, one
attempt per webhook at a time (a receiver that hangs holds up only its own queue, each
attempt cut at ``timeout``; other webhooks go on being served), and records every attempt:
``attempts``, ``last_status``, ``last_error``. A 2xx answer delivers; anything else is
retried after ``base * 2**(attempt-1)`` seconds (capped at an hour) until ``max_attempts``,
then the delivery is ``failed``. ``disable_after`` failed attempts in a row to one webhook
move it to ``disabled_due_to_failed_deliveries``; its queued deliveries then fail without
being sent. Rows survive a restart, so a delivery cut off by a crash is sent again:
delivery is at least once, and receivers dedupe by ``webhook-id`` (the same on every retry).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

import httpx

from ..status import now
from ..store import Store
from .signing import sign
from .table import ResourceTable, dumps
from .vault import Vault

log = logging.getLogger("workbench.engine.ops")

MAX_BACKOFF_SECONDS = 3600.0
USER_AGENT = "workbench-engine-webhooks/1"


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard the engine tries (``--webhook-*`` options)."""

    max_attempts: int = 8
    base_seconds: float = 5.0
    timeout_seconds: float = 10.0
    disable_after: int = 20
    concurrency: int = 16


def event_body(event_type: str, data: dict[str, Any]) -> bytes:
    """The JSON body of one event, Standard Webhooks style: type, timestamp, data."""
    payload = {"type": event_type, "timestamp": now(), "data": data}
    return dumps(payload).encode("utf-8")


class Deliverer:
    """The delivery queue and its worker."""

    def __init__(self, store: Store, vault: Vault, policy: DeliveryPolicy) -> None:
        self.store = store
        self.vault = vault
        self.policy = policy
        self.hooks = ResourceTable(store, "webhooks")
        self._wake = asyncio.Event()
        self._inflight: set[str] = set()
        self._busy_hooks: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(max(1, policy.concurrency))
        self._worker: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._client = httpx.AsyncClient(
            timeout=self.policy.timeout_seconds, follow_redirects=False, trust_env=False
        )
        self._worker = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        tasks = [t for t in (self._worker, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        if self._client is not None:
            await self._client.aclose()

    # -- queue ----------------------------------------------------------------------------

    async def enqueue(self, webhook_id: str, uri: str, event_type: str, body: bytes) -> str:
        """Queue one delivery, due now; its id (the ``webhook-id`` header)."""
        delivery_id = "msg_" + secrets.token_urlsafe(16)
        stamp = now()
        row = (delivery_id, webhook_id, uri, event_type, body.decode("utf-8"), time.time(), stamp)

        def do(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO webhook_deliveries (id, webhook_id, uri, event_type, payload, state,"
                " next_attempt, created, updated) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
                (*row, stamp),
            )

        await self.store.call(do)
        self._wake.set()
        return delivery_id

    async def deliveries(self, webhook_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The newest deliveries to a webhook, with their attempt records (no payloads)."""

        def do(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            cur = conn.execute(
                "SELECT id, event_type, state, attempts, last_status, last_error, created,"
                " updated FROM webhook_deliveries WHERE webhook_id=?"
                " ORDER BY created DESC, id DESC LIMIT ?",
                (webhook_id, limit),
            )
            keys = ("id", "event_type", "state", "attempts", "last_status", "last_error",
                    "create_time", "update_time")  # fmt: skip
            return [
                {k: v for k, v in zip(keys, row, strict=True) if v is not None}
                for row in cur.fetchall()
            ]

        return await self.store.call(do)

    async def _due(self) -> tuple[list[tuple[Any, ...]], float | None]:
        """The oldest due row of each webhook with no attempt in flight, and when the next
        row falls due. A webhook with a long queue (a hanging receiver) never hides the
        rows of the others."""
        moment = time.time()
        busy = sorted(self._busy_hooks)
        skip = f" AND webhook_id NOT IN ({', '.join('?' for _ in busy)})" if busy else ""

        def do(conn: sqlite3.Connection) -> tuple[list[tuple[Any, ...]], float | None]:
            rows = conn.execute(
                "SELECT d.id, d.webhook_id, d.uri, d.event_type, d.payload, d.attempts FROM"
                " webhook_deliveries d JOIN (SELECT webhook_id, MIN(next_attempt) AS first"
                " FROM webhook_deliveries WHERE state='pending' AND next_attempt<=?"
                f"{skip} GROUP BY webhook_id) f ON d.webhook_id=f.webhook_id"
                " AND d.next_attempt=f.first WHERE d.state='pending' LIMIT ?",
                (moment, *busy, self.policy.concurrency),
            ).fetchall()
            nxt = conn.execute(
                "SELECT MIN(next_attempt) FROM webhook_deliveries WHERE state='pending'"
                " AND next_attempt>?",
                (moment,),
            ).fetchone()[0]
            return list(rows), nxt

        return await self.store.call(do)

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                rows, nxt = await self._due()
            except Exception:
                log.exception("webhook queue read failed")
                rows, nxt = [], time.time() + 5
            for row in rows:
                if row[1] in self._busy_hooks or row[0] in self._inflight:
                    continue  # one attempt per webhook at a time: a hang blocks only itself
                self._busy_hooks.add(row[1])
                self._inflight.add(row[0])
                task = asyncio.create_task(self._attempt(*row))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            wait = 30.0 if nxt is None else max(0.0, nxt - time.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(wait, 30.0))

    # -- one attempt ----------------------------------------------------------------------

    async def _signing_secrets(self, hook: dict[str, Any]) -> list[str]:
        moment = time.time()
        found = []
        for slot in hook.get("_slots", []):
            if slot.get("expires", moment + 1) <= moment:
                continue
            secret = await self.vault.get(slot["key"])
            if secret:
                found.append(secret)
        return found

    async def _attempt(
        self, delivery_id: str, webhook_id: str, uri: str, event: str, payload: str, tries: int
    ) -> None:
        try:
            async with self._slots:
                await self._attempt_now(delivery_id, webhook_id, uri, event, payload, tries)
        except Exception:
            log.exception("webhook delivery %s crashed", delivery_id)
        finally:
            self._inflight.discard(delivery_id)
            self._busy_hooks.discard(webhook_id)
            self._wake.set()

    async def _attempt_now(
        self, delivery_id: str, webhook_id: str, uri: str, event: str, payload: str, tries: int
    ) -> None:
        hook = await self.hooks.get(webhook_id)
        if hook is None:
            await self._record(delivery_id, tries, "failed", None, "the webhook was deleted")
            return
        if hook.get("state") == "disabled_due_to_failed_deliveries" and event != "webhook.ping":
            await self._record(delivery_id, tries, "failed", None, "the webhook is disabled")
            return
        keys = await self._signing_secrets(hook)
        if not keys:
            await self._record(
                delivery_id, tries, "failed", None, "no signing secret in the keyring"
            )
            return
        body = payload.encode("utf-8")
        stamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": delivery_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(keys, delivery_id, stamp, body),
        }
        status: int | None = None
        try:
            assert self._client is not None
            response = await self._client.post(uri, content=body, headers=headers)
            status = response.status_code
            error = None if 200 <= status < 300 else f"the receiver answered HTTP {status}"
        except httpx.TimeoutException:
            error = f"no answer within {self.policy.timeout_seconds:g} s"
        except httpx.HTTPError as exc:
            error = f"could not reach the receiver ({type(exc).__name__})"
        tries += 1
        if error is None:
            await self._record(delivery_id, tries, "delivered", status, None)
            await self._hook_result(webhook_id, ok=True)
            return
        last = tries >= self.policy.max_attempts
        delay = min(self.policy.base_seconds * 2 ** (tries - 1), MAX_BACKOFF_SECONDS)
        await self._record(
            delivery_id, tries, "failed" if last else "pending", status, error, delay
        )
        await self._hook_result(webhook_id, ok=False)

    async def _record(
        self,
        delivery_id: str,
        tries: int,
        state: str,
        status: int | None,
        error: str | None,
        delay: float = 0.0,
    ) -> None:
        values = (state, tries, status, error, time.time() + delay, now(), delivery_id)

        def do(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE webhook_deliveries SET state=?, attempts=?, last_status=?, last_error=?,"
                " next_attempt=?, updated=? WHERE id=?",
                values,
            )

        await self.store.call(do)

    async def _hook_result(self, webhook_id: str, *, ok: bool) -> None:
        """Count failed attempts in a row; disable the webhook at ``disable_after``."""
        limit = self.policy.disable_after

        def do(conn: sqlite3.Connection) -> None:
            if ok:
                conn.execute("UPDATE webhooks SET failures=0 WHERE id=?", (webhook_id,))
                return
            conn.execute("BEGIN")
            try:
                row = conn.execute(
                    "SELECT failures, resource FROM webhooks WHERE id=?", (webhook_id,)
                ).fetchone()
                if row is not None:
                    failures, resource = int(row[0]) + 1, json.loads(row[1])
                    if failures >= limit and resource.get("state") == "enabled":
                        resource["state"] = "disabled_due_to_failed_deliveries"
                        resource["update_time"] = now()
                        log.warning("webhook %s disabled after %d failed deliveries",
                                    webhook_id, failures)  # fmt: skip
                    conn.execute(
                        "UPDATE webhooks SET failures=?, resource=? WHERE id=?",
                        (failures, dumps(resource), webhook_id),
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        await self.store.call(do)
