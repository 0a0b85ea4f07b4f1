"""Issue 7 item 1 (client side): engine streams cut at 1,000 random points resume exactly.

* ``test_1000_cuts_of_a_replayed_stream``: one finished interaction with a long scripted
  answer, replayed by the engine 1,000 times through a proxy that cuts each read at a random
  byte (mid-event and mid-character included); the client resumes with ``last_event_id``.
  Zero lost, zero duplicated events, same fold, same rendered transcript, every time.
* ``test_cuts_of_live_create_streams``: background creates cut while the engine is still
  generating: the stream resumes on the live tail and the create is POSTed exactly once.

The app's own stream path through the same proxy is in ``gui/test_rel_gui_streams.py``.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import Callable

import httpx
import pytest

from support.cut_campaign import FAST_RESUME, FAST_RETRY, fold, render, run_campaign
from support.cut_proxy import CutProxy
from support.rel_engine import Engine
from workbench.client import APIConnectionError, Client, InteractionSnapshot, StreamItem


@pytest.mark.timeout(300)
async def test_1000_cuts_of_a_replayed_stream(engines: Callable[..., Engine]) -> None:
    eng = engines()
    rec, report = await run_campaign(eng.url, eng.token, eng.port, cuts=1000, workers=6)
    summary = report.summary()
    print(json.dumps(summary, indent=1))  # shown with -s; the figures in docs/reliability.md
    assert report.failures == []
    assert report.lost == 0 and report.duplicated == 0
    assert len(report.outcomes) == 1000
    assert summary["max_resumed_gets_per_cut"] <= 1
    # The cuts really were spread over the stream: mid-event cuts dominate.
    assert summary["positions"]["mid-event"] > 800
    assert summary["paths"]["resumed with last_event_id"] > 900
    kinds = {e["event_type"] for e in rec.events}
    assert {"step.start", "step.delta", "step.stop", "interaction.completed"} <= kinds
    steps = {s["type"] for s in rec.folded["steps"]}
    assert {"thought", "model_output", "function_call"} <= steps


LIVE_PROMPT = (
    "[[thought: a short thought — ünïcödé]] [[text: live answer 日本語 🎉]] "
    '[[tokens: 40, 0.005]] [[call lookup {"q": "ä"}]]'
)
_STAMP = re.compile(r'"(created|updated)": ?"[^"]*"')
_CALL = re.compile(r"call_[A-Za-z0-9_-]+")


_CHECKPOINT = re.compile(r"ck_(\d+)_[0-9a-f]+")


def _normal(text: str, iid: str) -> str:
    """Ids, stamps, call ids and checkpoint MACs (keyed by the interaction id) made equal."""
    text = _CHECKPOINT.sub(r"ck_\1_MAC", text.replace(iid, "IID"))
    return _CALL.sub("call_X", _STAMP.sub(r'"\1": "T"', text))


def _events(items: list[StreamItem], iid: str) -> list[str]:
    return [
        _normal(json.dumps(i.to_wire(), sort_keys=True, ensure_ascii=False), iid)
        for i in items
        if not isinstance(i, InteractionSnapshot)
    ]


def _html(items: list[StreamItem], iid: str) -> str:
    data = fold(items)
    return _normal(render(data, [{"type": "user_input"}]), iid)


@pytest.mark.timeout(180)
async def test_cuts_of_live_create_streams(engines: Callable[..., Engine]) -> None:
    eng = engines("--max-background-runs", "8")
    body = {"model": "scripted", "input": LIVE_PROMPT, "background": True}
    transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))

    with CutProxy("127.0.0.1", eng.port, record=True, match=b"POST ") as proxy:
        async with Client(
            proxy.url, api_version="v1beta", api_key=eng.token, transport=transport
        ) as client:
            stream = client.interactions.create_stream(body)
            baseline = await stream.collect()
        base_id = stream.interaction_id
        assert base_id is not None
        raw = bytes(proxy.stats()[0].downstream)
    body_start = raw.index(b"\r\n\r\n") + 4
    first_event_end = raw.index(b"\n\n", body_start) + 2
    expected_events = _events(baseline, base_id)
    expected_html = _html(baseline, base_id)
    assert len(expected_events) > 60

    rng = random.Random(7)
    offsets = [rng.randrange(first_event_end, len(raw)) for _ in range(36)]
    offsets += [rng.randrange(0, first_event_end) for _ in range(4)]
    results: list[tuple[int, str]] = []

    async def worker(share: list[int]) -> None:
        with CutProxy("127.0.0.1", eng.port, record=True, match=b"POST ") as prx:
            async with Client(
                prx.url,
                api_version="v1beta",
                api_key=eng.token,
                resume=FAST_RESUME,
                retry=FAST_RETRY,
                transport=httpx.AsyncHTTPTransport(
                    limits=httpx.Limits(max_keepalive_connections=0)
                ),
            ) as cli:
                for offset in share:
                    prx.set_plan([offset])
                    before = len(prx.stats())
                    live = cli.interactions.create_stream(body)
                    failure: APIConnectionError | None = None
                    try:
                        items = await live.collect()
                    except APIConnectionError as exc:
                        failure = exc
                    if failure is not None:
                        assert offset < first_event_end + 16, (offset, failure)  # chunking varies
                        # Cut in the headers (the read failed) or before the first event (the
                        # id was unknown): either way the create is not sent again.
                        message = str(failure)
                        assert "not re-sent" in message or "connection failed" in message
                        assert failure.resend_refused
                        outcome = "refused to re-send"
                    else:
                        iid = live.interaction_id
                        assert iid is not None
                        assert _events(items, iid) == expected_events, offset
                        assert _html(items, iid) == expected_html, offset
                        ids = [getattr(i, "event_id", None) for i in items]
                        assert len(ids) == len(set(ids))
                        outcome = "resumed" if live.state.reconnects else "not cut"
                    sent = [bytes(c.upstream) for c in prx.stats()[before:]]
                    # The create reached the engine exactly once, whatever the cut.
                    assert sum(s.count(b"POST /v1beta/interactions ") for s in sent) == 1
                    results.append((offset, outcome))

    await asyncio.gather(*(worker(offsets[n::4]) for n in range(4)))
    outcomes = [o for _, o in results]
    print({o: outcomes.count(o) for o in set(outcomes)})
    assert len(outcomes) == 40
    assert outcomes.count("resumed") >= 34
    assert outcomes.count("refused to re-send") == 4
