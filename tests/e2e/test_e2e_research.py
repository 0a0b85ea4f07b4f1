"""Deep Research in the app against a real engine (scripted backend): the panel starts a
research run, the plan comes back for confirmation, progress shows in Runs, the report's
citations open the cited file at the cited lines, and the Markdown export keeps them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QUrl

from support.research_material import QUESTION, write_material
from workbench.core.citations import Citation
from workbench.core.runs import RunRecord
from workbench.ui.main_window import MainWindow

pytestmark = pytest.mark.timeout(120)


def _research_run(w: MainWindow) -> RunRecord | None:
    runs = [r for r in w.docks.runs.tracker.records() if r.target.startswith("deep-research")]
    return runs[0] if runs else None


async def test_research_plan_confirm_report_citations_export(
    until: Any, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    folder = write_material(tmp_path)
    w = make_window()
    await w.start()
    try:
        research = w.docks.research
        dock = research.dock
        dock.question.setPlainText(QUESTION)
        dock.add_local(folder, folder=True)
        assert dock.plan_first.isChecked() and dock.summaries.isChecked()
        dock.start_button.click()
        await until(lambda: (r := _research_run(w)) is not None and bool(r.plan), what="plan")
        run = _research_run(w)
        assert run is not None and run.request["agent_config"]["collaborative_planning"]
        assert run.progress  # the latest thought summary line
        model = w.docks.runs_dock.model
        assert model.index(model.row_of(run.id), 2).data() == "plan ready"
        await until(lambda: dock.plan_run_id == run.id, what="plan shown")
        assert dock.plan_box.isVisibleTo(dock)
        assert dock.plan.toPlainText().startswith("Research plan for: When was Acme founded")
        assert not dock.edit_button.isEnabled()  # nothing edited yet

        dock.confirm_button.click()
        await until(
            lambda: len(run.interaction_ids) == 2 and run.status == "completed" and run.ended,
            what="report",
        )
        assert run.plan == "" and not dock.plan_box.isVisibleTo(dock)

        w.docks.runs.open_transcript(run.id)
        await until(lambda: len(w.transcript.entries()) == 2, what="transcript")
        w.transcript.flush()
        cites = w.transcript._state.citations
        assert cites, "the report's [n] markers are links"
        assert "wb:cite/" in w.transcript.toHtml()
        key, first = next(iter(cites.items()))
        w.transcript._on_link(QUrl(f"wb:cite/{key}"))
        preview = w.docks.files_dock.preview
        await until(lambda: preview.kind == "cited", what="cited preview")
        assert preview.highlighted == (first.line_start, first.line_end)
        assert preview.cited_heading.text().startswith(f"[{first.number}] material/")

        # A citation of a sandbox file selects it in the tree and highlights the lines.
        env = run.environment_id
        assert env
        in_sandbox = Citation(
            9, "file", f"environments/{env}/files/deep-research/report.md",
            file_name="deep-research/report.md", line_start=3, line_end=3,
        )  # fmt: skip
        research.open_citation(in_sandbox)
        files = w.docks.files_dock
        await until(
            lambda: (
                (e := files.current_entry()) is not None
                and e.path == "deep-research/report.md"
                and preview.kind == "cited"
            ),
            what="sandbox citation",
        )
        assert preview.highlighted == (3, 3) and "## Answer" in preview.cited_text.toPlainText()

        opened: list[QUrl] = []
        research._open_url = opened.append
        research.open_citation(Citation(1, "url", "https://example.org/page", title="E"))
        assert [u.toString() for u in opened] == ["https://example.org/page"]

        out = tmp_path / "session.md"
        w.export_to("md", out)
        text = out.read_text()
        assert "## References" in text and f"[{first.number}]: <{first.uri}>" in text
    finally:
        await w.controller.shutdown()
