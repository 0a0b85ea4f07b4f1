"""The Deep Research panel on its own: the form as a request, the plan's two answers, and
the cited-passage preview of the Sandbox files dock."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from workbench.core.cited_source import CitedText
from workbench.ui.files.preview import PreviewPane
from workbench.ui.research.panel import ResearchDock


def test_form_reads_as_a_request(qtbot: QtBot, tmp_path: Path) -> None:
    dock = ResearchDock()
    qtbot.addWidget(dock)
    dock.question.setPlainText("  What changed in 2020?  ")
    dock.add_local(tmp_path, folder=True)
    dock.add_local(tmp_path, folder=True)  # once only
    dock.add_local(tmp_path / "a.pdf", folder=False)
    dock.set_uploads([("files/abc", "report.pdf · application/pdf"), ("files/def", "x.txt")])
    dock.uploads.item(0).setCheckState(dock.uploads.item(0).checkState().Checked)
    dock.urls.setPlainText("https://example.org/a\n\n https://example.org/b ")
    dock.charts.setChecked(True)
    dock.summaries.setChecked(False)
    asked = []
    dock.start_requested.connect(asked.append)
    dock.start_button.click()
    (ask,) = asked
    assert ask.question == "What changed in 2020?"
    assert ask.sources.folders == [tmp_path] and ask.sources.files == [tmp_path / "a.pdf"]
    assert ask.sources.uploaded == ["files/abc"]
    assert ask.sources.urls == ["https://example.org/a", "https://example.org/b"]
    assert ask.options.visualization and not ask.options.thinking_summaries
    assert ask.options.plan_first and ask.options.agent == "deep-research-pro-preview-12-2025"
    dock.set_uploads([("files/abc", "report.pdf")])  # a refresh keeps the ticks
    assert dock.ticked_uploads() == ["files/abc"]


def test_plan_confirm_or_edit_and_continue(qtbot: QtBot) -> None:
    dock = ResearchDock()
    qtbot.addWidget(dock)
    answered: list[tuple[str, str]] = []
    dock.plan_answered.connect(lambda rid, text: answered.append((rid, text)))
    plan = "Research plan for: X\n1. A\n2. B"
    dock.show_plan("run1", "Research: X", plan)
    assert dock.plan_box.isVisibleTo(dock) and not dock.edit_button.isEnabled()
    dock.plan.setPlainText("1. A only")
    assert dock.edit_button.isEnabled()
    dock.edit_button.click()
    dock.confirm_button.click()  # Confirm sends the plan as proposed
    assert answered == [("run1", "1. A only"), ("run1", plan)]
    dock.hide_plan()
    dock.confirm_button.click()
    assert len(answered) == 2 and not dock.plan_box.isVisibleTo(dock)


def test_cited_preview_highlights_the_lines(qtbot: QtBot) -> None:
    pane = PreviewPane()
    qtbot.addWidget(pane)
    text = "\n".join(f"line {n}" for n in range(1, 41))
    pane.show_cited(CitedText("[2] notes.md, lines 30–32", text, (30, 32)))
    assert pane.kind == "cited" and pane.highlighted == (30, 32)
    (selection,) = pane.cited_text.extraSelections()
    assert selection.cursor.selectedText().replace("\u2029", "\n") == "line 30\nline 31\nline 32"
    pane.show_cited(CitedText("[1] a.pdf, page 9", "only", (5, 99), "The PDF has no page 9"))
    assert pane.highlighted == (1, 1) and pane.cited_note.text() == "The PDF has no page 9"
