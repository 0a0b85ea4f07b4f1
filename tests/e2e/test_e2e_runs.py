"""Background runs against a real engine (scripted backend): progress, restart and
re-attach, approvals of client-side functions, the app's token budget, chat turns."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.core.approvals import Decision
from workbench.core.run_store import RunStore
from workbench.core.runs import RunRecord
from workbench.ui.approvals_settings import AllowListEditor
from workbench.ui.main_window import MainWindow
from workbench.ui.runs.model import RunsModel


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _run(w: MainWindow, run_id: str) -> RunRecord:
    run = w.docks.runs.tracker.get(run_id)
    assert run is not None
    return run


def _ended(w: MainWindow, run_id: str, status: str) -> Callable[[], bool]:
    """The run's hop is over (fetched, saved, listed) with this status."""

    def check() -> bool:
        run = _run(w, run_id)
        return run.status == status and run.ended is not None

    return check


def _row_text(model: RunsModel, run_id: str, col: int) -> str:
    return str(model.index(model.row_of(run_id), col).data())


WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


async def test_run_survives_a_restart_and_is_reattached(
    until: Any, make_window: Callable[..., MainWindow], _workbench_home: Path, qtmodeltester: Any
) -> None:
    w = make_window()
    await w.start()
    conn = w.controller.connection
    assert conn is not None and conn.engine_info is not None
    pid = conn.engine_info.pid
    w2: MainWindow | None = None
    try:
        run_id = w.docks.runs.launch(
            {"model": "scripted", "input": "[[tokens: 60, 0.05]]"}, title="slow count"
        )
        assert run_id
        model = w.docks.runs_dock.model
        qtmodeltester.check(model)
        await until(lambda: _run(w, run_id).tokens >= 5, what="live progress")
        run = _run(w, run_id)
        assert run.running and run.interaction_id and run.steps == 1
        assert _row_text(model, run_id, 2) == "running"
        assert _row_text(model, run_id, 5).startswith("~")  # an estimate until usage arrives
        assert w.docks.runs_dock.current_run_id() == run_id
        first_iid = run.interaction_id
        # Quit, keeping the engine (and the run) going.
        assert w.docks.any_running
        w._begin_shutdown(stop_engine=False)
        await until(lambda: w.controller.connection is None, what="the first window to close")
        _budget, saved = RunStore(w.history).load()
        stored = next(r for r in saved if r.id == run_id)
        assert stored.status == "in_progress" and stored.last_event_id
        assert _alive(pid)

        w2 = make_window()
        await w2.start()
        assert w2.controller.connection is not None
        assert w2.controller.connection.engine_info is not None
        assert w2.controller.connection.engine_info.pid == pid  # the same engine, re-used
        await until(_ended(w2, run_id, "completed"), limit=30, what="the end")
        run2 = _run(w2, run_id)
        assert run2.interaction_ids == [first_iid]  # re-attached, never re-created
        assert run2.steps == 1
        assert run2.tokens >= 60 and not run2.tokens_estimated
        assert "finished" in [k for _r, k, _m in w2.docks.notifier.sent]
        model2 = w2.docks.runs_dock.model
        qtmodeltester.check(model2)
        assert _row_text(model2, run_id, 2) == "finished"
        # Open transcript shows the whole answer.
        w2.docks.runs.open_transcript(run_id)
        await until(lambda: w2.controller.session_id == run2.session_id, what="transcript")
        w2.transcript.flush()
        assert "t59" in w2.transcript.toPlainText()
        # Clicking the notification selects the run.
        w2.docks.runs_dock.table.clearSelection()
        w2.docks.notifier.open_requested.emit(run_id)
        assert w2.docks.runs_dock.current_run_id() == run_id
    finally:
        target = w2 or w
        await target.controller.shutdown(stop_engine=True)
        if w2 is None and _alive(pid):
            os.kill(pid, 15)
    await until(lambda: not _alive(pid), limit=10, what="the engine to stop")


async def test_approvals_inline_card_allow_always_deny(
    until: Any, make_window: Callable[..., MainWindow], _workbench_home: Path
) -> None:
    w = make_window()
    await w.start()
    runs, dock = w.docks.runs, w.docks.runs_dock
    try:
        # 1. No handler: the user edits the arguments, types the result, allows for this run.
        rid = runs.launch(
            {
                "model": "scripted",
                "input": '[[call get_weather {"city": "Oslo"}]]',
                "tools": [WEATHER_TOOL],
            },
            title="weather",
        )
        await until(lambda: _run(w, rid).needs_you, what="the approval request")
        assert [k for r, k, _m in w.docks.notifier.sent if r == rid] == ["needs_you"]
        dock.select_run(rid)
        await until(lambda: len(dock.card_widgets) == 1, what="the card")
        card = dock.card_widgets[0]
        assert json.loads(card.args.toPlainText()) == {"city": "Oslo"}  # full arguments
        assert card.result is not None  # no handler: the user answers
        card.buttons[Decision.RUN].click()
        assert not card.problem.isHidden()  # a result is needed first
        card.args.setPlainText('{"city": "Bergen"}')
        card.result.setPlainText('{"temp_c": 7}')
        card.buttons[Decision.RUN].click()
        await until(_ended(w, rid, "completed"), what="the second hop")
        run = _run(w, rid)
        assert len(run.interaction_ids) == 2 and run.steps == 2
        assert "get_weather" in run.allowed_tools
        rec = w.history.interaction(run.interaction_ids[1])
        assert rec is not None
        assert rec.input[0]["type"] == "function_result"
        assert rec.input[0]["result"] == {"temp_c": 7}
        assert rec.parent_id == run.interaction_ids[0]
        assert "get_weather returned" in json.dumps(rec.data)
        assert _row_text(dock.model, rid, 2) == "finished"

        # 2. A client-side handler, "Always for this tool": the next run is not asked.
        seen: list[dict[str, Any]] = []

        def lookup(args: dict[str, Any]) -> dict[str, Any]:
            seen.append(args)
            return {"found": args.get("q")}

        runs.tools.register("lookup", lookup)
        tool = {"type": "function", "name": "lookup", "parameters": {"type": "object"}}
        rid2 = runs.launch(
            {"model": "scripted", "input": '[[call lookup {"q": "a"}]]', "tools": [tool]},
            title="lookup",
        )
        await until(lambda: _run(w, rid2).needs_you, what="the lookup approval")
        dock.select_run(rid2)
        await until(lambda: len(dock.card_widgets) == 1)
        card = dock.card_widgets[0]
        assert card.result is None  # Workbench runs it itself
        card.args.setPlainText('{"q": "edited"}')
        card.buttons[Decision.ALWAYS].click()
        await until(_ended(w, rid2, "completed"), what="lookup hop")
        assert seen == [{"q": "edited"}]
        assert w.docks.allow_list.tools() == ["lookup"]
        rid3 = runs.launch(
            {"model": "scripted", "input": '[[call lookup {"q": "b"}]]', "tools": [tool]},
            title="lookup again",
        )
        await until(
            lambda: _ended(w, rid3, "completed")() and len(_run(w, rid3).interaction_ids) == 2,
            what="auto-approved run",
        )
        assert seen[-1] == {"q": "b"}
        assert not [k for r, k, _m in w.docks.notifier.sent if r == rid3 and k == "needs_you"]
        # The allow-list is visible (and editable) in Settings.
        dialog = w.open_settings()
        editor = dialog.findChild(AllowListEditor)
        assert editor is not None and editor.list.item(0).text() == "lookup"
        editor.list.setCurrentRow(0)
        editor.remove.click()
        assert w.docks.allow_list.tools() == []
        dialog.reject()

        # 3. Deny: the model is told, the run goes on.
        rid4 = runs.launch(
            {
                "model": "scripted",
                "input": "[[call wipe_disk]]",
                "tools": [{"type": "function", "name": "wipe_disk"}],
            },
            title="dangerous",
        )
        await until(lambda: _run(w, rid4).needs_you)
        dock.select_run(rid4)
        await until(lambda: len(dock.card_widgets) == 1)
        dock.card_widgets[0].buttons[Decision.DENY].click()
        await until(_ended(w, rid4, "completed"), what="denied hop")
        rec4 = w.history.interaction(_run(w, rid4).interaction_ids[1])
        assert rec4 is not None
        assert rec4.input[0]["is_error"] is True
        assert "denied" in json.dumps(rec4.input[0]["result"])
    finally:
        await w.controller.shutdown()


async def test_token_budget_cancels_the_run(
    until: Any, make_window: Callable[..., MainWindow]
) -> None:
    w = make_window()
    await w.start()
    try:
        w.docks.runs_dock.budget.setValue(25)
        rid = w.docks.runs.launch(
            {"model": "scripted", "input": "[[tokens: 500, 0.01]]"}, title="too long"
        )
        await until(lambda: _run(w, rid).ended is not None, limit=30, what="budget stop")
        run = _run(w, rid)
        assert run.status == "cancelled" and run.budget_stopped
        assert 25 <= run.tokens < 500
        assert "budget of 25" in run.error
        assert _row_text(w.docks.runs_dock.model, rid, 2) == "budget hit"
        assert [k for r, k, _m in w.docks.notifier.sent if r == rid] == ["failed"]
        w.docks.runs_dock.select_run(rid)
        assert "budget of 25" in w.docks.runs_dock.detail.text()
        assert RunStore(w.history).load()[0] == 25  # the setting is kept for the next start
    finally:
        await w.controller.shutdown()


async def test_background_chat_turn_shows_in_runs(
    until: Any, make_window: Callable[..., MainWindow]
) -> None:
    w = make_window()
    await w.start()
    try:
        w.dock.background.setChecked(True)
        w.composer.set_text("[[tokens: 8, 0.05]]")
        w.composer.submit()
        await until(lambda: w.docks.runs_dock.model.rowCount() == 1, what="the run row")
        run = w.docks.runs_dock.model.run_at(0)
        assert run is not None
        await until(lambda: run.status == "completed", what="the run to finish")
        await until(lambda: not w.controller.busy)
        assert run.session_id == w.controller.session_id  # the chat's own session
        assert run.interaction_ids == [w.transcript.entries()[-1].interaction_id]
        # One follower (issue 14 item 2): the Runs dock watched the chat's stream instead of
        # attaching a second one, and the chat's save kept its time to first token.
        assert not w.tasks.running(f"run:{run.id}") and run.reconnects == 0
        rec = w.history.interaction(run.interaction_ids[0])
        assert rec is not None and rec.status == "completed"
        assert "ttft" in rec.metrics, rec.metrics
        assert run.tokens >= 8 and run.ended is not None
    finally:
        await w.controller.shutdown()


async def test_transcript_opened_on_a_running_run_streams_live(
    until: Any, make_window: Callable[..., MainWindow]
) -> None:
    w = make_window()
    await w.start()
    try:
        run_id = w.docks.runs.launch(
            {"model": "scripted", "input": "[[tokens: 60, 0.05]] live run"}, title="live run"
        )
        await until(lambda: _run(w, run_id).tokens >= 3, what="progress")
        w.docks.runs.open_transcript(run_id)
        run = _run(w, run_id)
        await until(lambda: w.controller.session_id == run.session_id, what="the run's session")
        # The run's session is in the sessions list (history announced it).
        await until(lambda: w.sessions.model.row_of(run.session_id) >= 0, what="listed")
        w.transcript.flush()
        first = len(w.transcript.toPlainText())
        await until(lambda: w.controller.live.interaction_id == run.interaction_id)

        def grew() -> bool:
            w.transcript.flush()
            return len(w.transcript.toPlainText()) > first + 20

        await until(grew, what="the transcript to follow the stream")
        assert w.transcript.entries() == [] or all(
            e.interaction_id != run.interaction_id for e in w.transcript.entries()
        )
        await until(_ended(w, run_id, "completed"), limit=30, what="the run to end")
        await until(lambda: w.controller.live.interaction_id is None)
        await until(
            lambda: [e.interaction_id for e in w.transcript.entries()] == [run.interaction_id],
            what="the saved turn shown",
        )
        rec = w.history.interaction(run.interaction_id)
        assert rec is not None and rec.status == "completed"
    finally:
        await w.controller.shutdown()


async def test_quitting_keeps_a_background_chat_turn_running(
    until: Any, make_window: Callable[..., MainWindow]
) -> None:
    w = make_window()
    await w.start()
    conn = w.controller.connection
    assert conn is not None and conn.engine_info is not None
    pid = conn.engine_info.pid
    w2: MainWindow | None = None
    try:
        w.dock.background.setChecked(True)
        w.composer.set_text("[[tokens: 40, 0.05]]")
        w.composer.submit()
        await until(lambda: w.docks.runs_dock.model.rowCount() == 1, what="the run row")
        run = w.docks.runs_dock.model.run_at(0)
        assert run is not None
        await until(lambda: run.tokens >= 3, what="progress")
        w._begin_shutdown(stop_engine=False)  # "Keep it running and quit"
        await until(lambda: w.controller.connection is None, what="the window to close")
        w2 = make_window()
        await w2.start()
        await until(_ended(w2, run.id, "completed"), limit=30, what="the re-attached run")
        again = _run(w2, run.id)
        assert again.interaction_ids == run.interaction_ids
        rec = w2.history.interaction(run.interaction_ids[0])
        assert rec is not None and rec.status == "completed"
    finally:
        await (w2 or w).controller.shutdown(stop_engine=True)
        if w2 is None and _alive(pid):
            os.kill(pid, 15)
    await until(lambda: not _alive(pid), limit=10, what="the engine to stop")
