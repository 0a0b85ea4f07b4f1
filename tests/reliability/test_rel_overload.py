"""Issue 7 item 2: the engine answers bursts of 429/503 with Retry-After; clients ride them out.

The engine runs with ``--inject-overload`` (``engine/faults.py``): every distinct request is
first answered with the burst, before any work starts, then goes through. Its ``/_faults``
counters say how many answers were injected, whether any request was abandoned, and how
many times each create reached the routes (must be exactly once).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from google import genai
from google.genai._gaos.lib.compat_errors import RateLimitError as SdkRateLimitError

from support.cut_proxy import CutProxy
from support.rel_engine import ENGINE_BIN, Engine
from workbench.client import Client, InteractionSnapshot, RateLimitError, ResumePolicy
from workbench.core.errors import explain
from workbench.engine.faults import FaultSpecError, parse_overload

BURST = "429:3,503:1@0.1"  # four refusals: exactly the default budget of 4 retries


def _counters(eng: Engine) -> dict[str, Any]:
    reply = httpx.get(eng.url + "/_faults", headers={"x-goog-api-key": eng.token})
    reply.raise_for_status()
    data: dict[str, Any] = reply.json()
    return data


def test_spec_parsing() -> None:
    plan = parse_overload("429:3,503:2@0.25")
    assert plan.burst == (429, 429, 429, 503, 503)
    assert dict(plan.headers()) == {b"retry-after": b"1", b"retry-after-ms": b"250"}
    assert parse_overload("503:1").retry_after == 0.2
    for bad in ("", "429", "500:1", "429:x", "429:1@soon", "429:0", "429:1@99"):
        with pytest.raises(FaultSpecError):
            parse_overload(bad)


def test_bad_spec_stops_the_engine_with_a_message(tmp_path: Any) -> None:
    done = subprocess.run(
        [
            str(ENGINE_BIN),
            "--backend",
            "scripted",
            "--data-dir",
            str(tmp_path),
            "--inject-overload",
            "500:2",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--inject-overload: only 429 and 503 can be injected" in done.stderr


@pytest.mark.timeout(120)
async def test_every_request_succeeds_within_the_retry_budget(
    engines: Callable[..., Engine],
) -> None:
    eng = engines("--inject-overload", BURST, "--max-background-runs", "8")
    assert "fault injection is on" in eng.stderr()
    async with httpx.AsyncClient() as anonymous:
        assert (await anonymous.get(eng.url + "/_faults")).status_code == 401  # needs the token
    async with Client(eng.url, api_version="v1beta", api_key=eng.token) as client:

        async def unary(n: int) -> str:
            got = await client.interactions.create(
                {"model": "scripted", "input": f"[[text: unary {n}]]"}
            )
            assert got.status == "completed"
            again = await client.interactions.get(got.id)
            assert again.status == "completed"
            return got.id

        async def streamed(n: int) -> str:
            stream = client.interactions.create_stream(
                {"model": "scripted", "input": f"[[tokens: 20]] stream {n}"}
            )
            items = await stream.collect()
            assert items[-1].to_wire()["interaction"]["status"] == "completed"  # type: ignore[union-attr]
            assert stream.interaction_id
            return stream.interaction_id

        async def background(n: int) -> str:
            created = await client.interactions.create(
                {"model": "scripted", "input": f"[[tokens: 10, 0.01]] bg {n}", "background": True}
            )
            items = await client.interactions.get_stream(created.id).collect()
            last = items[-1]
            assert not isinstance(last, InteractionSnapshot)
            assert last.to_wire()["interaction"]["status"] == "completed"
            return created.id

        async def cancelled() -> str:
            created = await client.interactions.create(
                {"model": "scripted", "input": "[[delay: 30]] cancel me", "background": True}
            )
            done = await client.interactions.cancel(created.id)
            assert done.status == "cancelled"
            return created.id

        models = await client.models.list()
        assert [m.model_id for m in models][:1] == ["scripted"]
        ids = await asyncio.gather(
            *(unary(n) for n in range(10)),
            *(streamed(n) for n in range(8)),
            *(background(n) for n in range(6)),
            cancelled(),
        )
    assert len(set(ids)) == 25
    counters = _counters(eng)
    print(json.dumps(counters))  # shown with -s; quoted in docs/reliability.md
    assert counters["abandoned"] == 0  # nothing was given up on
    assert counters["creates"] == 25 and counters["max_create_count"] == 1  # never twice
    assert counters["injected"]["429"] == 3 * counters["requests"]
    assert counters["injected"]["503"] == counters["requests"]


@pytest.mark.timeout(120)
async def test_a_cut_stream_resumes_through_the_bursts(engines: Callable[..., Engine]) -> None:
    eng = engines("--inject-overload", BURST)
    with CutProxy("127.0.0.1", eng.port, match=b"POST ") as proxy:
        proxy.set_plan([2500, 4000, 6000])
        async with Client(
            proxy.url,
            api_version="v1beta",
            api_key=eng.token,
            resume=ResumePolicy(initial_delay=0.05, max_delay=0.1),
        ) as client:
            results = []
            for n in range(3):
                stream = client.interactions.create_stream(
                    {
                        "model": "scripted",
                        "input": f"[[tokens: 80, 0.005]] cut {n}",
                        "background": True,
                    }
                )
                items = await stream.collect()
                results.append((stream.state.reconnects, items))
    for reconnects, items in results:
        assert reconnects >= 1  # the stream was cut after it started …
        ids = [getattr(i, "event_id", None) for i in items]
        assert ids == [str(k) for k in range(1, len(ids) + 1)]  # … and resumed exactly
        text = "".join(
            i.to_wire()["delta"].get("text", "")  # type: ignore[union-attr]
            for i in items
            if getattr(i, "event_type", "") == "step.delta"
        )
        assert text.split() == [f"t{k}" for k in range(80)]
    counters = _counters(eng)
    assert counters["abandoned"] == 0
    assert counters["creates"] == 3 and counters["max_create_count"] == 1


@pytest.mark.timeout(60)
async def test_a_burst_longer_than_the_budget_is_reported_not_hidden(
    engines: Callable[..., Engine],
) -> None:
    eng = engines("--inject-overload", "429:5@0.05")
    async with Client(eng.url, api_version="v1beta", api_key=eng.token) as client:
        with pytest.raises(RateLimitError) as info:
            await client.interactions.create({"model": "scripted", "input": "too busy"})
    assert info.value.retry_after == pytest.approx(0.05)
    assert "Too many requests" in explain(info.value)
    counters = _counters(eng)
    assert counters["injected"] == {"429": 5}  # one try and four retries, then it said so
    assert counters["creates"] == 0  # nothing started on the server


@pytest.mark.timeout(120)
def test_official_sdk_against_the_same_bursts(engines: Callable[..., Engine]) -> None:
    eng = engines("--inject-overload", BURST)
    sdk = genai.Client(
        api_key=eng.token, http_options={"base_url": eng.url, "api_version": "v1beta"}
    )
    unary = sdk.interactions.create(model="scripted", input="[[text: sdk unary]]")
    assert unary.status == "completed"
    events = list(sdk.interactions.create(model="scripted", input="[[tokens: 5]] sdk", stream=True))
    assert events[-1].event_type == "interaction.completed"
    bg = sdk.interactions.create(model="scripted", input="[[text: sdk bg]]", background=True)
    assert sdk.interactions.get(bg.id).id == bg.id
    counters = _counters(eng)
    assert counters["abandoned"] == 0
    assert counters["creates"] == 3 and counters["max_create_count"] == 1
    # Beyond its budget (also 4 retries) the SDK raises, like ours.
    over = engines("--inject-overload", "429:5@0.05")
    sdk_over = genai.Client(
        api_key=over.token, http_options={"base_url": over.url, "api_version": "v1beta"}
    )
    with pytest.raises(SdkRateLimitError):
        sdk_over.interactions.create(model="scripted", input="too busy")
    assert _counters(over)["injected"] == {"429": 5}
