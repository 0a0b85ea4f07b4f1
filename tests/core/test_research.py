"""Deep Research through core against a real engine (scripted backend): the request the
research panel builds, the plan to confirm, progress from thought summaries, the cited
report in the history, and the Markdown export that keeps its references."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from support.research_material import ACME, QUESTION, SALES
from workbench.client import Client
from workbench.core.citations import (
    Citation,
    export_markdown,
    linked_markdown,
    number_citations,
    with_markers,
)
from workbench.core.engine_process import EngineProcess
from workbench.core.export import session_markdown
from workbench.core.history import HistoryStore
from workbench.core.research import (
    CONFIRM_TEXT,
    ResearchError,
    ResearchOptions,
    ResearchSources,
    build_request,
    check,
    confirm_config,
    confirm_input,
    plan_text,
    request_body,
)
from workbench.core.runs import RunTracker
from workbench.core.transcript import read_turn

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def engine_client(tmp_path: Path) -> AsyncIterator[Client]:
    engine = EngineProcess(tmp_path / "engine", backend="scripted")
    info = await engine.start()
    try:
        async with Client(info.url, api_key=info.token) as client:
            yield client
    finally:
        await engine.stop()


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "material"
    (folder / "notes").mkdir(parents=True)
    (folder / "notes" / "acme.md").write_text(ACME)
    (folder / "sales.csv").write_text(SALES)
    return folder


def test_check_says_what_is_wrong(tmp_path: Path) -> None:
    opts = ResearchOptions()
    with pytest.raises(ResearchError, match="question"):
        check("  ", ResearchSources(), opts)
    with pytest.raises(ResearchError, match="does not exist"):
        check("q", ResearchSources(folders=[tmp_path / "nope"]), opts)
    with pytest.raises(ResearchError, match="not a web address"):
        check("q", ResearchSources(urls=["ftp://x"]), opts)
    with pytest.raises(ResearchError, match="not a Deep Research agent"):
        check("q", ResearchSources(), ResearchOptions(agent="gemini-2.5-flash"))


def test_request_for_gemini_and_for_the_engine() -> None:
    opts = ResearchOptions(plan_first=False, thinking_summaries=True, visualization=True)
    urls = ["https://example.org/a", "https://docs.example.org/b"]
    remote = request_body("Q?", [{"type": "document", "uri": "files/x"}], opts, urls, local=False)
    assert remote["agent"] == "deep-research-pro-preview-12-2025" and remote["background"]
    assert remote["agent_config"] == {
        "type": "deep-research",
        "thinking_summaries": "auto",
        "visualization": "auto",
        "collaborative_planning": False,
    }
    assert remote["input"][0]["text"].endswith(" ".join(urls)) and "environment" not in remote
    local = request_body("Q?", [], opts, urls, local=True)
    hosts = [e["domain"] for e in local["environment"]["network"]["allowlist"]]
    assert hosts == ["docs.example.org", "example.org"]


def test_citations_numbered_linked_and_exported() -> None:
    text = "Acme was founded in 1987. Sales rose."
    raw = text.encode()
    notes = [
        {"type": "file_citation", "file_name": "a.pdf", "document_uri": "files/a",
         "page_number": 3, "start_index": 0, "end_index": raw.index(b" Sales")},
        {"type": "url_citation", "url": "https://e.org/x", "title": "E",
         "start_index": raw.index(b"Sales"), "end_index": len(raw)},
    ]  # fmt: skip
    marked, cites = with_markers(text, notes)
    assert marked == "Acme was founded in 1987. [1] Sales rose. [2]"
    assert [c.label for c in cites] == ["a.pdf, page 3", "E"]
    links = linked_markdown(text, notes, lambda c: f"wb:cite/k/{c.number}")
    assert '[\\[1\\]](wb:cite/k/1 "a.pdf, page 3")' in links and "wb:cite/k/2" in links
    md = export_markdown(text, notes)
    assert "[1] a.pdf, page 3 — files/a" in md and "[2] E" in md
    assert '[1]: <files/a> "a.pdf, page 3"' in md and "[2]: <https://e.org/x>" in md
    # A bracketed year is not a citation.
    assert "[1971]" in linked_markdown("In [1971]. [1]", notes[:1], lambda c: "x")
    sandbox = Citation(1, "file", "environments/env_1/files/notes/a.md")
    assert sandbox.sandbox_file() == ("env_1", "notes/a.md")


async def test_plan_confirm_report_and_export(engine_client: Client, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    opts = ResearchOptions(plan_first=True, thinking_summaries=True)
    body, notes = await build_request(
        engine_client, QUESTION, ResearchSources(folders=[folder]), opts, local=True
    )
    assert notes == [] and body["input"][1] == {"type": "document", "uri": folder.as_uri()}
    history = HistoryStore(tmp_path / "h.sqlite3")
    tracker = RunTracker(tmp_path / "runs.json", history)
    run = tracker.new_run(body, profile_id="local", title="Deep research")
    await tracker.launch(engine_client, run, body)
    assert run.status == "completed", run.error
    assert run.plan.startswith("Research plan for: When was Acme founded")
    assert run.progress  # the last thought summary's line
    rec = history.interaction(run.interaction_id)
    assert rec is not None and plan_text(rec.data, run.request) == run.plan

    await tracker.continue_run(
        engine_client,
        run,
        confirm_input(run.plan, run.plan),
        {"agent_config": confirm_config(run.request)},
    )
    assert run.status == "completed", run.error
    assert run.plan == "" and len(run.interaction_ids) == 2
    assert run.progress
    report = history.interaction(run.interaction_id)
    assert report is not None and report.input == [{"type": "text", "text": CONFIRM_TEXT}]
    view = read_turn(report.data, report.input)
    block = next(b for b in view.blocks if b.kind == "text")
    assert block.annotations and "## References" in block.text
    _, cites = with_markers(block.text, block.annotations)
    assert {c.file_name for c in cites} == {"material/notes/acme.md", "material/sales.csv"}
    assert all(c.uri.startswith("file://") and c.line_start for c in cites)
    session = history.session(run.session_id)
    exported = session_markdown(history, session)
    for c in cites:
        assert f"[{c.number}]: <{c.uri}>" in exported
    history.close()


def test_cited_source_pdf_page_local_file_and_passage(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from deep_research import _pdf
    from workbench.core.cited_source import from_bytes, passage_only, read_local

    pdf = _pdf([["Intro line", "second"], ["Revenue was 9 million.", "Costs fell."]])
    cite = Citation(2, "file", "files/x", file_name="r.pdf", page=2, line_start=2, line_end=2)
    shown = from_bytes(cite, "r.pdf", pdf)
    assert "Revenue was 9 million." in shown.text and "Intro" not in shown.text
    assert shown.lines == (2, 2) and shown.note == "Text of page 2"
    assert shown.text.splitlines()[1].strip() == "Costs fell."
    missing = from_bytes(Citation(1, "file", "f", page=7, passage="quoted"), "r.pdf", pdf)
    assert missing.text == "quoted" and "no page 7" in missing.note
    notes = tmp_path / "n.md"
    notes.write_text("a\nb\nc\n")
    local = read_local(Citation(1, "file", notes.as_uri(), line_start=2, line_end=3))
    assert local.text == "a\nb\nc\n" and local.lines == (2, 3) and local.heading.startswith("[1]")
    gone = read_local(Citation(1, "file", (tmp_path / "gone.md").as_uri(), passage="p"))
    assert gone.text == "p" and "cannot be read" in gone.note
    assert passage_only(Citation(3, "file", "files/y", passage="x\ny")).lines == (1, 2)


async def test_remote_path_uploads_the_files_first(engine_client: Client, tmp_path: Path) -> None:
    """For a server that cannot read this computer (Gemini), each file is uploaded and named
    by its Files API uri; the engine answers that request like Gemini would."""
    folder = _folder(tmp_path)
    (folder / "picture.png").write_bytes(b"\x89PNG\r\n")  # not a format the agent reads
    seen: list[str] = []
    opts = ResearchOptions(plan_first=False, thinking_summaries=False)
    body, _ = await build_request(
        engine_client, QUESTION, ResearchSources(folders=[folder]), opts, local=False,
        progress=seen.append,
    )  # fmt: skip
    docs = body["input"][1:]
    assert len(docs) == 2 and all(d["uri"].startswith(("files/", "http")) for d in docs)
    assert seen[-1].startswith("Uploading ") and "environment" not in body
    history = HistoryStore(tmp_path / "h.sqlite3")
    tracker = RunTracker(tmp_path / "runs.json", history)
    run = tracker.new_run(body, profile_id="gemini", title="remote")
    await tracker.launch(engine_client, run, body)
    assert run.status == "completed" and run.plan == "" and run.progress == ""
    rec = history.interaction(run.interaction_id)
    assert rec is not None
    block = next(b for b in read_turn(rec.data, rec.input).blocks if b.kind == "text")
    _, cites = with_markers(block.text, block.annotations)
    assert cites and all(c.sandbox_file() is None for c in cites)
    history.close()


def test_numbers_given_by_the_server_are_kept_and_gaps_filled() -> None:
    notes = [
        {"type": "file_citation", "document_uri": "f1", "start_index": 0, "end_index": 1,
         "custom_metadata": {"reference": 1}},
        {"type": "url_citation", "url": "https://u", "start_index": 2, "end_index": 3},
        {"type": "file_citation", "document_uri": "f3", "start_index": 4, "end_index": 5,
         "custom_metadata": {"reference": 3}},
        {"type": "url_citation", "url": "https://u", "start_index": 6, "end_index": 7},
    ]  # fmt: skip
    cites, ends = number_citations(notes)
    assert [(c.number, c.uri) for c in cites] == [(1, "f1"), (2, "https://u"), (3, "f3")]
    assert [n for _, n in ends] == [1, 2, 3, 2]


async def test_streamed_annotations_fold_into_the_text(
    engine_client: Client, tmp_path: Path
) -> None:
    """The report's ``text_annotation_delta`` folds into its text block while streaming, as
    the GET of the finished interaction has it; two text blocks read as one keep offsets."""
    from workbench.client import InteractionSnapshot
    from workbench.core.stream import StreamAccumulator

    folder = _folder(tmp_path)
    opts = ResearchOptions(plan_first=False, thinking_summaries=True)
    body, _ = await build_request(
        engine_client, QUESTION, ResearchSources(folders=[folder]), opts, local=True
    )
    history = HistoryStore(tmp_path / "h.sqlite3")
    tracker = RunTracker(tmp_path / "runs.json", history)
    run = tracker.new_run(body, profile_id="local", title="stream")
    await tracker.launch(engine_client, run, body)
    acc = StreamAccumulator()
    async with engine_client.interactions.get_stream(run.interaction_id) as stream:
        async for item in stream:
            if not isinstance(item, InteractionSnapshot):
                acc.feed(item)
    streamed = read_turn(acc.snapshot_wire(), [])
    stored = history.interaction(run.interaction_id)
    assert stored is not None
    final = read_turn(stored.data, stored.input)
    s_block = next(b for b in streamed.blocks if b.kind == "text")
    f_block = next(b for b in final.blocks if b.kind == "text")
    assert s_block.text == f_block.text and s_block.annotations == f_block.annotations
    assert s_block.annotations
    split = {
        "id": "x", "status": "completed",
        "steps": [{"type": "model_output", "content": [
            {"type": "text", "text": "Prix: 5 €. "},
            {"type": "text", "text": "Sold 120.", "annotations": [
                {"type": "url_citation", "url": "https://u", "start_index": 0, "end_index": 9}]},
        ]}],
    }  # fmt: skip
    (joined,) = read_turn(split, []).blocks
    assert with_markers(joined.text, joined.annotations)[0] == "Prix: 5 €. Sold 120. [1]"
    history.close()
