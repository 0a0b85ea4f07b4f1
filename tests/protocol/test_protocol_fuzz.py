"""Property tests: valid payloads round-trip exactly; anything else parses or raises ProtocolError."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from protocol_checks import wire
from protocol_doc import load_fixture
from protocol_strategies import for_type, json_values, model, mutate
from pydantic import TypeAdapter

from workbench.protocol import (
    EVENT_ADAPTER,
    Agent,
    AgentConfig,
    Content,
    CreateAgentInteraction,
    CreateEnvironmentRequest,
    CreateModelInteraction,
    Delta,
    Environment,
    EnvironmentFilesResponse,
    ErrorBody,
    Event,
    Interaction,
    InteractionsInput,
    ListAgentsResponse,
    ListEnvironmentsResponse,
    ListModelsResponse,
    ProtocolError,
    Source,
    Step,
    Tool,
    normalize_input,
    parse,
    parse_create_body,
    parse_event,
    parse_interaction,
)

FAST = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

ROUND_TRIP_MODELS = [
    Interaction,
    CreateModelInteraction,
    CreateAgentInteraction,
    Agent,
    ListAgentsResponse,
    Environment,
    ListEnvironmentsResponse,
    EnvironmentFilesResponse,
    CreateEnvironmentRequest,
    ErrorBody,
    ListModelsResponse,
]

PARSERS = {
    "event": parse_event,
    "interaction": parse_interaction,
    "create": parse_create_body,
    "agent": lambda d: parse(Agent, d),
    "environment": lambda d: parse(Environment, d),
    "input": normalize_input,
}

DOC_PAYLOADS = [e.data for e in load_fixture() if isinstance(e.data, dict) and e.data]


def _only_protocol_errors(parser: Any, data: Any) -> None:
    try:
        parser(data)
    except ProtocolError:
        pass


# --- valid payloads round-trip ------------------------------------------------------------


@pytest.mark.parametrize("schema", ROUND_TRIP_MODELS, ids=lambda m: m.__name__)
@settings(FAST, max_examples=60)
@given(data=st.data())
def test_valid_payloads_round_trip(schema: Any, data: st.DataObject) -> None:
    payload = data.draw(model(schema))
    parsed = parse(schema, payload)
    assert wire(schema, parsed) == payload


UNIONS: dict[str, Any] = {
    "step": Step,
    "content": Content,
    "delta": Delta,
    "tool": Tool,
    "agent_config": AgentConfig,
    "source": Source,
    "input": InteractionsInput,
}


@pytest.mark.parametrize("name", sorted(UNIONS))
@settings(FAST, max_examples=60)
@given(data=st.data())
def test_valid_union_members_round_trip(name: str, data: st.DataObject) -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(UNIONS[name])
    payload = data.draw(for_type(UNIONS[name]))
    assert wire(adapter, parse(adapter, payload)) == payload


@FAST
@given(payload=for_type(Event))
def test_valid_events_round_trip(payload: dict[str, Any]) -> None:
    event = parse_event(payload)
    assert wire(EVENT_ADAPTER, event) == payload


# --- anything else parses or raises ProtocolError -----------------------------------------------


@FAST
@given(data=json_values(nulls=True))
def test_random_json_never_crashes(data: Any) -> None:
    for parser in PARSERS.values():
        _only_protocol_errors(parser, data)


@FAST
@given(data=st.data())
def test_mutated_payloads_never_crash(data: st.DataObject) -> None:
    source = data.draw(
        st.one_of(
            st.sampled_from(DOC_PAYLOADS),
            model(Interaction),
            model(CreateModelInteraction),
            model(CreateAgentInteraction),
            for_type(Event),
        )
    )
    broken = data.draw(mutate(source))
    for parser in PARSERS.values():
        _only_protocol_errors(parser, broken)


@FAST
@given(data=st.data())
def test_mutated_events_parse_or_raise_protocol_error(data: st.DataObject) -> None:
    event = data.draw(for_type(Event))
    broken = data.draw(mutate(event))
    message = ""
    try:
        parsed = parse_event(broken)
    except ProtocolError as exc:
        message = str(exc)
    else:  # what parsed must still dump to JSON without errors
        EVENT_ADAPTER.dump_json(parsed, by_alias=True, exclude_unset=True)
    assert message == "" or message.startswith("invalid event")
