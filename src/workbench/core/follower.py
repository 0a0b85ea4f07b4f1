"""One follower per interaction: the only stream of it, whoever watches.

Qt-free. Before this, a background chat turn was followed twice (the chat's stream, then the
run tracker attaching a second stream and GETting it at the end) and saved three times, the
last save wiping its time-to-first-token and thought metrics; a transcript opened on a
running run never updated. Now whoever streams an interaction (the chat's
:class:`~workbench.core.turns.TurnRunner` or the :class:`~workbench.core.runs.RunTracker`)
*owns* its follower here and publishes each snapshot to it; everyone else (the Runs dock
adopting a chat turn, a transcript showing a running run) *watches* it instead of opening
another stream. The owner is the one place that saves the interaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class Snapshot:
    """What a follower knows about its interaction, handed to every watcher."""

    interaction_id: str
    data: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    input_steps: list[Any] = field(default_factory=list)
    session_id: str = ""
    owner: str = ""
    """Who streams it: ``"chat"`` or ``"runs"``."""
    done: bool = False
    error: str = ""
    stalled: bool = False
    """No event for the stall limit (:mod:`.stall`): the owner offers cancel / keep waiting."""
    last_event_id: str | None = None
    """The last event folded in: a watcher that must resume later (after a restart) resumes
    after this one, as if it had streamed the events itself."""


Watcher = Callable[[Snapshot], None]


class Followers:
    """The registry of interactions being followed right now, by interaction id."""

    def __init__(self) -> None:
        self._live: dict[str, Snapshot] = {}
        self._watchers: dict[str, list[Watcher]] = {}
        self._waiting: dict[str, Callable[[], None]] = {}

    def own(self, snapshot: Snapshot) -> bool:
        """Register ``snapshot``'s interaction as followed by its owner.

        False when someone else already follows it: the caller must watch, not stream.
        """
        current = self._live.get(snapshot.interaction_id)
        if current is not None and current.owner != snapshot.owner:
            return False
        self._live[snapshot.interaction_id] = snapshot
        return True

    def get(self, interaction_id: str) -> Snapshot | None:
        """The live snapshot, or None when nobody follows that interaction now."""
        return self._live.get(interaction_id)

    def watched(self, interaction_id: str) -> bool:
        """Whether anyone watches: owners skip building snapshots nobody reads."""
        return bool(self._watchers.get(interaction_id))

    def publish(self, snapshot: Snapshot) -> None:
        """The owner's new state; watchers hear it; a ``done`` snapshot ends the follow."""
        if snapshot.done:
            self._live.pop(snapshot.interaction_id, None)
        else:
            self._live[snapshot.interaction_id] = snapshot
        for watcher in list(self._watchers.get(snapshot.interaction_id, ())):
            try:
                watcher(snapshot)
            except Exception:  # one broken view must not stop the stream for the others
                log.exception("watcher of %s failed", snapshot.interaction_id)
        if snapshot.done:
            self._watchers.pop(snapshot.interaction_id, None)

    def watch(self, interaction_id: str, watcher: Watcher) -> Callable[[], None]:
        """Hear every snapshot of ``interaction_id`` until it ends; returns an unwatch."""
        self._watchers.setdefault(interaction_id, []).append(watcher)

        def unwatch() -> None:
            watchers = self._watchers.get(interaction_id, [])
            if watcher in watchers:
                watchers.remove(watcher)

        return unwatch

    def on_keep_waiting(self, interaction_id: str, keep: Callable[[], None] | None) -> None:
        """The owner's "keep waiting" for a stalled follow (None: no longer stalled, or it
        stopped following). Watchers hear the change: a transcript open on a background run
        shows the stall as the Runs dock does, though no event (hence no snapshot) came."""
        if keep is None:
            self._waiting.pop(interaction_id, None)
        else:
            self._waiting[interaction_id] = keep
        current = self._live.get(interaction_id)
        if current is not None and current.stalled != (keep is not None):
            self.publish(replace(current, stalled=keep is not None))

    def stalled(self, interaction_id: str) -> bool:
        """Whether its owner reports the follow stalled now (a "keep waiting" is on offer)."""
        return interaction_id in self._waiting

    def keep_waiting(self, interaction_id: str) -> bool:
        """A watcher's user chose to wait on a stalled run; False when nobody follows it."""
        keep = self._waiting.get(interaction_id)
        if keep is None:
            return False
        keep()
        return True

    def release(self, interaction_id: str, owner: str) -> None:
        """The owner stops following without an end (the app quits, a stream dropped)."""
        current = self._live.get(interaction_id)
        if current is not None and current.owner == owner:
            del self._live[interaction_id]
