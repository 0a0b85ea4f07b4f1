"""Function results the user types: one pending call of a turn per Enter.

A model that calls a function the app does not run itself waits for its result. "Give
results" on that turn asks for each pending call in turn (the transcript says which, the
composer's placeholder names it); once every call has one, the ``function_result`` steps are
what the next send carries, chained to that turn.
"""

from __future__ import annotations

import json
from typing import Any

from workbench.core.history import HistoryStore

from ..composer import PLACEHOLDER, Composer
from ..transcript import TranscriptView
from .session_state import SessionState


class FunctionResults:
    """Collects typed results for a turn's pending function calls."""

    def __init__(
        self,
        history: HistoryStore,
        state: SessionState,
        *,
        transcript: TranscriptView,
        composer: Composer,
    ) -> None:
        self.history, self.state = history, state
        self.transcript, self.composer = transcript, composer
        # (turn id, pending calls, results so far) while the user is typing results
        self.answering: tuple[str, list[dict[str, Any]], list[dict[str, Any]]] | None = None

    @property
    def active(self) -> bool:
        return self.answering is not None

    def reset(self) -> None:
        """Another session is shown: the results being typed belonged to the old one."""
        if self.answering is not None:
            self.composer.edit.setPlaceholderText(PLACEHOLDER)
        self.answering = None

    def start(self, interaction_id: str) -> None:
        """Ask for the result of each pending function call of a turn, one per Enter."""
        rec = self.history.interaction(interaction_id)
        if rec is None:
            return
        steps = rec.data.get("steps") or []
        answered = {s.get("call_id") for s in steps if s.get("type") == "function_result"}
        pending = [
            s for s in steps if s.get("type") == "function_call" and s.get("id") not in answered
        ]
        if not pending:
            return
        self.state.leaf_id = interaction_id
        self.answering = (interaction_id, pending, [])
        self._prompt_next()

    def _prompt_next(self) -> None:
        assert self.answering is not None
        _iid, pending, results = self.answering
        call = pending[len(results)]
        count = f" ({len(results) + 1} of {len(pending)})" if len(pending) > 1 else ""
        self.transcript.set_notice(
            f"Type the result of {call.get('name')}{count} — JSON or plain text — and press "
            "Enter. Start it with “error:” to report a failure."
        )
        self.composer.edit.setPlaceholderText(f"Result of {call.get('name')}…")
        self.composer.edit.setFocus()

    def take(self, text: str) -> list[dict[str, Any]] | None:
        """Record one typed result; the function_result steps once every call has one."""
        assert self.answering is not None
        iid, pending, results = self.answering
        call = pending[len(results)]
        is_error = text.lower().startswith("error:")
        raw = text[6:].strip() if is_error else text
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        step: dict[str, Any] = {
            "type": "function_result",
            "call_id": call.get("id"),
            "name": call.get("name"),
            "result": value,
        }
        if is_error:
            step["is_error"] = True
        results.append(step)
        self.composer.clear()
        if len(results) < len(pending):
            self._prompt_next()
            return None
        self.answering = None
        self.composer.edit.setPlaceholderText(PLACEHOLDER)
        self.state.send_parent = iid
        return results
