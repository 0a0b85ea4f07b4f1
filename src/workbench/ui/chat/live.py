"""Show a running interaction that someone else streams, live, in the chat's transcript.

A transcript opened on a running background run (the Runs dock's "Open transcript", or the
run's session picked in the list) used to show what the history had when it opened and never
change. The run tracker owns that interaction's stream (``core/follower.py``); this part only
*watches* it: each snapshot becomes the transcript's live turn, and when the run ends the
chat re-reads the session, which the tracker has saved once, with its metrics. A stalled
run (``core/stall.py``) is reported through ``on_stall`` so the chat shows its stall bar.
"""

from __future__ import annotations

from collections.abc import Callable

from workbench.core.follower import Followers, Snapshot

from ..transcript import TranscriptView, TurnEntry


class LiveFollow:
    """Watches at most one interaction for the transcript; the chat says which and when."""

    def __init__(
        self,
        followers: Followers,
        transcript: TranscriptView,
        on_end: Callable[[str], None],
        on_stall: Callable[[bool], None] = lambda _stalled: None,
    ) -> None:
        self.followers = followers
        self.transcript = transcript
        self.on_end = on_end
        """Called with the session id once the watched run ended (the chat re-reads it)."""
        self.on_stall = on_stall
        """Called when the watched run becomes stalled (True) or not any more (False)."""
        self.stalled = False
        self.interaction_id: str | None = None
        self.target = ""
        self._unwatch: Callable[[], None] | None = None

    def running(self, interaction_id: str | None) -> bool:
        """Whether the run tracker is streaming this interaction right now."""
        snap = self.followers.get(interaction_id) if interaction_id else None
        return snap is not None and snap.owner == "runs"

    def start(self, interaction_id: str, first: TurnEntry) -> None:
        """Watch ``interaction_id``; ``first`` (what the history has) shows until news comes."""
        self.stop()
        self.interaction_id = interaction_id
        self.target = first.target
        first.live = True
        self.transcript.set_live(first)
        self._unwatch = self.followers.watch(interaction_id, self._seen)
        self._set_stalled(self.followers.stalled(interaction_id))

    def stop(self) -> None:
        """Stop watching (another session opened, a new turn is sent)."""
        if self._unwatch is not None:
            self._unwatch()
        self._unwatch = None
        if self.interaction_id is not None:
            self.transcript.set_live(None)
        self.interaction_id = None
        self._set_stalled(False)

    def keep_waiting(self) -> bool:
        """The user waits on the stalled run another period; False when it is not followed."""
        return self.interaction_id is not None and self.followers.keep_waiting(self.interaction_id)

    def _set_stalled(self, stalled: bool) -> None:
        if stalled != self.stalled:
            self.stalled = stalled
            self.on_stall(stalled)

    def _seen(self, snap: Snapshot) -> None:
        if snap.interaction_id != self.interaction_id:
            return
        if snap.done:
            self._unwatch = None
            self.interaction_id = None
            self._set_stalled(False)
            self.transcript.set_live(None)
            self.on_end(snap.session_id)
            return
        self._set_stalled(snap.stalled)
        if snap.data:
            self.transcript.set_live(
                TurnEntry(
                    snap.interaction_id,
                    snap.input_steps,
                    snap.data,
                    snap.metrics,
                    target=self.target,
                    live=True,
                )
            )
