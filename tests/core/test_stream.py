"""The stream accumulator folds events exactly as protocol.md §6.5 says."""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.core.stream import StreamAccumulator
from workbench.protocol import encode_bytes, parse_event, parse_interaction


def ev(**payload: Any) -> Any:
    return parse_event(payload)


def sse_lines_to_events(text: str) -> list[Any]:
    return [
        parse_event(json.loads(line[len("data: ") :]))
        for line in text.splitlines()
        if line.startswith("data: {")
    ]


FUNCTION_CALL_STREAM = """
data: {"event_type":"interaction.created","event_id":"1","interaction":{"id":"v1_i1","object":"interaction","status":"in_progress","model":"gemini-3-flash-preview","created":"2026-11-02T10:00:00Z"}}
data: {"event_type":"step.start","event_id":"2","index":1,"step":{"type":"function_call","id":"call_1","name":"get_weather","arguments":{}}}
data: {"event_type":"step.delta","event_id":"3","index":1,"delta":{"type":"arguments_delta","arguments":"{\\"city\\":"}}
data: {"event_type":"step.delta","event_id":"4","index":1,"delta":{"type":"arguments_delta","arguments":"\\"MV\\"}"}}
data: {"event_type":"step.stop","event_id":"5","index":1}
data: {"event_type":"interaction.status_update","event_id":"6","interaction_id":"v1_i1","status":"requires_action"}
data: {"event_type":"interaction.completed","event_id":"7","interaction":{"id":"v1_i1","object":"interaction","status":"requires_action","updated":"2026-11-02T10:00:02Z","usage":{"total_input_tokens":12,"total_output_tokens":20,"total_tokens":32}}}
"""


def test_protocol_example_function_call_turn() -> None:
    acc = StreamAccumulator()
    for event in sse_lines_to_events(FUNCTION_CALL_STREAM):
        acc.feed(event)
    snap = acc.snapshot()
    assert snap.id == "v1_i1"
    assert snap.status == "requires_action"
    assert snap.created == "2026-11-02T10:00:00Z"
    assert snap.usage is not None and snap.usage.total_tokens == 32
    assert acc.done
    [call] = snap.steps or []
    assert call.to_wire() == {
        "type": "function_call",
        "id": "call_1",
        "name": "get_weather",
        "arguments": {"city": "MV"},
    }


def test_partial_arguments_visible_while_streaming() -> None:
    acc = StreamAccumulator()
    events = sse_lines_to_events(FUNCTION_CALL_STREAM)
    for event in events[:3]:
        acc.feed(event)
    assert acc.partial_arguments(1) == '{"city":'


def test_text_appends_to_trailing_block_and_duplicates_are_ignored() -> None:
    acc = StreamAccumulator()
    acc.feed(ev(event_type="step.start", event_id="1", index=0, step={"type": "model_output"}))
    acc.feed(
        ev(event_type="step.delta", event_id="2", index=0, delta={"type": "text", "text": "Hel"})
    )
    assert not acc.feed(
        ev(event_type="step.delta", event_id="2", index=0, delta={"type": "text", "text": "Hel"})
    )
    acc.feed(
        ev(event_type="step.delta", event_id="3", index=0, delta={"type": "text", "text": "lo"})
    )
    acc.feed(
        ev(
            event_type="step.delta",
            event_id="4",
            index=0,
            delta={"type": "image", "data": "iVBORw==", "mime_type": "image/png"},
        )
    )
    acc.feed(
        ev(event_type="step.delta", event_id="5", index=0, delta={"type": "text", "text": "!"})
    )
    [step] = acc.snapshot_wire()["steps"]
    assert step["content"] == [
        {"type": "text", "text": "Hello"},
        {"type": "image", "data": "iVBORw==", "mime_type": "image/png"},
        {"type": "text", "text": "!"},
    ]
    assert acc.last_event_id == "5"


def test_index_is_a_key_not_an_offset() -> None:
    acc = StreamAccumulator()
    acc.feed(ev(event_type="step.start", index=7, step={"type": "model_output"}))
    acc.feed(ev(event_type="step.delta", index=7, delta={"type": "text", "text": "x"}))
    acc.feed(ev(event_type="step.start", index=3, step={"type": "thought"}))
    steps = acc.snapshot_wire()["steps"]
    assert [s["type"] for s in steps] == ["thought", "model_output"]


def test_thoughts_summaries_signature_and_timing() -> None:
    acc = StreamAccumulator()
    acc.feed(ev(event_type="step.start", index=1, step={"type": "thought"}), at=10.0)
    acc.feed(
        ev(
            event_type="step.delta",
            index=1,
            delta={"type": "thought_summary", "content": {"type": "text", "text": "Plan"}},
        ),
        at=10.5,
    )
    acc.feed(
        ev(
            event_type="step.delta",
            index=1,
            delta={"type": "thought_signature", "signature": "c2ln"},
        ),
        at=11.0,
    )
    acc.feed(ev(event_type="step.stop", index=1), at=12.5)
    [step] = acc.snapshot_wire()["steps"]
    assert step == {
        "type": "thought",
        "summary": [{"type": "text", "text": "Plan"}],
        "signature": "c2ln",
    }
    timing = acc.timing(1)
    assert timing is not None and timing.duration == 2.5
    assert acc.first_content_at == 10.5


def test_audio_chunks_join_and_code_results_append() -> None:
    acc = StreamAccumulator()
    acc.feed(ev(event_type="step.start", index=0, step={"type": "model_output"}))
    for chunk in (b"\x01\x02", b"\x03"):
        acc.feed(
            ev(
                event_type="step.delta",
                index=0,
                delta={"type": "audio", "data": encode_bytes(chunk), "mime_type": "audio/l16"},
            )
        )
    acc.feed(
        ev(event_type="step.start", index=1, step={"type": "code_execution_result", "call_id": "c"})
    )
    for part in ("a\n", "b\n"):
        acc.feed(
            ev(
                event_type="step.delta",
                index=1,
                delta={"type": "code_execution_result", "result": part},
            )
        )
    acc.feed(ev(event_type="step.start", index=2, step={"type": "function_result", "call_id": "f"}))
    acc.feed(
        ev(
            event_type="step.delta",
            index=2,
            delta={"type": "function_result", "result": {"ok": True}, "name": "n"},
        )
    )
    audio, code, result = acc.snapshot_wire()["steps"]
    assert audio["content"] == [
        {"type": "audio", "data": encode_bytes(b"\x01\x02\x03"), "mime_type": "audio/l16"}
    ]
    assert code == {"type": "code_execution_result", "call_id": "c", "result": "a\nb\n"}
    assert result == {
        "type": "function_result",
        "call_id": "f",
        "result": {"ok": True},
        "name": "n",
    }


def test_unknown_events_and_deltas_are_kept_not_fatal() -> None:
    acc = StreamAccumulator()
    acc.feed(ev(event_type="interaction.teleported", where="mars"))
    acc.feed(ev(event_type="step.start", index=0, step={"type": "hologram", "beam": 1}))
    acc.feed(ev(event_type="step.delta", index=0, delta={"type": "sparkle", "n": 2}))
    assert acc.unknown_events == [{"event_type": "interaction.teleported", "where": "mars"}]
    [step] = acc.snapshot_wire()["steps"]
    assert step["type"] == "hologram" and step["unknown_deltas"] == [{"type": "sparkle", "n": 2}]
    assert [p.kind for p in acc.problems] == ["delta"]


def test_error_event_then_failed_completion() -> None:
    acc = StreamAccumulator()
    acc.feed(ev(event_type="interaction.created", interaction={"id": "a", "status": "in_progress"}))
    acc.feed(ev(event_type="error", error={"code": "gateway_timeout", "message": "Deadline"}))
    acc.feed(ev(event_type="interaction.completed", interaction={"id": "a", "status": "failed"}))
    snap = acc.snapshot()
    assert snap.status == "failed"
    assert snap.errors is not None and snap.errors[0].message == "Deadline"


def test_bad_arguments_json_is_reported() -> None:
    acc = StreamAccumulator()
    acc.feed(
        ev(event_type="step.start", index=0, step={"type": "function_call", "id": "c", "name": "f"})
    )
    acc.feed(
        ev(
            event_type="step.delta",
            index=0,
            delta={"type": "arguments_delta", "arguments": "{nope"},
        )
    )
    acc.feed(ev(event_type="step.stop", index=0))
    assert acc.problems and acc.problems[0].kind == "arguments"


def test_continuation_hops_merge_like_the_sdk() -> None:
    acc = StreamAccumulator()
    acc.feed(
        ev(
            event_type="interaction.created",
            interaction={"id": "h1", "status": "in_progress", "created": "2026-01-01T00:00:00Z"},
        )
    )
    acc.feed(ev(event_type="step.start", index=1, step={"type": "model_output"}))
    acc.feed(ev(event_type="step.delta", index=1, delta={"type": "text", "text": "one "}))
    acc.feed(
        ev(
            event_type="interaction.completed",
            interaction={"id": "h1", "status": "requires_continuation", "continuation_token": "t"},
        )
    )
    acc.feed(
        ev(event_type="interaction.created", interaction={"id": "h2", "status": "in_progress"})
    )
    acc.feed(ev(event_type="step.start", index=1, step={"type": "model_output"}))
    acc.feed(ev(event_type="step.delta", index=1, delta={"type": "text", "text": "two"}))
    acc.feed(
        ev(event_type="interaction.completed", interaction={"id": "h2", "status": "completed"})
    )
    wire = acc.snapshot_wire()
    assert wire["id"] == "h2" and wire["status"] == "completed"
    assert wire["created"] == "2026-01-01T00:00:00Z"
    assert wire["continuation_ids"] == ["h1", "h2"]
    assert "continuation_token" not in wire
    assert [s["content"][0]["text"] for s in wire["steps"]] == ["one ", "two"]


def test_base_interaction_is_the_starting_point() -> None:
    base = parse_interaction(
        {
            "id": "bg",
            "status": "in_progress",
            "steps": [{"type": "user_input", "content": [{"type": "text", "text": "q"}]}],
        }
    )
    acc = StreamAccumulator(base)
    acc.feed(ev(event_type="step.start", index=1, step={"type": "model_output"}))
    acc.feed(ev(event_type="step.delta", index=1, delta={"type": "text", "text": "a"}))
    steps = acc.snapshot_wire()["steps"]
    assert [s["type"] for s in steps] == ["user_input", "model_output"]


# --- property: streaming any list of steps and folding it gives the steps back -----------

texts = st.text(min_size=1, max_size=12)


def _split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in itertools.pairwise(points) if text[a:b]]


@st.composite
def step_and_events(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    kind = draw(
        st.sampled_from(["model_output", "thought", "function_call", "code_execution_result"])
    )
    cuts = draw(st.lists(st.integers(0, 50), max_size=4))
    if kind == "model_output":
        text = draw(texts)
        step = {"type": kind, "content": [{"type": "text", "text": text}]}
        return step, [{"type": "text", "text": p} for p in _split(text, cuts)]
    if kind == "thought":
        summary = draw(st.lists(texts, min_size=1, max_size=3))
        step = {"type": kind, "summary": [{"type": "text", "text": s} for s in summary]}
        return step, [{"type": "thought_summary", "content": c} for c in step["summary"]]
    if kind == "function_call":
        args = draw(st.dictionaries(st.text(max_size=5), st.integers() | texts, max_size=3))
        raw = json.dumps(args)
        step = {"type": kind, "id": "c", "name": "f", "arguments": args}
        return step, [{"type": "arguments_delta", "arguments": p} for p in _split(raw, cuts)]
    output = draw(texts)
    step = {"type": kind, "call_id": "c", "result": output}
    return step, [{"type": kind, "result": p} for p in _split(output, cuts)]


@settings(max_examples=150, deadline=None)
@given(st.lists(step_and_events(), min_size=1, max_size=5), st.integers(0, 3))
def test_fold_of_stream_equals_steps(pairs: list[Any], first_index: int) -> None:
    acc = StreamAccumulator()
    event_id = 0
    for offset, (step, deltas) in enumerate(pairs):
        index = first_index + offset
        start = {k: v for k, v in step.items() if k in ("type", "id", "name", "call_id")}
        if step["type"] == "function_call":
            start["arguments"] = {}
        frames = [{"event_type": "step.start", "index": index, "step": start}]
        frames += [{"event_type": "step.delta", "index": index, "delta": d} for d in deltas]
        frames.append({"event_type": "step.stop", "index": index})
        for frame in frames:
            event_id += 1
            acc.feed(parse_event({**frame, "event_id": str(event_id)}))
            acc.feed(parse_event({**frame, "event_id": str(event_id)}))  # replayed duplicate
    assert acc.snapshot_wire()["steps"] == [step for step, _ in pairs]
