"""The run tracker against a real engine behind a proxy that cuts the stream: it resumes
with last_event_id and never POSTs the create twice."""

from __future__ import annotations

from pathlib import Path

from support.cut_proxy import CutProxy
from workbench.client import Client, ResumePolicy
from workbench.core.engine_process import EngineProcess, read_engine_file
from workbench.core.history import HistoryStore
from workbench.core.runs import RunTracker


async def test_a_dropped_stream_is_resumed_not_recreated(tmp_path: Path) -> None:
    engine = EngineProcess(tmp_path / "engine", backend="scripted")
    await engine.start()
    history = HistoryStore(tmp_path / "h.sqlite3")
    try:
        info = read_engine_file(tmp_path / "engine")
        assert info is not None
        with CutProxy("127.0.0.1", info.port, record=True) as proxy:
            proxy.set_plan([1500, 900])  # the create's stream and the first reconnect die
            client = Client(
                proxy.url,
                api_key=info.token,
                resume=ResumePolicy(initial_delay=0.05, max_delay=0.1, max_attempts=5),
            )
            tracker = RunTracker(tmp_path / "runs.json", history)
            body = {"model": "scripted", "input": "[[tokens: 40, 0.01]]"}
            run = tracker.new_run(body, profile_id="local", title="cut")
            try:
                await tracker.launch(client, run, body)
            finally:
                await client.aclose()
            sent = [bytes(c.upstream) for c in proxy.stats()]
        assert run.status == "completed" and run.ended is not None
        assert run.reconnects >= 1
        assert sum(s.count(b"POST /v1/interactions ") for s in sent) == 1
        assert any(b"last_event_id=" in s for s in sent)
        assert run.steps == 1 and run.tokens >= 40
        rec = history.interaction(run.interaction_id)
        assert rec is not None and "t39" in str(rec.data)
    finally:
        history.close()
        await engine.stop()
