"""Fold a stream of interaction events into a snapshot the UI can render (protocol.md §6.5).

Pure code: events in, ``Interaction`` snapshot out, no I/O and no clock of its own (callers may
pass the arrival time so the UI can show time to first token, tokens/s and thought durations).

Fold rules: a step starts from ``step.start.step``; every delta with the same ``index`` is
applied in order; ``step.stop`` closes it. ``index`` is a key, never an offset into a list
(§13 Q3). Text is appended to the trailing text block, ``arguments_delta`` fragments are
concatenated and parsed at ``step.stop``, thought summaries are appended and signatures set,
audio chunks are joined, every other tool delta sets its fields. Events already seen (same
``event_id``) are ignored, so a resumed stream can never double a delta. Unknown events and
deltas are kept as raw JSON for display instead of failing.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from workbench.protocol import (
    ErrorEvent,
    Event,
    Interaction,
    InteractionCompletedEvent,
    InteractionCreatedEvent,
    InteractionStatusUpdateEvent,
    StepDeltaEvent,
    StepStartEvent,
    StepStopEvent,
    decode_bytes,
    encode_bytes,
    join_code_output,
    parse_interaction,
)

JsonDict = dict[str, Any]

# A delta arriving before its step.start implies the step's type.
_IMPLIED_STEP = {
    "text": "model_output",
    "text_annotation_delta": "model_output",
    "image": "model_output",
    "audio": "model_output",
    "video": "model_output",
    "document": "model_output",
    "thought_summary": "thought",
    "thought_signature": "thought",
    "arguments_delta": "function_call",
}
_MEDIA_BLOCKS = frozenset({"image", "video", "document"})


def _wire(model: Any) -> JsonDict:
    dumped = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return dumped if isinstance(dumped, dict) else {}


@dataclass
class StepTiming:
    """When a step started and stopped, in the caller's clock (seconds), if given."""

    started: float | None = None
    stopped: float | None = None

    @property
    def duration(self) -> float | None:
        if self.started is None or self.stopped is None:
            return None
        return max(0.0, self.stopped - self.started)


@dataclass
class _Hop:
    """One interaction of a (possibly continued) stream."""

    fields: JsonDict = field(default_factory=dict)
    steps: dict[int, JsonDict] = field(default_factory=dict)
    arguments: dict[int, str] = field(default_factory=dict)
    timings: dict[int, StepTiming] = field(default_factory=dict)


@dataclass(frozen=True)
class StreamProblem:
    """Something in the stream that could not be folded; shown to the user as raw JSON."""

    kind: str
    detail: str
    raw: JsonDict


class StreamAccumulator:
    """Folds events into an ``Interaction``; ``snapshot()`` is cheap when nothing changed.

    Args:
        base: an interaction to start from (e.g. the unary create reply of a background run,
            or the locally known input steps), or None.
    """

    def __init__(self, base: Interaction | None = None) -> None:
        self._hops: list[_Hop] = [_Hop()]
        self._seen_ids: set[str] = set()
        self._snapshot: Interaction | None = None
        self.errors: list[JsonDict] = []
        self.problems: list[StreamProblem] = []
        self.unknown_events: list[JsonDict] = []
        self.started_at: float | None = None
        self.first_content_at: float | None = None
        self.last_event_at: float | None = None
        self.last_event_id: str | None = None
        self.done = False
        if base is not None:
            hop = self._hops[0]
            wire = _wire(base)
            for index, step in enumerate(wire.pop("steps", []) or []):
                hop.steps[index] = step
            hop.fields.update(wire)

    # ------------------------------------------------------------------ feeding
    def feed(self, event: Event, at: float | None = None) -> bool:
        """Apply one event; returns False when it was a duplicate and changed nothing."""
        event_id = getattr(event, "event_id", None)
        if isinstance(event_id, str):
            if event_id in self._seen_ids:
                return False
            self._seen_ids.add(event_id)
            self.last_event_id = event_id
        if at is not None:
            if self.started_at is None:
                self.started_at = at
            self.last_event_at = at
        self._snapshot = None
        if isinstance(event, InteractionCreatedEvent):
            self._on_created(event)
        elif isinstance(event, InteractionStatusUpdateEvent):
            self._set_fields(
                {
                    "status": event.status,
                    "continuation_token": event.continuation_token,
                    "usage": _wire(event.usage) if event.usage is not None else None,
                },
                clear_missing=(),
            )
        elif isinstance(event, StepStartEvent):
            self._on_start(event, at)
        elif isinstance(event, StepDeltaEvent):
            self._on_delta(event, at)
        elif isinstance(event, StepStopEvent):
            self._on_stop(event, at)
        elif isinstance(event, InteractionCompletedEvent):
            self._on_completed(event)
        elif isinstance(event, ErrorEvent):
            self.errors.append(_wire(event.error) if event.error is not None else {})
        else:
            self.unknown_events.append(_wire(event))
        return True

    def feed_all(self, events: list[Event]) -> None:
        for event in events:
            self.feed(event)

    @property
    def _hop(self) -> _Hop:
        return self._hops[-1]

    def _set_fields(self, values: JsonDict, clear_missing: tuple[str, ...]) -> None:
        for key, value in values.items():
            if value is not None:
                self._hop.fields[key] = value
            elif key in clear_missing:
                self._hop.fields.pop(key, None)

    def _on_created(self, event: InteractionCreatedEvent) -> None:
        wire = _wire(event.interaction) if event.interaction is not None else {}
        current_id = self._hop.fields.get("id")
        if current_id and wire.get("id") and wire["id"] != current_id:
            self._hops.append(_Hop())  # a continuation hop: a new interaction, new indexes
        steps = wire.pop("steps", None)
        self._hop.fields.update(wire)
        if isinstance(steps, list):
            for index, step in enumerate(steps):
                if isinstance(step, dict):
                    self._hop.steps.setdefault(index, step)

    def _on_completed(self, event: InteractionCompletedEvent) -> None:
        wire = _wire(event.interaction) if event.interaction is not None else {}
        steps = wire.pop("steps", None)
        self._hop.fields.update(wire)
        if "continuation_token" not in wire:
            self._hop.fields.pop("continuation_token", None)
        if isinstance(steps, list) and steps:
            # The server's own final steps are authoritative when it sends them (§13 Q4).
            self._hop.steps = {i: s for i, s in enumerate(steps) if isinstance(s, dict)}
            self._hop.arguments.clear()
        self.done = True

    def _on_start(self, event: StepStartEvent, at: float | None) -> None:
        if event.index is None:
            self.problems.append(StreamProblem("step.start", "no index", _wire(event)))
            return
        step = _wire(event.step) if event.step is not None else {}
        self._hop.steps[event.index] = step
        if step.get("type") == "function_call":
            self._hop.arguments[event.index] = ""
        self._hop.timings[event.index] = StepTiming(started=at)

    def _on_stop(self, event: StepStopEvent, at: float | None) -> None:
        index = event.index
        if index is None:
            return
        timing = self._hop.timings.setdefault(index, StepTiming())
        timing.stopped = at
        step = self._hop.steps.get(index)
        raw = self._hop.arguments.pop(index, None)
        if step is not None and raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                step["arguments"] = parsed
            else:
                self.problems.append(
                    StreamProblem(
                        "arguments",
                        f"the arguments of step {index} are not a JSON object",
                        {"index": index, "arguments": raw},
                    )
                )
        if event.usage is not None:
            self._hop.fields["usage"] = _wire(event.usage)

    def _on_delta(self, event: StepDeltaEvent, at: float | None) -> None:
        index = event.index
        if index is None or event.delta is None:
            self.problems.append(StreamProblem("step.delta", "no index or delta", _wire(event)))
            return
        delta = _wire(event.delta)
        kind = delta.get("type")
        step = self._hop.steps.get(index)
        if step is None:
            implied = _IMPLIED_STEP.get(str(kind), str(kind))
            step = self._hop.steps[index] = {"type": implied}
            if implied == "function_call":
                self._hop.arguments.setdefault(index, "")
        if self.first_content_at is None and at is not None:
            self.first_content_at = at
        if event.metadata is not None and event.metadata.total_usage is not None:
            self._hop.fields["usage"] = _wire(event.metadata.total_usage)
        _apply_delta(step, delta, self._hop.arguments, index, self.problems)

    # ------------------------------------------------------------------ reading
    def snapshot(self) -> Interaction:
        """The interaction as folded so far (hops merged the way the SDK merges them)."""
        if self._snapshot is None:
            self._snapshot = parse_interaction(self.snapshot_wire(), lenient=True)
        return self._snapshot

    def snapshot_wire(self) -> JsonDict:
        first, last = self._hops[0], self._hops[-1]
        merged: JsonDict = dict(copy.deepcopy(last.fields))
        for key in ("previous_interaction_id", "created", "input"):
            if key in first.fields:
                merged[key] = copy.deepcopy(first.fields[key])
        steps: list[JsonDict] = []
        for hop_number, hop in enumerate(self._hops):
            hop_steps = [copy.deepcopy(hop.steps[i]) for i in sorted(hop.steps)]
            if hop_number > 0:
                while hop_steps and hop_steps[0].get("type") == "user_input":
                    hop_steps.pop(0)
            steps.extend(hop_steps)
        if steps:
            merged["steps"] = steps
        if len(self._hops) > 1:
            merged["continuation_ids"] = [h.fields.get("id") for h in self._hops]
        if self.errors and "errors" not in merged:
            merged["errors"] = copy.deepcopy(self.errors)
        return merged

    def partial_arguments(self, index: int) -> str | None:
        """The raw argument text of a function call still streaming (for live display)."""
        return self._hop.arguments.get(index)

    def timing(self, index: int) -> StepTiming | None:
        return self._hop.timings.get(index)

    @property
    def status(self) -> str | None:
        value = self._hop.fields.get("status")
        return value if isinstance(value, str) else None

    @property
    def interaction_id(self) -> str | None:
        value = self._hop.fields.get("id")
        return value if isinstance(value, str) else None


def _apply_delta(
    step: JsonDict,
    delta: JsonDict,
    arguments: dict[int, str],
    index: int,
    problems: list[StreamProblem],
) -> None:
    kind = delta.get("type")
    body = {k: v for k, v in delta.items() if k != "type"}
    if kind == "text":
        blocks = step.setdefault("content", [])
        if blocks and isinstance(blocks[-1], dict) and blocks[-1].get("type") == "text":
            blocks[-1]["text"] = str(blocks[-1].get("text", "")) + str(body.get("text", ""))
        else:
            blocks.append({"type": "text", "text": str(body.get("text", ""))})
    elif kind == "text_annotation_delta":
        blocks = step.setdefault("content", [])
        if not (blocks and isinstance(blocks[-1], dict) and blocks[-1].get("type") == "text"):
            blocks.append({"type": "text", "text": ""})
        blocks[-1].setdefault("annotations", []).extend(body.get("annotations") or [])
    elif kind in _MEDIA_BLOCKS:
        step.setdefault("content", []).append({"type": kind, **body})
    elif kind == "audio":
        _append_audio(step.setdefault("content", []), body, problems)
    elif kind == "thought_summary":
        if body.get("content") is not None:
            step.setdefault("summary", []).append(body["content"])
    elif kind == "thought_signature":
        step["signature"] = body.get("signature")
    elif kind == "arguments_delta":
        arguments[index] = arguments.get(index, "") + str(body.get("arguments") or "")
    elif kind == "code_execution_result":
        if "result" in body:
            step["result"] = join_code_output(step.get("result"), body.pop("result"))
        step.update(body)
    elif isinstance(kind, str) and (kind.endswith("_call") or kind.endswith("_result")):
        step.update(body)  # tool call/result deltas set their fields (§6.5 "set")
    else:
        step.setdefault("unknown_deltas", []).append(delta)
        problems.append(StreamProblem("delta", f"unknown delta type {kind!r}", delta))


def _append_audio(blocks: list[JsonDict], body: JsonDict, problems: list[StreamProblem]) -> None:
    last = blocks[-1] if blocks and isinstance(blocks[-1], dict) else None
    if last is not None and last.get("type") == "audio" and "data" in last and "data" in body:
        try:
            last["data"] = encode_bytes(decode_bytes(last["data"]) + decode_bytes(body["data"]))
        except ValueError:
            problems.append(StreamProblem("audio", "an audio chunk is not base64", body))
        return
    blocks.append({"type": "audio", **body})
