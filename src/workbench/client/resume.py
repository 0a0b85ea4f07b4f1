"""Following one interaction's event stream across dropped connections (§6.6, §12 item 16).

Rules implemented by :func:`follow_events`:

1. Every event is passed on at most once: events carrying an ``event_id`` already seen are
   dropped, and the last ``event_id`` is remembered.
2. The stream ends normally at ``data: [DONE]``, or at EOF once ``interaction.completed``
   has been seen. Any other end (transport error, read timeout, EOF before the terminal
   event) is a *drop*.
3. After a drop, if the interaction id is unknown (nothing identified it yet), the drop is
   raised as :class:`APIConnectionError` — a create is **never** re-sent.
4. If the id is known and an ``event_id`` was seen, reconnect with
   ``GET …/interactions/{id}?stream=true&last_event_id=<last>`` after 2, 4, 8 … s (capped
   at 30 s, :class:`~workbench.client.retry.ResumePolicy`). A reconnect that brings new
   events resets the count; ``max_attempts`` fruitless reconnects in a row raise
   :class:`APIConnectionError`.
5. If no ``event_id`` was ever seen, or a reconnect is answered 400 or 404, fall back to
   polling ``GET …/interactions/{id}?stream=false`` every ``poll_interval`` until the status
   is no longer ``queued``/``in_progress``; the final interaction is then yielded as a
   :class:`RawSnapshot` (``source="polling"``) — no event is invented.
6. A 200 ``application/json`` answer to a streaming request is the server declining to
   stream: its interaction is yielded as a :class:`RawSnapshot` (``source="json_reply"``).
7. Every response is closed in ``finally``, whether the consumer finished, broke out or
   was cancelled.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import httpx

from .errors import (
    APIConnectionError,
    InvalidRequestError,
    NotFoundError,
    ProtocolViolationError,
    WorkbenchAPIError,
)
from .retry import ResumePolicy
from .sse import SSEReader, is_event_stream, is_json
from .transport import Transport, decode_json_object

log = logging.getLogger("workbench.client")

NON_TERMINAL_STATUSES = frozenset({"queued", "in_progress"})

SnapshotSource = Literal["json_reply", "polling"]


@dataclass(frozen=True, slots=True)
class RawSnapshot:
    """A whole interaction (wire dict) obtained instead of events."""

    data: dict[str, Any]
    source: SnapshotSource


RawItem = dict[str, Any] | RawSnapshot
Opener = Callable[[], Awaitable[httpx.Response]]


@dataclass(slots=True)
class ResumeState:
    """What is known about the stream being followed; readable by the caller at any time."""

    interaction_id: str | None = None
    last_event_id: str | None = None
    seen: set[str] = field(default_factory=set)
    completed: bool = False
    reconnects: int = 0
    polled: bool = False


def _event_interaction_id(raw: dict[str, Any]) -> str | None:
    interaction = raw.get("interaction")
    if isinstance(interaction, dict):
        iid = interaction.get("id")
        if isinstance(iid, str) and iid:
            return iid
    iid = raw.get("interaction_id")
    return iid if isinstance(iid, str) and iid else None


async def follow_events(
    transport: Transport,
    policy: ResumePolicy,
    open_first: Opener,
    state: ResumeState,
    *,
    label: str,
) -> AsyncIterator[RawItem]:
    """Yield the raw events of one interaction, resuming after drops (see module doc)."""
    opener: Opener = open_first
    reconnecting = False
    failures = 0
    while True:
        response: httpx.Response | None = None
        progressed = False
        drop: BaseException | None = None
        try:
            try:
                response = await opener()
            except (InvalidRequestError, NotFoundError) as exc:
                if not reconnecting:
                    raise
                log.info("%s: reconnect refused (%s); polling instead", label, exc.status)
                async for snap in _poll(transport, policy, state, label=label):
                    yield snap
                return
            except APIConnectionError as exc:
                if not reconnecting:
                    raise
                drop = exc
            except WorkbenchAPIError as exc:
                if not reconnecting or not (exc.status == 429 or (exc.status or 0) >= 500):
                    raise
                drop = exc
            if response is not None:
                if not is_event_stream(response):
                    if response.status_code == 200 and is_json(response):
                        await response.aread()
                        data = decode_json_object(response, label)
                        state.interaction_id = _str_or(data.get("id"), state.interaction_id)
                        yield RawSnapshot(data, "json_reply")
                        return
                    raise ProtocolViolationError(
                        f"{label}: expected an event stream, got content-type "
                        f"{response.headers.get('content-type', 'missing')!r}.",
                        status=response.status_code,
                    )
                reader = SSEReader(response)
                seen = state.seen
                try:
                    async with aclosing(reader.events()) as events:
                        async for raw in events:
                            eid = raw.get("event_id")
                            if eid is not None:
                                eid = eid if isinstance(eid, str) else str(eid)
                                if eid in seen:
                                    continue
                                seen.add(eid)
                                state.last_event_id = eid
                            event_type = raw.get("event_type")
                            if state.interaction_id is None or event_type == "interaction.created":
                                state.interaction_id = (
                                    _event_interaction_id(raw) or state.interaction_id
                                )
                            if event_type == "interaction.completed":
                                state.completed = True
                            progressed = True
                            yield raw
                except httpx.TransportError as exc:
                    drop = exc
                else:
                    if reader.saw_done or state.completed:
                        return
                    drop = APIConnectionError(f"{label}: the stream ended before it was complete.")
        finally:
            if response is not None:
                await response.aclose()

        # -- the stream dropped -------------------------------------------------------
        if progressed:
            failures = 0
        reason = type(drop).__name__ if drop is not None else "EOF"
        if state.interaction_id is None:
            lost = APIConnectionError(
                f"{label}: the connection dropped before the interaction id was known "
                f"({reason}); the request is not re-sent."
            )
            lost.resend_refused = True
            raise lost from drop
        if state.last_event_id is None:
            log.info("%s: stream dropped (%s) without event ids; polling", label, reason)
            async for snap in _poll(transport, policy, state, label=label):
                yield snap
            return
        if failures >= policy.max_attempts:
            raise APIConnectionError(
                f"{label}: the stream dropped ({reason}) and could not be resumed after "
                f"{failures} attempts."
            ) from drop
        delay = policy.backoff(failures)
        failures += 1
        state.reconnects += 1
        log.info(
            "%s: stream dropped (%s) after event %s; reconnecting in %.1f s",
            label,
            reason,
            state.last_event_id,
            delay,
        )
        await transport.sleep(delay)
        reconnecting = True
        opener = _reconnect_opener(transport, state.interaction_id, state.last_event_id)


def _str_or(value: Any, default: str | None) -> str | None:
    return value if isinstance(value, str) and value else default


def open_event_stream(
    transport: Transport,
    interaction_id: str,
    last_event_id: str | None,
) -> Awaitable[httpx.Response]:
    return transport.request(
        "GET",
        f"interactions/{quote(interaction_id, safe='-_.~')}",
        params={"stream": True, "last_event_id": last_event_id},
        stream=True,
        accept="text/event-stream",
        what=f"stream interaction {interaction_id}",
    )


def _reconnect_opener(transport: Transport, interaction_id: str, last_event_id: str) -> Opener:
    def opener() -> Awaitable[httpx.Response]:
        return open_event_stream(transport, interaction_id, last_event_id)

    return opener


async def _poll(
    transport: Transport, policy: ResumePolicy, state: ResumeState, *, label: str
) -> AsyncIterator[RawSnapshot]:
    assert state.interaction_id is not None
    state.polled = True
    started = time.monotonic()
    while True:
        response = await transport.request(
            "GET",
            f"interactions/{quote(state.interaction_id, safe='-_.~')}",
            params={"stream": False},
            what=f"poll interaction {state.interaction_id}",
        )
        data = decode_json_object(response, label)
        status = data.get("status")
        if status not in NON_TERMINAL_STATUSES:
            yield RawSnapshot(data, "polling")
            return
        if policy.poll_timeout is not None and time.monotonic() - started > policy.poll_timeout:
            raise APIConnectionError(
                f"{label}: the interaction was still {status} when polling gave up."
            )
        await transport.sleep(policy.poll_interval)
