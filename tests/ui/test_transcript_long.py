"""Issue 14 item 1: a long session's transcript renders each finished turn once.

Streaming redraws only the live tail, the end of a turn adds one turn, a long session opens
with its newest turns and pages older ones in on scrolling to the top. These assert what is
drawn (and how often a turn is converted to HTML); the costs are in benchmarks/transcript.py.
"""

from __future__ import annotations

from typing import Any

from pytestqt.qtbot import QtBot

from workbench.ui.transcript import TranscriptView, TurnEntry


def _entry(n: int, text: str | None = None, *, live: bool = False) -> TurnEntry:
    data = {
        "id": f"v1_t{n}",
        "status": "in_progress" if live else "completed",
        "steps": [
            {"type": "thought", "summary": [{"type": "text", "text": f"secret thought {n}"}]},
            {
                "type": "model_output",
                "content": [{"type": "text", "text": text or f"answer number {n}"}],
            },
        ],
    }
    user: list[Any] = [{"type": "user_input", "content": [{"type": "text", "text": f"q{n}"}]}]
    return TurnEntry(f"v1_t{n}", user, data, target="scripted", live=live)


def _view(qtbot: QtBot) -> TranscriptView:
    view = TranscriptView()
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    return view


def test_streaming_redraws_only_the_live_turn(qtbot: QtBot) -> None:
    view = _view(qtbot)
    entries = [_entry(n) for n in range(6)]
    view.set_entries(entries)
    view.flush()
    assert view.turns_rendered == 6
    for k in range(1, 20):
        view.set_live(_entry(6, " ".join(["tok"] * k), live=True))
        view.flush()
    assert view.turns_rendered == 6 + 19  # the finished turns were not drawn again
    text = view.toPlainText()
    assert "answer number 0" in text and text.rstrip().endswith(" ".join(["tok"] * 19))

    # End of turn: the chat re-reads the session from history (equal entries, new objects).
    view.set_live(None)
    view.set_entries([_entry(n) for n in range(6)] + [_entry(6, "the final answer")])
    view.flush()
    assert view.turns_rendered == 6 + 19 + 1
    text = view.toPlainText()
    assert "the final answer" in text and "tok tok" not in text
    assert text.count("q0") == 1


def test_notice_and_fold_are_redrawn_in_place(qtbot: QtBot) -> None:
    view = _view(qtbot)
    view.set_entries([_entry(n) for n in range(3)])
    view.set_notice("Branching from here")
    view.flush()
    rendered = view.turns_rendered
    assert view.toPlainText().rstrip().endswith("Branching from here")
    view.toggle("v1_t1-0")
    view.flush()
    assert view.turns_rendered == rendered + 1  # only the toggled turn
    text = view.toPlainText()
    assert "secret thought 1" in text and "secret thought 0" not in text
    assert text.index("q0") < text.index("secret thought 1") < text.index("q2")
    view.set_notice("")
    view.flush()
    assert "Branching" not in view.toPlainText()
    # Branch from an earlier turn: the later turns leave, nothing is redrawn.
    view.set_entries([_entry(0), _entry(1)])
    view.flush()
    assert "q2" not in view.toPlainText()
    assert view.turns_rendered == rendered + 1


def test_long_session_opens_with_newest_turns_and_pages_in_older(qtbot: QtBot) -> None:
    view = _view(qtbot)
    view.set_entries([_entry(n) for n in range(300)])
    view.flush()
    assert view.turns_rendered == view.OPENING
    text = view.toPlainText()
    assert "q299" in text and "q0\n" not in text
    assert f"Show {300 - view.OPENING} earlier turns" in text
    bar = view.verticalScrollBar()
    assert bar.value() == bar.maximum()  # the newest turn is in view
    qtbot.waitUntil(lambda: not view.filling, timeout=5000)
    assert view.turns_rendered == view.PAGE
    bar.setValue(0)  # the user scrolls to the top: the page above comes in
    qtbot.waitUntil(lambda: view.turns_rendered == 2 * view.PAGE, timeout=5000)
    assert bar.value() > 0  # the view stays on the turn the user was reading
    view.show_all()
    text = view.toPlainText()
    assert "earlier turn" not in text
    assert [n for n in range(300) if f"q{n}\n" not in text] == []
    assert text.index("q0\n") < text.index("q150\n") < text.index("q299\n")


def test_empty_transcript_welcomes_and_a_new_session_starts_clean(qtbot: QtBot) -> None:
    view = _view(qtbot)
    view.flush()
    assert "Start a conversation" in view.toPlainText()
    view.set_entries([_entry(1)])
    view.flush()
    assert "Start a conversation" not in view.toPlainText()
    view.set_entries([_entry(40), _entry(41)])  # another session
    view.flush()
    text = view.toPlainText()
    assert "q1\n" not in text and "q40" in text and "q41" in text
    view.set_entries([])
    view.flush()
    assert "Start a conversation" in view.toPlainText()


def test_server_and_file_text_is_escaped_in_the_runs_dock_and_composer(qtbot: QtBot) -> None:
    """Issue 14 item 5: text from a model, a server or a file never becomes markup."""
    from workbench.core.runs import RunRecord
    from workbench.ui.composer import Composer
    from workbench.ui.runs.dock import RunsDock

    dock = RunsDock()
    qtbot.addWidget(dock)
    run = RunRecord(
        id="r1",
        profile_id="local",
        target="<b>model</b>",
        title="t",
        request={},
        error="<img src=x> failed & <i>broke</i>",
        answer="<a href='wb:x'>click</a>",
    )
    run.interaction_ids.append("v1_<u>x</u>")
    dock.set_runs([run])
    dock.select_run("r1")
    detail = dock.detail.text()
    assert "&lt;img src=x&gt;" in detail and "<img" not in detail
    assert "&lt;b&gt;model&lt;/b&gt;" in detail and "&lt;u&gt;" in detail
    assert "<a href" not in dock.answer.text()
    composer = Composer()
    qtbot.addWidget(composer)
    composer.refuse("<b>evil.exe</b> cannot be sent")
    assert composer.message.textFormat() == composer.message.textFormat().PlainText
    assert composer.message.text() == "<b>evil.exe</b> cannot be sent"
