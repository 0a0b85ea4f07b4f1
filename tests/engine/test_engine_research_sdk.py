"""Deep Research on the local engine, end to end with the official SDK (scripted backend).

The scripted model answers each research stage from ``[[reply KEY => words]]`` directives in
the question (KEY is matched against the stage prompt), so the plan, the notes and the short
answer are fixed and the harness's work — search, citation checks, annotations, report.md —
is what is tested. Sources are inline files of the environment and a Files API upload.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from engine_helpers import EngineProcess, create, sse_events
from google import genai
from google.genai._gaos.lib import compat_errors

from support.research_material import ACME, SALES

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.filterwarnings("ignore:.*experimental.*:UserWarning"),
]

AGENT = "deep-research-pro-preview-12-2025"
ENV = {
    "type": "remote",
    "sources": [
        {"type": "inline", "target": "notes/acme.md", "content": ACME},
        {"type": "inline", "target": "data/sales.csv", "content": SALES},
    ],
}
QUESTION = (
    "When was Acme founded and how many units did the north region sell? "
    "[[reply Stage: plan => How many units did the north region sell?]] "
    "[[reply answer: When was Acme founded => Acme was founded in 1987 [2]. "
    "The founder was a famous astronaut.]] "
    "[[reply answer: How many units => The north region sold 120 units [9] [1].]] "
    "[[reply Stage: answer => Acme was founded in 1987 [2], and the north region sold 120 "
    "units [1]. It has 5000 staff.]]"
)


def _wait(client: genai.Client, interaction_id: str, limit: float = 40.0) -> Any:
    deadline = time.monotonic() + limit
    while True:
        got = client.interactions.get(interaction_id)
        if got.status not in ("queued", "in_progress"):
            return got
        assert time.monotonic() < deadline, got.status
        time.sleep(0.1)


def _report(done: Any) -> Any:
    outputs = [s for s in done.steps if s.type == "model_output"]
    assert outputs, [s.type for s in done.steps]
    return outputs[-1].content[0]


def test_background_research_with_cited_report(engine: EngineProcess) -> None:
    client = engine.client()
    started = client.interactions.create(
        agent=AGENT,
        input=QUESTION,
        background=True,
        environment=ENV,
        agent_config={"type": "deep-research", "thinking_summaries": "auto"},
    )
    assert started.status in ("queued", "in_progress")
    done = _wait(client, started.id)
    assert done.status == "completed", done
    block = _report(done)
    text: str = block.text
    raw = text.encode("utf-8")
    assert "## Answer" in text and "## References" in text
    # Every annotation points at a real span of the text and at a real passage.
    notes = block.annotations or []
    assert notes, text
    for note in notes:
        assert note.type == "file_citation"
        assert 0 <= note.start_index < note.end_index <= len(raw)
        span = raw[note.start_index : note.end_index].decode("utf-8")
        assert span.strip() and "[" not in span, span
        assert note.document_uri.startswith(f"environments/{done.environment_id}/files/")
    cited: dict[str, set[str]] = {}
    for n in notes:
        cited.setdefault(raw[n.start_index : n.end_index].decode(), set()).add(n.file_name)
    assert cited["Acme was founded in 1987."] == {"notes/acme.md"}
    assert cited["The north region sold 120 units."] == {"data/sales.csv"}
    both = "Acme was founded in 1987, and the north region sold 120 units."
    assert cited[both] == {"notes/acme.md", "data/sales.csv"}
    assert f"{both} [1][2]" in text  # renumbered in order of first use
    # A claim without a (real) source is marked, never given a citation.
    assert "The founder was a famous astronaut. (no source found)" in text
    assert "It has 5000 staff. (no source found)" in text
    assert "[9]" not in text  # passage 9 was never shown: the citation is dropped
    # Progress came as thought summaries.
    thoughts = [s for s in done.steps if s.type == "thought"]
    assert any("Research plan" in s.summary[0].text for s in thoughts)
    assert any("Searched the sources" in s.summary[0].text for s in thoughts)
    # report.md with its numbered references is in the sandbox.
    md = client.environments.files.download(
        environment=done.environment_id, path="deep-research/report.md"
    ).decode()
    assert md.startswith(text)
    assert "[1]: <environments/" in md
    assert done.usage.total_tokens > 0


def test_stream_carries_text_annotation_delta(engine: EngineProcess) -> None:
    client = engine.client()
    started = client.interactions.create(
        agent=AGENT, input=QUESTION, background=True, environment=ENV
    )
    events = list(client.interactions.get(started.id, stream=True))
    deltas = [e.delta for e in events if e.event_type == "step.delta"]
    notes = [d for d in deltas if d.type == "text_annotation_delta"]
    assert len(notes) == 1 and notes[0].annotations
    assert notes[0].annotations[0].type == "file_citation"
    assert not [d for d in deltas if d.type == "thought_summary"]  # summaries default off
    assert events[-1].event_type == "interaction.completed"


def test_collaborative_planning_then_confirm(engine: EngineProcess) -> None:
    client = engine.client()
    config = {"type": "deep-research", "collaborative_planning": True}
    first = client.interactions.create(
        agent=AGENT, input=QUESTION, background=True, environment=ENV, agent_config=config
    )
    planned = _wait(client, first.id)
    assert planned.status == "completed"
    plan = _report(planned).text
    assert plan.startswith("Research plan for: When was Acme founded")
    assert "1. When was Acme founded" in plan and "2. How many units" in plan
    assert "## Answer" not in plan
    # An edited plan: only the first question, run in the same sandbox without naming it.
    second = client.interactions.create(
        agent=AGENT,
        input="1. When was Acme founded?",
        background=True,
        previous_interaction_id=planned.id,
        agent_config=config,
    )
    done = _wait(client, second.id)
    assert done.status == "completed"
    assert done.environment_id == planned.environment_id
    text = _report(done).text
    assert "### When was Acme founded?" in text and "How many units" not in text
    assert "1987" in text


def test_plan_change_request_returns_a_new_plan(engine: EngineProcess) -> None:
    client = engine.client()
    config = {"type": "deep-research", "collaborative_planning": True}
    question = QUESTION + " [[reply Stage: revise plan => Where is Acme based today?]]"
    first = _wait(
        client,
        client.interactions.create(
            agent=AGENT, input=question, background=True, environment=ENV, agent_config=config
        ).id,
    )
    again = _wait(
        client,
        client.interactions.create(
            agent=AGENT, input="Focus on the headquarters instead.", background=True,
            previous_interaction_id=first.id, agent_config=config,
        ).id,
    )  # fmt: skip
    assert _report(again).text.startswith("Research plan for: When was Acme founded")
    assert "1. Where is Acme based today?" in _report(again).text
    run = _wait(
        client,
        client.interactions.create(
            agent=AGENT, input="go ahead", background=True, previous_interaction_id=again.id,
            agent_config=config,
        ).id,
    )  # fmt: skip
    assert "### Where is Acme based today?" in _report(run).text


def test_uploaded_file_is_a_source(engine: EngineProcess, tmp_path: Any) -> None:
    client = engine.client()
    path = tmp_path / "memo.txt"
    path.write_text("Memo\n\nThe Zephyr project budget is 4.2 million euros.\n")
    uploaded = client.files.upload(
        file=str(path), config={"mime_type": "text/plain", "display_name": "memo.txt"}
    )
    question = (
        "What is the Zephyr project budget? "
        "[[reply answer: What is the Zephyr => The Zephyr budget is 4.2 million euros [1].]]"
    )
    started = client.interactions.create(
        agent=AGENT,
        input=[
            {"type": "text", "text": question},
            {"type": "document", "uri": uploaded.name, "mime_type": "text/plain"},
        ],
        background=True,
    )
    done = _wait(client, started.id)
    block = _report(done)
    (note,) = {(n.file_name, n.document_uri) for n in block.annotations or []}
    assert note == ("memo.txt", uploaded.name)


def test_visualization_off_never_adds_an_image(engine: EngineProcess) -> None:
    client = engine.client()
    done = _wait(
        client,
        client.interactions.create(
            agent=AGENT, input=QUESTION, background=True, environment=ENV,
            agent_config={"type": "deep-research", "visualization": "off"},
        ).id,
    )  # fmt: skip
    blocks = [b for s in done.steps if s.type == "model_output" for b in s.content]
    assert [b.type for b in blocks] == ["text"]


def test_visualization_auto_charts_a_cited_table(engine: EngineProcess) -> None:
    pytest.importorskip("matplotlib")
    client = engine.client()
    done = _wait(
        client,
        client.interactions.create(
            agent=AGENT, input=QUESTION, background=True, environment=ENV,
            agent_config={"type": "deep-research", "visualization": "auto"},
        ).id,
    )  # fmt: skip
    blocks = [b for s in done.steps if s.type == "model_output" for b in s.content]
    assert [b.type for b in blocks] == ["text", "image"]


def test_network_disabled_url_is_not_fetched(engine: EngineProcess) -> None:
    client = engine.client()
    question = "What does https://example.com/acme say about Acme?"
    done = _wait(
        client,
        client.interactions.create(
            agent=AGENT, input=question, background=True, environment=ENV
        ).id,
    )
    assert done.status == "completed"
    call = next(s for s in done.steps if s.type == "url_context_call")
    assert call.arguments.urls == ["https://example.com/acme"]
    result = next(s for s in done.steps if s.type == "url_context_result")
    assert result.is_error and result.result[0].status == "error"
    assert all(n.type != "url_citation" for n in _report(done).annotations or [])


def test_tools_without_url_context_fetch_nothing(engine: EngineProcess) -> None:
    client = engine.client()
    done = _wait(
        client,
        client.interactions.create(
            agent=AGENT, input="Summarise https://example.com/a", background=True,
            environment=ENV, tools=[{"type": "google_search"}],
        ).id,
    )  # fmt: skip
    assert not [s for s in done.steps if s.type.startswith("url_context")]


def test_foreground_is_refused(engine: EngineProcess) -> None:
    client = engine.client()
    with pytest.raises(compat_errors.APIError) as info:
        client.interactions.create(agent=AGENT, input="History of TPUs")
    assert info.value.status_code == 400
    assert "background" in str(info.value)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"agent_config": {"type": "antigravity"}}, "'deep-research'"),
        ({"agent_config": {"type": "deep-research", "visualization": "always"}}, "off, auto"),
        ({"agent_config": {"type": "deep-research", "thinking_summaries": "yes"}}, "auto, none"),
        ({"agent_config": {"type": "deep-research", "collaborative_planning": "y"}}, "true"),
        ({"agent_config": {"type": "deep-research", "enable_bigquery_tool": True}}, "BigQuery"),
        ({"tools": [{"type": "code_execution"}]}, "url_context"),
        ({"input": [{"type": "audio", "data": "AAAA", "mime_type": "audio/wav"}]}, "documents"),
        ({"input": [{"type": "text", "text": "q"}, {"type": "document", "uri": "files/nosuch"}]},
         "nosuch"),
        ({"input": [{"type": "document", "data": "aGk=", "mime_type": "text/plain"}]},
         "needs a question"),
    ],
)  # fmt: skip
def test_request_checks(http: httpx.Client, extra: dict[str, Any], needle: str) -> None:
    body = {"agent": AGENT, "input": "q", "background": True, **extra}
    response = create(http, body)
    assert response.status_code in (400, 404), response.text
    assert needle in response.json()["error"]["message"]


def test_raw_sse_annotation_event_shape(http: httpx.Client) -> None:
    body = {"agent": AGENT, "input": QUESTION, "background": True, "environment": ENV}
    started = create(http, body).json()
    text = http.get(f"/v1beta/interactions/{started['id']}", params={"stream": "true"}).text
    events = sse_events(text)
    notes = [
        e for e in events
        if e.get("event_type") == "step.delta"
        and e["delta"]["type"] == "text_annotation_delta"
    ]  # fmt: skip
    (event,) = notes
    note = event["delta"]["annotations"][0]
    assert set(note) >= {"type", "file_name", "document_uri", "start_index", "end_index"}
