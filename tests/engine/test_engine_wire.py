"""Code written for Gemini runs unchanged on the engine (issue 13, part 3 and 4).

Model-name aliases, honest ``/models``, clear errors for fields and methods the engine does
not serve, ``thinking_level``, and streams that outlive their connection (detached runs,
``continuation_token`` checkpoints, the SDK's drop recovery). All against a real engine
process on loopback, driven by the official SDK where it has the call and raw httpx otherwise.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from engine_helpers import create, sse_events
from google import genai
from google.genai import errors as genai_errors


def _text(events: list[Any]) -> str:
    return "".join(
        e.delta.text for e in events if e.event_type == "step.delta" and e.delta.type == "text"
    )


# --- model names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["gemini-2.5-flash", "models/gemini-3-flash-preview", "gemini-99-ultra-preview"]
)
def test_gemini_names_are_served_by_the_local_model(client: genai.Client, name: str) -> None:
    done = client.interactions.create(model=name, input="[[text: local answer]]")
    assert done.status == "completed"
    assert done.output_text == "local answer"
    assert done.model == name.removeprefix("models/")


def test_unknown_model_is_404_naming_what_is_served(http: httpx.Client) -> None:
    resp = create(http, {"model": "claude-9", "input": "hi"})
    assert resp.status_code == 404
    message = resp.json()["error"]["message"]
    assert "scripted" in message and "aliases" in message


def test_models_lists_aliases_honestly(http: httpx.Client, client: genai.Client) -> None:
    models = http.get("/v1beta/models").json()["models"]
    by_name = {m["name"]: m for m in models}
    assert "models/scripted" in by_name
    assert "gemini-*" in by_name["models/scripted"]["description"]
    alias = by_name["models/gemini-2.5-flash"]
    assert alias["baseModelId"] == "scripted"
    assert "served locally by" in alias["displayName"]
    assert "not Google's model" in alias["description"]
    one = http.get("/v1beta/models/gemini-3-flash-preview").json()
    assert one["baseModelId"] == "scripted"
    listed = {m.name for m in client.models.list()}
    assert {"models/scripted", "models/gemini-2.5-flash"} <= listed


def test_alias_table_is_configurable(engine_factory: Any) -> None:
    eng = engine_factory("--no-model-aliases", "--model-alias", "house-*=scripted-text")
    with eng.http() as http:
        assert create(http, {"model": "gemini-2.5-flash", "input": "x"}).status_code == 404
        done = create(http, {"model": "house-small", "input": "[[text: ok]]"}).json()
        assert done["status"] == "completed"
        names = [m["name"] for m in http.get("/v1beta/models").json()["models"]]
        assert "models/gemini-2.5-flash" not in names


def test_classic_methods_answer_a_clear_error_not_405(
    client: genai.Client, http: httpx.Client
) -> None:
    with pytest.raises(genai_errors.ClientError) as caught:
        client.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert caught.value.code == 404
    assert "Interactions API" in str(caught.value)
    with pytest.raises(genai_errors.ClientError) as counted:
        client.models.count_tokens(model="gemini-2.5-flash", contents="hi")
    assert counted.value.code == 404
    for method in ("countTokens", "streamGenerateContent", "embedContent"):
        resp = http.post(f"/v1beta/models/gemini-2.5-flash:{method}", json={})
        assert resp.status_code == 404, method
        assert "interactions" in resp.json()["error"]["message"]


# --- nothing accepted is silently ignored ---------------------------------------------


@pytest.mark.parametrize(
    ("extra", "status", "words"),
    [
        ({"cached_content": "cachedContents/abc"}, 404, "no context caches"),
        ({"webhook_config": {"uris": ["https://example.com/h"]}}, 400, "webhook_config"),
        ({"generation_config": {"speech_config": {"voice": "x"}}}, 400, "speech_config"),
        ({"generation_config": {"image_config": {"aspect_ratio": "1:1"}}}, 400, "image_config"),
        ({"generation_config": {"thinking_level": "ultra"}}, 400, "thinking_level"),
        ({"generation_config": {"thinking_summaries": "some"}}, 400, "thinking_summaries"),
        ({"environment": "remote"}, 400, "environment"),
    ],
)
def test_unserved_fields_get_a_clear_error(
    http: httpx.Client, extra: dict[str, Any], status: int, words: str
) -> None:
    resp = create(http, {"model": "gemini-2.5-flash", "input": "hi", **extra})
    assert resp.status_code == status, resp.text
    assert words in resp.json()["error"]["message"]


def test_hints_are_accepted_and_echoed(http: httpx.Client) -> None:
    body = {
        "model": "scripted",
        "input": "[[text: fine]]",
        "service_tier": "flex",
        "safety_settings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}],
        "labels": {"team": "a"},
    }
    done = create(http, body).json()
    assert done["status"] == "completed"
    assert done["service_tier"] == "flex" and done["labels"] == {"team": "a"}


def test_thinking_level_sets_the_thinking_budget(client: genai.Client) -> None:
    text = "[[thought: one two three four]] [[text: answer]]"
    full = client.interactions.create(
        model="scripted", input=text, generation_config={"thinking_level": "high"}
    )
    assert [s.type for s in full.steps[1:]] == ["thought", "model_output"]
    minimal = client.interactions.create(
        model="scripted", input=text, generation_config={"thinking_level": "minimal"}
    )
    assert [s.type for s in minimal.steps[1:]] == ["model_output"]
    assert minimal.output_text == "answer"


# --- streams that outlive their connection ------------------------------------------------


def _read_some(http: httpx.Client, body: dict[str, Any], n: int) -> tuple[str, int]:
    """Open a stream, read ``n`` events, drop the connection; (interaction id, last event id)."""
    seen: list[dict[str, Any]] = []
    with http.stream("POST", "/v1beta/interactions", json=body) as resp:
        for line in resp.iter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
                if len(seen) == n:
                    break
    return seen[0]["interaction"]["id"], int(seen[-1]["event_id"])


def test_foreground_stream_survives_disconnect_and_resumes(http: httpx.Client) -> None:
    body = {"model": "scripted", "input": "[[tokens: 30, 0.02]]", "stream": True}
    iid, last = _read_some(http, body, 5)
    time.sleep(0.2)
    assert http.get(f"/v1beta/interactions/{iid}").json()["status"] == "in_progress"
    rest = sse_events(
        http.get(
            f"/v1beta/interactions/{iid}", params={"stream": "true", "last_event_id": str(last)}
        ).text
    )
    assert int(rest[0]["event_id"]) == last + 1
    assert rest[-1]["event_type"] == "interaction.completed"
    assert rest[-1]["interaction"]["status"] == "completed"
    got = http.get(f"/v1beta/interactions/{iid}").json()
    assert got["steps"][-1]["content"][0]["text"].split() == [f"t{i}" for i in range(30)]


def test_detached_run_is_cancelled_after_the_grace_period(engine_factory: Any) -> None:
    with engine_factory("--detach-seconds", "0.3").http() as http:
        body = {"model": "scripted", "input": "[[tokens: 400, 0.02]]", "stream": True}
        iid, _ = _read_some(http, body, 4)
        deadline = time.monotonic() + 5
        got: dict[str, Any] = {}
        while time.monotonic() < deadline:
            got = http.get(f"/v1beta/interactions/{iid}").json()
            if got["status"] != "in_progress":
                break
            time.sleep(0.05)
        assert got["status"] == "cancelled"
        assert got["errors"] == [{"code": "cancelled", "message": "client disconnected"}]


def test_long_streams_carry_checkpoints(engine_factory: Any) -> None:
    with engine_factory("--checkpoint-events", "4").http() as http:
        body = {"model": "scripted", "input": "[[tokens: 12]]", "stream": True}
        events = sse_events(create(http, body).text)
    checkpoints = [
        e
        for e in events
        if e["event_type"] == "interaction.status_update" and e.get("continuation_token")
    ]
    assert len(checkpoints) >= 2
    assert all(c["status"] == "in_progress" for c in checkpoints)
    assert all(c["continuation_token"].startswith("ck_") for c in checkpoints)
    assert [e["event_id"] for e in events] == [str(i) for i in range(1, len(events) + 1)]


def test_checkpoint_create_resumes_the_same_interaction(engine_factory: Any) -> None:
    with engine_factory("--checkpoint-events", "3").http() as http:
        body = {"model": "scripted", "input": "[[tokens: 9]]", "stream": True}
        events = sse_events(create(http, body).text)
        iid = events[0]["interaction"]["id"]
        cp = next(e for e in events if e.get("continuation_token"))
        hop = {
            "model": "scripted",
            "stream": True,
            "continuation_token": cp["continuation_token"],
            "previous_interaction_id": iid,
        }
        again = sse_events(create(http, hop).text)
        assert again == [e for e in events if int(e["event_id"]) > int(cp["event_id"])]
        forged = create(http, {**hop, "continuation_token": "ck_3_00"})
        assert forged.status_code == 400
        other = create(http, {"model": "scripted", "input": "x"}).json()
        moved = create(http, {**hop, "previous_interaction_id": other["id"]})
        assert moved.status_code == 400


def test_sdk_drop_recovery_after_a_time_limit_cut(engine_factory: Any) -> None:
    """The real front end cuts long streams (plain-text 503 tail); the SDK reconnects."""
    eng = engine_factory("--stream-time-limit", "0.25")
    with (
        eng.http() as http,
        http.stream(
            "POST",
            "/v1beta/interactions",
            json={"model": "scripted", "input": "[[tokens: 30, 0.02]]", "stream": True},
        ) as resp,
    ):
        raw = "".join(resp.iter_text())
    assert raw.rstrip().endswith("reconnect to go on.")
    assert "[DONE]" not in raw
    client = eng.client()
    events = list(
        client.interactions.create(model="scripted", input="[[tokens: 30, 0.02]]", stream=True)
    )
    assert events[-1].event_type == "interaction.completed"
    assert events[-1].interaction.status == "completed"
    assert _text(events).split() == [f"t{i}" for i in range(30)]
    ids = {e.interaction.id for e in events if e.event_type == "interaction.created"}
    assert len(ids) == 1  # reconnecting never started a second generation
    with eng.http() as http:
        listed = http.get(f"/v1beta/interactions/{ids.pop()}").json()
        assert listed["status"] == "completed"


async def test_app_client_survives_cut_and_recut_streams(engine_factory: Any) -> None:
    """Our own client against the cut fault: each resume is cut again, and still it finishes."""
    from workbench.client import Client, ResumePolicy
    from workbench.core.stream import StreamAccumulator

    eng = engine_factory("--stream-time-limit", "0.2")
    policy = ResumePolicy(initial_delay=0.0, max_delay=0.0, poll_interval=0.05, max_attempts=4)
    client = Client(eng.url, api_key=eng.token, resume=policy)
    acc = StreamAccumulator()
    try:
        async with client.interactions.create_stream(
            {"model": "scripted", "input": "[[tokens: 40, 0.02]]"}
        ) as stream:
            async for event in stream:
                acc.feed(event)
            reconnects = stream.reconnects + stream.state.reconnects
    finally:
        await client.aclose()
    snap = acc.snapshot()
    assert snap.status == "completed"
    assert (snap.steps or [])[-1].content[0].text.split() == [f"t{i}" for i in range(40)]
    assert reconnects >= 2  # cut at least twice: the resume itself was cut again


# --- environments and saved agents -----------------------------------------------------


def test_env_var_object_form_runs(client: genai.Client) -> None:
    """The SDK's ``{"value": …}`` form of an environment variable reaches the sandbox."""
    done = client.interactions.create(
        agent="antigravity-preview-05-2026",
        input="[[text: done]]",
        environment={"type": "remote", "env": {"PLAIN": "1", "BOXED": {"value": "2"}}},
    )
    assert done.status == "completed"


def test_saved_agent_is_validated_when_saved(http: httpx.Client) -> None:
    base = {"base_agent": "antigravity-preview-05-2026"}
    good = {"type": "remote", "env": {"X": {"value": "1"}}}
    saved = http.post("/v1beta/agents", json={"id": "env-ok", **base, "base_environment": good})
    assert saved.status_code == 200, saved.text
    run = create(http, {"agent": "env-ok", "input": "[[text: ran]]"}).json()
    assert run["status"] == "completed"
    bad = {"type": "remote", "env": {"X": {"credential": "cred-1", "value": "and a value"}}}
    refused = http.post("/v1beta/agents", json={"id": "env-bad", **base, "base_environment": bad})
    assert refused.status_code == 400
    assert "credential" in refused.json()["error"]["message"]
    assert http.get("/v1beta/agents/env-bad").status_code == 404


def test_unknown_agent_404_names_the_agents_that_exist(http: httpx.Client) -> None:
    http.post(
        "/v1beta/agents", json={"id": "listed-one", "base_agent": "antigravity-preview-05-2026"}
    )
    resp = create(http, {"agent": "no-such-agent", "input": "hi"})
    assert resp.status_code == 404
    message = resp.json()["error"]["message"]
    assert "antigravity-preview-05-2026" in message and "listed-one" in message


def test_environment_network_is_always_its_effective_value(http: httpx.Client) -> None:
    env = http.post("/v1beta/environments", json={}).json()
    assert env["network"] == "disabled"
    assert http.get(f"/v1beta/environments/{env['id']}").json()["network"] == "disabled"
    opened = http.post(
        "/v1beta/environments", json={"network": {"allowlist": [{"domain": "*"}]}}
    ).json()
    assert opened["network"] == {"allowlist": [{"domain": "*"}]}


def test_an_expired_environment_reports_expired(engine_factory: Any) -> None:
    eng = engine_factory()
    with eng.http() as http:
        env = http.post("/v1beta/environments", json={}).json()
        meta = eng.data_dir / "environments" / env["id"] / "environment.json"
        data = json.loads(meta.read_text())
        data["status"] = "expired"
        meta.write_text(json.dumps(data))
        got = http.get(f"/v1beta/environments/{env['id']}")
        assert got.status_code == 200
        assert got.json()["status"] == "expired"
        used = create(
            http, {"agent": "antigravity-preview-05-2026", "input": "x", "environment": env["id"]}
        )
        assert used.status_code == 404


async def test_app_client_reads_a_completed_interaction_without_usage(
    engine_factory: Any,
) -> None:
    """The real service sometimes leaves ``usage`` off; nothing in the app depends on it."""
    from workbench.client import Client
    from workbench.core.stream import StreamAccumulator
    from workbench.core.transcript import read_turn, usage_line

    eng = engine_factory("--inject-fault", "omit-usage")
    client = Client(eng.url, api_key=eng.token)
    acc = StreamAccumulator()
    try:
        async with client.interactions.create_stream(
            {"model": "scripted", "input": "[[text: no usage here]]"}
        ) as stream:
            async for event in stream:
                acc.feed(event)
        unary = await client.interactions.create({"model": "scripted", "input": "x"})
    finally:
        await client.aclose()
    snap = acc.snapshot()
    assert snap.status == "completed" and snap.usage is None
    assert unary.status == "completed" and unary.usage is None
    view = read_turn(snap.to_wire())
    assert view.answer_text == "no usage here"
    assert usage_line(view.usage) == ""
