"""Continuation hops (protocol.md §6.7) with the engine's per-request decode cap."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from engine_helpers import EngineProcess, create, sse_events

EXPECTED = "".join(f"t{i} " for i in range(10))


@pytest.fixture
def capped(engine_factory: Any) -> EngineProcess:
    engine: EngineProcess = engine_factory("--continuation-cap", "4")
    return engine


def _texts(steps: list[Any]) -> str:
    return "".join(
        c.text for s in steps if s.type == "model_output" for c in s.content if c.type == "text"
    )


def test_sdk_unary_merges_hops(capped: EngineProcess) -> None:
    client = capped.client()
    result = client.interactions.create(model="scripted", input="[[tokens: 10]]")
    assert result.status == "completed"
    assert _texts(result.steps) == EXPECTED
    assert len(result.continuation_ids) == 3


def test_sdk_stream_follows_hops(capped: EngineProcess) -> None:
    client = capped.client()
    events = list(client.interactions.create(model="scripted", input="[[tokens: 10]]", stream=True))
    created = [e for e in events if e.event_type == "interaction.created"]
    completed = [e for e in events if e.event_type == "interaction.completed"]
    assert len(created) == len(completed) == 3
    assert [c.interaction.status for c in completed] == [
        "requires_continuation",
        "requires_continuation",
        "completed",
    ]
    text = "".join(e.delta.text for e in events if e.event_type == "step.delta")
    assert text == EXPECTED


def test_raw_hops_and_token_checks(capped: EngineProcess) -> None:
    with capped.http() as http:
        first = create(http, {"model": "scripted", "input": "[[tokens: 10]]"}).json()
        assert first["status"] == "requires_continuation"
        token = first["continuation_token"]
        assert token
        wrong = create(
            http,
            {
                "model": "scripted",
                "continuation_token": "ct_wrong",
                "previous_interaction_id": first["id"],
            },
        )
        assert wrong.status_code == 400
        no_prev = create(http, {"model": "scripted", "continuation_token": token})
        assert no_prev.status_code == 400
        hop = create(
            http,
            {
                "model": "scripted",
                "continuation_token": token,
                "previous_interaction_id": first["id"],
            },
        ).json()
        assert hop["status"] == "requires_continuation"
        assert hop["continuation_token"] != token
        assert hop["previous_interaction_id"] == first["id"]
        assert hop["steps"][0]["type"] == "model_output"  # no echoed input on a hop
        # the old token is spent: it belongs to an interaction that was continued already,
        # but the engine still only accepts the token of the named interaction
        again = create(
            http,
            {
                "model": "scripted",
                "continuation_token": token,
                "previous_interaction_id": hop["id"],
            },
        )
        assert again.status_code == 400


def test_cap_not_applied_to_background_or_unstored(capped: EngineProcess) -> None:
    with capped.http() as http:
        bg = create(
            http, {"model": "scripted", "input": "[[tokens: 10]]", "background": True}
        ).json()
        events = sse_events(
            http.get(f"/v1beta/interactions/{bg['id']}", params={"stream": "true"}).text
        )
        assert events[-1]["interaction"]["status"] == "completed"
        unstored = create(
            http, {"model": "scripted", "input": "[[tokens: 10]]", "store": False}
        ).json()
        assert unstored["status"] == "completed"


def test_status_update_carries_token(capped: EngineProcess) -> None:
    with capped.http() as http:
        r = create(http, {"model": "scripted", "input": "[[tokens: 10]]", "stream": True})
        events = sse_events(r.text)
        update = [e for e in events if e["event_type"] == "interaction.status_update"][-1]
        done = events[-1]["interaction"]
        assert update["status"] == "requires_continuation"
        assert update["continuation_token"] == done["continuation_token"]


def test_no_cap_by_default(http: httpx.Client) -> None:
    r = create(http, {"model": "scripted", "input": "[[tokens: 10]]"}).json()
    assert r["status"] == "completed" and "continuation_token" not in r
