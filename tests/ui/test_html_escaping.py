"""Text from a model, a server or a file never becomes markup anywhere in the window.

Qt draws a label, tooltip or message box whose text *looks* like HTML as HTML. One hostile
string is fed through every panel that shows such text (sessions, header, Runs, Schedules,
Webhooks, Models, Agents, Sandbox files, composer, Compare); then every label, tooltip and
item-model tooltip in the window is checked to show it literally.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QAbstractItemView, QLabel, QMessageBox, QWidget

from support.history_seed import save_turn
from workbench.core.agents import AgentDefinition, AgentManifest, DataSource
from workbench.core.models_service import ModelRow
from workbench.core.runs import RunRecord
from workbench.core.sandbox_files import Preview, SandboxEntry
from workbench.protocol.ops import Trigger, Webhook
from workbench.ui.elided_label import ElidedLabel
from workbench.ui.main_window import MainWindow
from workbench.ui.plain import plain_label, plain_tip

HOSTILE = "<b>x</b><script>alert(1)</script>"


def shown(text: str, fmt: Qt.TextFormat = Qt.TextFormat.AutoText) -> str:
    """What a user reads for ``text`` in a widget with this text format."""
    rich = fmt == Qt.TextFormat.RichText or (
        fmt == Qt.TextFormat.AutoText and GuiQt.mightBeRichText(text)
    )
    if not rich:
        return text
    doc = QTextDocument()
    doc.setHtml(text)
    return doc.toPlainText()


def _tips(model: QAbstractItemModel, parent: QModelIndex = QModelIndex()) -> Iterator[str]:
    try:
        columns = model.columnCount(parent)
    except TypeError:  # a list model (columnCount is private there): one column
        columns = 1
    for row in range(model.rowCount(parent)):
        for col in range(max(1, columns)):
            index = model.index(row, col, parent)
            tip = model.data(index, Qt.ItemDataRole.ToolTipRole)
            if isinstance(tip, str):
                yield tip
            if col == 0 and columns > 1 and model.rowCount(index) > 0:
                yield from _tips(model, index)


def leaks(root: QWidget) -> list[str]:
    """Every place under ``root`` that holds the hostile text but would not show it as typed."""
    bad = []
    for widget in [root, *root.findChildren(QWidget)]:
        name = f"{type(widget).__name__}({widget.objectName()})"
        texts: list[tuple[str, str, Qt.TextFormat]] = [
            ("tooltip", widget.toolTip(), Qt.TextFormat.AutoText)
        ]
        if isinstance(widget, ElidedLabel):  # it draws what fits of its full text
            texts.append(("text", widget.full_text(), widget.textFormat()))
        elif isinstance(widget, QLabel):
            texts.append(("text", widget.text(), widget.textFormat()))
        if isinstance(widget, QMessageBox):
            texts.append(("text", widget.text(), widget.textFormat()))
        if isinstance(widget, QAbstractItemView) and widget.model() is not None:
            texts += [("item tooltip", t, Qt.TextFormat.AutoText) for t in _tips(widget.model())]
        for what, text, fmt in texts:
            if "<script>" in text and HOSTILE not in shown(text, fmt):
                bad.append(f"{name} {what}: {text!r}")
            if "&lt;script&gt;" in text and HOSTILE not in shown(text, fmt):
                bad.append(f"{name} {what} (escaped twice?): {text!r}")
    return bad


def test_plain_tip_only_escapes_what_qt_would_parse() -> None:
    assert plain_tip("Remove memo.wav") == "Remove memo.wav"
    assert shown(plain_tip(HOSTILE)) == HOSTILE
    assert shown(plain_tip(f"line one\n{HOSTILE}")) == f"line one\n{HOSTILE}"


def test_hostile_text_is_shown_as_text_in_every_panel(
    make_window: Callable[..., MainWindow],
) -> None:
    w = make_window()
    w.show()
    # Sessions list, header title, delete confirmation.
    sid = w.history.create_session(HOSTILE).id
    save_turn(w.history, sid, "int_h", HOSTILE, HOSTILE, model=HOSTILE)
    w.controller.refresh_sessions()
    w.controller.open_session(sid)
    w.sessions.confirm_delete(sid)
    # Runs: title, model, error in the table's tooltip and the details.
    run = RunRecord(
        id="r1",
        profile_id="local",
        title=HOSTILE,
        target=HOSTILE,
        model=HOSTILE + "m",
        error=HOSTILE,
        interaction_ids=["int_h"],
        status="failed",
    )
    w.docks.runs.tracker.runs[run.id] = run
    w.docks.runs_dock.set_runs([run])
    w.docks.runs_dock.select_run("r1")
    # Schedules and webhooks from a server.
    w.docks.schedules_dock.set_triggers(
        [Trigger(id="t1", display_name=HOSTILE, schedule=HOSTILE, time_zone="UTC")]
    )
    w.docks.schedules_dock.show_problem(HOSTILE)
    w.docks.webhooks_dock.set_webhooks([Webhook(id="h1", name=HOSTILE, uri=HOSTILE)])
    w.docks.webhooks_dock.show_problem(HOSTILE)
    # Models page: a model file's name and problem.
    w.docks.models_dock.set_rows(
        [ModelRow(id="m1", name=HOSTILE, kind="imported", path=HOSTILE, problem=HOSTILE)]
    )
    # Agents: server model names, data sources, a problem notice.
    form = w.docks.agents_dock.form
    form.set_models([HOSTILE])
    form.data_model.set_rows([(DataSource(path="data/" + HOSTILE, target=HOSTILE), 3)])
    w.docks.agents_dock.set_notice(HOSTILE)
    # Sandbox files: a file name, a Markdown file with HTML in it, an error.
    files = w.docks.files_dock
    files.model.set_children(".", [SandboxEntry(HOSTILE, HOSTILE, False, 3, "text/plain")])
    files.show_problem(HOSTILE)
    files.preview.show_preview(Preview("markdown", text=f"# Notes\n\n{HOSTILE}"))
    assert HOSTILE in files.preview.markdown.toPlainText()
    # Composer: a server's reason for not sending, an attachment's name.
    w.composer.set_ready(False, HOSTILE)
    # Compare: both sides.
    compare = w.extras.compare.compare_sessions(sid, sid)
    assert compare is None  # one branch only: said in the status bar, as text
    assert HOSTILE in w.statusBar().currentMessage()

    problems = leaks(w)
    for top in (w.sessions._confirm,):
        assert top is not None
        problems += leaks(top)
    assert problems == []
    # The check itself notices a label that would render the text.
    trap = QLabel(HOSTILE, w)
    assert leaks(w) == [f"QLabel() text: {HOSTILE!r}"]
    trap.deleteLater()


_TAG = re.compile(r"</?(?:b|i|code|br|span|p|a)\b[^>]*>", re.I)


def tagged_plain_labels(root: QWidget) -> list[str]:
    """Plain-text labels whose text holds HTML tags: the user would read the tags."""
    return [
        f"{type(label).__name__}({label.objectName()}): {label.text()!r}"
        for label in root.findChildren(QLabel)
        if label.textFormat() == Qt.TextFormat.PlainText and _TAG.search(label.text())
    ]


def test_plain_labels_carry_no_markup_of_their_own(
    make_window: Callable[..., MainWindow],
) -> None:
    """A label made plain (issue 14) must not be given ``<code>``/``<b>`` by the app itself."""
    w = make_window()
    w.show()
    defn = AgentDefinition(manifest=AgentManifest(name="helper", published_id="agents/helper-1"))
    w.docks.agents_dock.form.load(defn)
    assert w.docks.agents_dock.form.published.text() == "Published as agents/helper-1"
    w.docks.agents_dock.set_notice("Imported “helper”.")
    w.composer.set_ready(False, "the server is starting")
    w.docks.schedules_dock.show_problem("no such trigger")
    assert tagged_plain_labels(w) == []
    # The check notices a plain label given tags.
    trap = plain_label(QLabel("Published as <code>agents/x</code>", w))
    assert len(tagged_plain_labels(w)) == 1
    trap.deleteLater()
