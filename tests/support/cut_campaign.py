"""Cut one engine event stream at many points and check that every resumed read is exact.

Used by ``tests/reliability/test_rel_streams.py`` (a CI-sized run) and by
``benchmarks/stream_cuts.py`` (the full 1,000 cuts, with figures for docs/reliability.md).

The stream is recorded once: a background interaction with a long scripted answer (a thought,
multi-byte UTF-8 text, counted tokens and a function call whose JSON arguments stream in
fragments) is run to its end on the real engine. Every cut then replays it with
``GET …/interactions/{id}?stream=true`` through a :class:`CutProxy` that kills the TCP
connection after ``offset`` bytes (``offset`` is uniform over the whole reply: status line,
headers, any byte of any event — mid-line and mid-character included). The client resumes
with ``last_event_id`` (or, when the cut came before the first complete event, falls back to
polling, §6.6). Each read must give:

* exactly the uncut events, in order, each once (compared as wire JSON);
* the same :class:`~workbench.core.stream.StreamAccumulator` snapshot as the uncut stream;
* the same rendered transcript HTML (``core.transcript.read_turn`` + ``ui.transcript.render``);
* at most one resumed ``GET`` per cut, carrying a ``last_event_id`` it had really seen.

Several workers run in parallel on one asyncio loop, each with its own proxy and a client that
opens a fresh connection per request (so every read meets its own cut).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from support.cut_proxy import CutProxy
from workbench.client import Client, InteractionSnapshot, ResumePolicy, RetryPolicy, StreamItem
from workbench.core.stream import StreamAccumulator
from workbench.core.transcript import read_turn
from workbench.ui.transcript.render import RenderState, Theme, TurnHtmlInput, turn_html

PROMPT = (
    "[[thought: weighing the naïve answer against the careful one — 考えています]] "
    "[[text: Here is the answer: café, crème brûlée, 日本語のテキスト, emoji 🎉🚀 and "
    "**markdown** with `code`.]] "
    "[[tokens: 120]] "
    '[[call lookup {"query": "naïve ☃ résumé", "limit": 3, "tags": ["a", "b", "ü"]}]]'
)
"""A long scripted answer: ~200 events of several step types, multi-byte text included."""

FAST_RESUME = ResumePolicy(initial_delay=0.0, max_delay=0.0, max_attempts=4, poll_interval=0.02)
FAST_RETRY = RetryPolicy(max_retries=4, initial_delay=0.0, max_delay=0.0)


def wire_of(item: StreamItem) -> dict[str, Any]:
    return item.to_wire() if not isinstance(item, InteractionSnapshot) else {}


def render(data: dict[str, Any], input_steps: list[Any]) -> str:
    """The transcript HTML of one turn (no metrics: they hold wall-clock timings).

    Input steps are passed apart, as the app does: a replayed stream carries output steps
    only, a polled interaction carries both.
    """
    outputs = [s for s in data.get("steps") or [] if s.get("type") != "user_input"]
    view = read_turn({**data, "steps": outputs}, input_steps, {})
    return turn_html(
        TurnHtmlInput(view=view, target="scripted", metrics={}), RenderState(), Theme()
    )


def fold(items: list[StreamItem]) -> dict[str, Any]:
    acc = StreamAccumulator()
    for item in items:
        if isinstance(item, InteractionSnapshot):
            return item.interaction.to_wire()
        acc.feed(item)
    return acc.snapshot_wire()


@dataclass
class Recording:
    interaction_id: str
    raw: bytes  # the uncut HTTP response, status line to last byte
    events: list[dict[str, Any]]
    folded: dict[str, Any]
    html: str
    final: dict[str, Any]  # GET of the finished interaction

    @property
    def input_steps(self) -> list[Any]:
        return [s for s in self.final.get("steps") or [] if s.get("type") == "user_input"]

    @property
    def body_start(self) -> int:
        return self.raw.index(b"\r\n\r\n") + 4

    def position(self, offset: int) -> str:
        """Where a cut at ``offset`` falls: headers / boundary / mid-event (/ mid-char)."""
        if offset < self.body_start:
            return "status line or headers"
        before = self.raw[:offset]
        if before.endswith(b"\n\n") or before.endswith(b"\r\n"):
            return "between events"
        byte = self.raw[offset] if offset < len(self.raw) else 0
        if 0x80 <= byte < 0xC0:
            return "mid-event, inside a multi-byte character"
        return "mid-event"


@dataclass
class Outcome:
    offset: int
    position: str
    path: str  # how the read finished
    resumed_gets: int
    seconds: float


@dataclass
class Report:
    cuts: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0
    seconds: float = 0.0
    events: int = 0
    stream_bytes: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "cuts": self.cuts,
            "events_per_stream": self.events,
            "bytes_per_stream": self.stream_bytes,
            "failures": len(self.failures),
            "lost_events": self.lost,
            "duplicated_events": self.duplicated,
            "positions": dict(Counter(o.position for o in self.outcomes)),
            "paths": dict(Counter(o.path for o in self.outcomes)),
            "max_resumed_gets_per_cut": max((o.resumed_gets for o in self.outcomes), default=0),
            "seconds": round(self.seconds, 1),
        }


def _fresh_connections() -> httpx.AsyncHTTPTransport:
    return httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))


async def record(url: str, token: str, port: int, prompt: str = PROMPT) -> Recording:
    """Run the scripted answer to its end, then record one uncut replay byte for byte."""
    async with Client(url, api_version="v1beta", api_key=token) as client:
        created = await client.interactions.create(
            {"model": "scripted", "input": prompt, "background": True}
        )
        iid = created.id
        assert iid
        final = created.to_wire()
        deadline = time.monotonic() + 30
        while final.get("status") in ("queued", "in_progress"):
            if time.monotonic() > deadline:
                raise AssertionError("the recorded interaction did not finish")
            await asyncio.sleep(0.05)
            final = (await client.interactions.get(iid)).to_wire()
    with CutProxy("127.0.0.1", port, record=True) as proxy:
        async with Client(
            proxy.url, api_version="v1beta", api_key=token, transport=_fresh_connections()
        ) as client:
            items = await client.interactions.get_stream(iid).collect()
        raw = bytes(proxy.stats()[-1].downstream)
    assert not any(isinstance(i, InteractionSnapshot) for i in items)
    folded = fold(items)
    rec = Recording(iid, raw, [wire_of(i) for i in items], folded, "", final)
    rec.html = render(folded, rec.input_steps)
    assert rec.html == render(final, rec.input_steps), "fold and GET render differently"
    return rec


async def _one_cut(
    client: Client, proxy: CutProxy, rec: Recording, offset: int, report: Report
) -> None:
    proxy.set_plan([offset])
    before = len(proxy.stats())
    started = time.monotonic()
    stream = client.interactions.get_stream(rec.interaction_id)
    problem = ""
    try:
        items = await stream.collect()
    except Exception as exc:  # any failure to finish is a failed cut
        items = []
        problem = f"raised {type(exc).__name__}: {exc}"
    conns = proxy.stats()[before:]
    resumed = sum(1 for c in conns[1:] if b"last_event_id=" in c.upstream)
    if stream.state.polled:
        path = "cut before the first event: finished by polling"
    elif stream.state.reconnects:
        path = "resumed with last_event_id"
    elif conns and conns[0].cut and len(conns) > 1:
        path = "cut before the reply: the GET was retried"
    else:
        path = "cut after the terminal event: nothing to resume"
    if not problem:
        events = [wire_of(i) for i in items if not isinstance(i, InteractionSnapshot)]
        snapshot = next((i for i in items if isinstance(i, InteractionSnapshot)), None)
        ids = [e.get("event_id") for e in events]
        expected_prefix = rec.events[: len(events)]
        dup = len(ids) - len(set(ids))
        report.duplicated += dup
        if snapshot is None:
            report.lost += len(rec.events) - len(set(ids) & {e["event_id"] for e in rec.events})
            if events != rec.events:
                problem = "events differ from the uncut stream"
        elif events != expected_prefix:
            problem = "events before the polling fallback differ"
        elif snapshot.interaction.to_wire() != rec.final:
            problem = "the polled interaction differs from the finished one"
        data = fold(items)
        if not problem and snapshot is None and data != rec.folded:
            problem = "the folded snapshot differs"
        if not problem and render(data, rec.input_steps) != rec.html:
            problem = "the rendered transcript differs"
        if not problem and resumed > 1:
            problem = f"{resumed} resumed GETs for one cut"
    if problem:
        report.failures.append(f"offset {offset} ({rec.position(offset)}): {problem}")
    report.outcomes.append(
        Outcome(offset, rec.position(offset), path, resumed, time.monotonic() - started)
    )


async def run_campaign(
    url: str, token: str, port: int, *, cuts: int, workers: int = 6, seed: int = 20261107
) -> tuple[Recording, Report]:
    """Record the stream, then cut it at ``cuts`` random offsets, ``workers`` at a time."""
    rec = await record(url, token, port)
    rng = random.Random(seed)
    offsets = [rng.randrange(0, len(rec.raw)) for _ in range(cuts)]
    report = Report(cuts=cuts, events=len(rec.events), stream_bytes=len(rec.raw))
    queue: asyncio.Queue[int] = asyncio.Queue()
    for offset in offsets:
        queue.put_nowait(offset)

    async def worker() -> None:
        with CutProxy("127.0.0.1", port, record=True) as proxy:
            async with Client(
                proxy.url,
                api_version="v1beta",
                api_key=token,
                resume=FAST_RESUME,
                retry=FAST_RETRY,
                transport=_fresh_connections(),
            ) as client:
                while not queue.empty():
                    offset = queue.get_nowait()
                    await _one_cut(client, proxy, rec, offset, report)
                    with proxy._lock:  # keep memory flat: each cut starts a fresh record
                        proxy.connections.clear()

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(workers)))
    report.seconds = time.monotonic() - started
    return rec, report
