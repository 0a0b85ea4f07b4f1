"""The official google-genai SDK, sync and async, against the real engine."""

from __future__ import annotations

import time

import pytest
from engine_helpers import EngineProcess
from google import genai
from google.genai._gaos.lib import compat_errors


def _text(interaction: object) -> str:
    steps = getattr(interaction, "steps", None) or []
    parts = []
    for step in steps:
        if step.type == "model_output":
            parts.extend(c.text for c in step.content or [] if c.type == "text")
    return "".join(parts)


def test_create_returns_completed_interaction(client: genai.Client) -> None:
    result = client.interactions.create(model="scripted", input="hello engine")
    assert result.status == "completed"
    assert result.id.startswith("v1_")
    assert [s.type for s in result.steps] == ["user_input", "model_output"]
    assert _text(result) == "hello engine"
    assert result.output_text == "hello engine"
    assert result.usage is not None and result.usage.total_output_tokens == 2
    again = client.interactions.get(result.id)
    # the SDK adds continuation_ids to what create returns; the rest is identical
    assert again.model_dump() == result.model_dump(exclude={"continuation_ids"})


def test_system_instruction_and_thoughts(client: genai.Client) -> None:
    result = client.interactions.create(
        model="scripted",
        input="[[thought: let me see]] [[text: The answer]]",
        system_instruction="Be brief.",
    )
    assert [s.type for s in result.steps] == ["user_input", "thought", "model_output"]
    assert result.system_instruction == "Be brief."
    assert result.output_text == "The answer"


def test_stream_events_in_order(client: genai.Client) -> None:
    events = list(
        client.interactions.create(model="scripted", input="[[text: a b c]]", stream=True)
    )
    kinds = [e.event_type for e in events]
    assert kinds[0] == "interaction.created"
    assert kinds[-2:] == ["interaction.status_update", "interaction.completed"]
    assert kinds.count("step.delta") == 3
    assert [e.event_id for e in events] == [str(i) for i in range(1, len(events) + 1)]
    assert {e.index for e in events if e.event_type.startswith("step.")} == {1}
    assert events[-1].interaction.status == "completed"
    fetched = client.interactions.get(events[0].interaction.id)
    assert fetched.steps[1].content[0].text == "a b c"


def test_chained_turns_use_stored_history(client: genai.Client) -> None:
    first = client.interactions.create(
        model="scripted", input="first turn", system_instruction="sys", store=True
    )
    second = client.interactions.create(
        model="scripted", input="second turn", previous_interaction_id=first.id
    )
    assert second.previous_interaction_id == first.id
    assert second.output_text == "second turn"
    # the system instruction is not inherited
    assert getattr(second, "system_instruction", None) is None
    with pytest.raises(compat_errors.NotFoundError):
        client.interactions.create(model="scripted", input="x", previous_interaction_id="v1_nope")


def test_background_poll_until_done(client: genai.Client) -> None:
    started = client.interactions.create(
        model="scripted", input="[[delay: 0.3]] [[text: later]]", background=True
    )
    assert started.status in ("in_progress", "queued")
    assert [s.type for s in started.steps] == ["user_input"]
    deadline = time.monotonic() + 10
    while True:
        got = client.interactions.get(started.id)
        if got.status not in ("in_progress", "queued"):
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert got.status == "completed"
    assert got.output_text == "later"


def test_background_stream_reattach_with_last_event_id(client: genai.Client) -> None:
    started = client.interactions.create(
        model="scripted", input="[[tokens: 6, 0.05]]", background=True
    )
    first: list[object] = []
    stream = client.interactions.get(started.id, stream=True)
    for event in stream:
        first.append(event)
        if len(first) == 4:
            break
    stream.close()
    last = first[-1].event_id  # type: ignore[attr-defined]
    rest = list(client.interactions.get(started.id, stream=True, last_event_id=last))
    ids = [e.event_id for e in first] + [e.event_id for e in rest]  # type: ignore[attr-defined]
    assert ids == [str(i) for i in range(1, len(ids) + 1)]
    assert rest[-1].event_type == "interaction.completed"
    assert rest[-1].interaction.status == "completed"
    # a full replay after the end gives the same events again
    replay = list(client.interactions.get(started.id, stream=True))
    assert [e.model_dump() for e in replay[4:]] == [e.model_dump() for e in rest]


def test_cancel_stops_background_run(client: genai.Client) -> None:
    started = client.interactions.create(
        model="scripted", input="[[tokens: 500, 0.02]]", background=True
    )
    time.sleep(0.2)
    t0 = time.monotonic()
    cancelled = client.interactions.cancel(started.id)
    assert time.monotonic() - t0 < 2
    assert cancelled.status == "cancelled"
    produced = len(_text(cancelled).split())
    time.sleep(0.2)
    later = client.interactions.get(started.id)
    assert later.status == "cancelled"
    assert len(_text(later).split()) == produced < 500
    # idempotent on a terminal interaction
    assert client.interactions.cancel(started.id).status == "cancelled"
    with pytest.raises(compat_errors.NotFoundError):
        client.interactions.cancel("v1_unknown")


def test_delete(client: genai.Client) -> None:
    result = client.interactions.create(model="scripted", input="bye")
    client.interactions.delete(result.id)
    with pytest.raises(compat_errors.NotFoundError):
        client.interactions.get(result.id)
    with pytest.raises(compat_errors.NotFoundError):
        client.interactions.delete(result.id)


def test_delete_running_cancels_it(client: genai.Client) -> None:
    started = client.interactions.create(model="scripted", input="[[delay: 30]]", background=True)
    t0 = time.monotonic()
    client.interactions.delete(started.id)
    assert time.monotonic() - t0 < 3
    with pytest.raises(compat_errors.NotFoundError):
        client.interactions.get(started.id)


WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def test_function_call_round_trip(client: genai.Client) -> None:
    first = client.interactions.create(
        model="scripted", input='[[call get_weather {"city": "Paris"}]]', tools=[WEATHER]
    )
    assert first.status == "requires_action"
    call = first.steps[-1]
    assert call.type == "function_call"
    assert call.name == "get_weather" and call.arguments == {"city": "Paris"}
    assert call.id.startswith("call_")
    second = client.interactions.create(
        model="scripted",
        previous_interaction_id=first.id,
        tools=[WEATHER],
        input=[
            {
                "type": "function_result",
                "call_id": call.id,
                "name": "get_weather",
                "result": {"temp_c": 21},
            }
        ],
    )
    assert second.status == "completed"
    assert second.output_text == 'get_weather returned {"temp_c": 21}'
    with pytest.raises(compat_errors.BadRequestError):
        client.interactions.create(
            model="scripted",
            previous_interaction_id=first.id,
            input=[{"type": "function_result", "call_id": "call_other", "result": "x"}],
        )


def test_function_call_streams_argument_fragments(client: genai.Client) -> None:
    events = list(
        client.interactions.create(
            model="scripted",
            input='[[call get_weather {"city": "Mountain View"}]]',
            tools=[WEATHER],
            stream=True,
        )
    )
    start = next(e for e in events if e.event_type == "step.start")
    assert start.step.type == "function_call" and start.step.arguments == {}
    fragments = [e.delta.arguments for e in events if e.event_type == "step.delta"]
    assert len(fragments) >= 1 and all(isinstance(f, str) for f in fragments)
    assert "".join(fragments) == '{"city": "Mountain View"}'
    statuses = [e.status for e in events if e.event_type == "interaction.status_update"]
    assert statuses == ["requires_action"]
    assert events[-1].interaction.status == "requires_action"


def test_errors_map_to_sdk_exceptions(client: genai.Client, engine: EngineProcess) -> None:
    with pytest.raises(compat_errors.NotFoundError):
        client.interactions.create(model="no-such-model", input="x")
    with pytest.raises(compat_errors.NotFoundError):
        client.interactions.get("v1_missing")
    with pytest.raises(compat_errors.BadRequestError):
        client.interactions.create(model="scripted", input="x", background=True, store=False)
    bad = genai.Client(
        api_key="wrong", http_options={"base_url": engine.url, "api_version": "v1beta"}
    )
    with pytest.raises(compat_errors.AuthenticationError):
        bad.interactions.create(model="scripted", input="x")


def test_backend_error_is_in_band(client: genai.Client) -> None:
    result = client.interactions.create(model="scripted", input="[[error: model exploded]]")
    assert result.status == "failed"
    assert result.errors[0].message == "model exploded"
    events = list(
        client.interactions.create(model="scripted", input="[[error: boom]]", stream=True)
    )
    kinds = [e.event_type for e in events]
    assert kinds[-3:] == ["error", "interaction.status_update", "interaction.completed"]
    assert events[-1].interaction.status == "failed"


def test_default_api_version_v1(engine: EngineProcess) -> None:
    c = genai.Client(api_key=engine.token, http_options={"base_url": engine.url})
    assert c.interactions.create(model="scripted", input="v1 works").output_text == "v1 works"


async def test_async_client_end_to_end(client: genai.Client) -> None:
    aio = client.aio
    result = await aio.interactions.create(model="scripted", input="async hello")
    assert result.status == "completed" and result.output_text == "async hello"
    stream = await aio.interactions.create(model="scripted", input="[[text: x y]]", stream=True)
    kinds = [event.event_type async for event in stream]
    assert kinds[0] == "interaction.created" and kinds[-1] == "interaction.completed"
    bg = await aio.interactions.create(
        model="scripted", input="[[tokens: 5, 0.02]]", background=True
    )
    replay = await aio.interactions.get(bg.id, stream=True, last_event_id="1")
    events = [event async for event in replay]
    assert events[0].event_id == "2"
    assert events[-1].interaction.status == "completed"
    cancelled = await aio.interactions.cancel(bg.id)
    assert cancelled.status == "completed"  # already terminal: unchanged
    await aio.interactions.delete(bg.id)
    with pytest.raises(compat_errors.NotFoundError):
        await aio.interactions.get(bg.id)


def test_background_stream_create(client: genai.Client) -> None:
    events = list(
        client.interactions.create(
            model="scripted", input="[[tokens: 3, 0.01]]", stream=True, background=True
        )
    )
    assert events[0].interaction.status == "in_progress"
    assert events[-1].interaction.status == "completed"
    assert client.interactions.get(events[0].interaction.id).output_text == "t0 t1 t2 "


async def test_async_function_round_trip_and_errors(
    client: genai.Client, engine: EngineProcess
) -> None:
    aio = client.aio
    first = await aio.interactions.create(
        model="scripted", input="[[call get_weather]]", tools=[WEATHER]
    )
    assert first.status == "requires_action"
    call = first.steps[-1]
    second = await aio.interactions.create(
        model="scripted",
        previous_interaction_id=first.id,
        tools=[WEATHER],
        input=[{"type": "function_result", "call_id": call.id, "result": "sunny"}],
    )
    assert second.output_text == "function returned sunny"
    with pytest.raises(compat_errors.BadRequestError):
        # (the SDK itself refuses the legacy role form before sending it)
        await aio.interactions.create(
            model="scripted",
            input="x",
            previous_interaction_id=first.id,
            generation_config={"max_output_tokens": -1},
        )
    bad = genai.Client(
        api_key="wrong", http_options={"base_url": engine.url, "api_version": "v1beta"}
    )
    with pytest.raises(compat_errors.AuthenticationError):
        await bad.aio.interactions.get(first.id)
    started = await aio.interactions.create(
        model="scripted", input="[[delay: 30]]", background=True
    )
    cancelled = await aio.interactions.cancel(started.id)
    assert cancelled.status == "cancelled"
