"""Noticing a run that stopped making progress, and a run that would not stop.

Qt-free. The real service sometimes leaves an interaction ``in_progress`` for good: the
stream stays open (keep-alives keep it from timing out) but no event ever comes. A follower
arms a :class:`StallWatch` while it streams; past ``seconds`` without an event it reports
the run *stalled*, and the app offers "Cancel" and "Keep waiting" (which arms it again).
Any event clears the mark.

:func:`stop_and_delete` is the delete of a running interaction: cancel first, check that it
ended, delete, check that it is gone — because a ``DELETE`` that answers success does not
always stop the run on the server.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from workbench.client import Client, NotFoundError

log = logging.getLogger("workbench.core.stall")

DEFAULT_STALL_SECONDS = 300.0
"""No event for five minutes while a run is going: it is shown as stalled."""

ENV_VAR = "WORKBENCH_STALL_SECONDS"
"""Overrides the settings' limit (seconds); tests and impatient users set it."""

RUNNING = frozenset({"queued", "in_progress"})


def stall_seconds(configured: float | None = None) -> float:
    """The limit in force: ``$WORKBENCH_STALL_SECONDS``, else ``configured``, else 5 min."""
    raw = os.environ.get(ENV_VAR, "").strip()
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = 0.0
        if value > 0:
            return value
        log.warning("$%s=%r is not a positive number of seconds; it is ignored", ENV_VAR, raw)
    return configured if configured and configured > 0 else DEFAULT_STALL_SECONDS


class StallWatch:
    """Calls ``on_change(True)`` after ``seconds`` without :meth:`progress`, and
    ``on_change(False)`` when progress (or :meth:`keep_waiting`) clears it.

    One timer per watch, re-armed only when it fires: an event costs a clock read, not a
    new timer (fifty runs stream into the app at once).
    """

    def __init__(self, seconds: float, on_change: Callable[[bool], None]) -> None:
        self.seconds = seconds
        self.on_change = on_change
        self.stalled = False
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last = 0.0

    def start(self) -> None:
        """Arm the watch (inside a running event loop)."""
        self._loop = asyncio.get_running_loop()
        self._last = self._loop.time()
        self._arm(self.seconds)

    def _arm(self, delay: float) -> None:
        if self._loop is None:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_later(max(0.0, delay), self._fire)

    def _fire(self) -> None:
        self._timer = None
        if self._loop is None:
            return
        left = self._last + self.seconds - self._loop.time()
        if left > 0:
            self._arm(left)
        elif not self.stalled:
            self.stalled = True
            self.on_change(True)

    def progress(self) -> None:
        """An event arrived: the run is alive."""
        if self._loop is None:
            return
        self._last = self._loop.time()
        if self.stalled:
            self.stalled = False
            self._arm(self.seconds)
            self.on_change(False)

    def keep_waiting(self) -> None:
        """The user chose to wait: clear the mark and give it another full period."""
        self.progress()

    def stop(self) -> None:
        """The stream ended (or was left): no more reports."""
        self._loop = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.stalled = False


@dataclass(frozen=True)
class DeleteOutcome:
    """What became of a delete: ``ok`` when the run ended and the server let it go."""

    ok: bool
    status: str
    message: str


async def stop_and_delete(
    client: Client,
    interaction_ids: list[str],
    *,
    checks: int = 5,
    check_seconds: float = 0.5,
) -> DeleteOutcome:
    """Cancel the last hop if it runs, check it ended, delete every hop, check it is gone.

    A server may answer a cancel or a ``DELETE`` with success and keep running the
    interaction (the real service sometimes does); then nothing more is deleted and the
    message says so, so the user knows it may still use their quota.
    """
    if not interaction_ids:
        return DeleteOutcome(True, "", "")
    last = interaction_ids[-1]
    status = await _status(client, last)
    if status in RUNNING:
        status = _text(getattr(await client.interactions.cancel(last), "status", ""))
        for _ in range(checks):
            if status not in RUNNING:
                break
            await asyncio.sleep(check_seconds)
            status = await _status(client, last)
        if status in RUNNING:
            return DeleteOutcome(
                False,
                status,
                "The server accepted the cancel but keeps running this run "
                f"(still {status.replace('_', ' ')}). It was not deleted; try Cancel again "
                "later.",
            )
    for iid in interaction_ids:
        try:
            await client.interactions.delete(iid)
        except NotFoundError:
            continue
    after = await _status(client, last)
    if after in RUNNING:
        return DeleteOutcome(
            False,
            after,
            "The server answered the delete but keeps running this run "
            f"(still {after.replace('_', ' ')}); it may still use your quota.",
        )
    return DeleteOutcome(True, after or status, "")


async def _status(client: Client, interaction_id: str) -> str:
    """The interaction's status now; "" when the server no longer has it."""
    try:
        return _text((await client.interactions.get(interaction_id)).status)
    except NotFoundError:
        return ""


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
