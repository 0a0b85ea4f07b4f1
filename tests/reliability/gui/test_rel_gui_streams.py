"""Issue 7 item 1 (app side): the real app's chat stream, cut mid-stream, resumes exactly.

The window's profile points at a cut proxy in front of a real engine. Each background chat
turn's create stream (the one ``POST``) is cut at a chosen byte while the engine is still
generating; the app's client resumes with ``last_event_id`` (the Runs dock follows the same
interaction on its own connection). The rendered turn must equal the uncut one, nothing may
be shown twice, and the create must reach the engine exactly once. A cut before the first
event gives a plain message and puts the typed text back in the composer.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Callable
from typing import Any

import pytest

from support.cut_proxy import CutProxy
from support.rel_engine import Engine
from workbench.client import ResumePolicy
from workbench.ui.main_window import MainWindow
from workbench.ui.transcript.entry import theme_for

PROMPT = "[[thought: cut me — ünïcödé]] [[text: answer 日本語 🎉 **bold**]] [[tokens: 40, 0.005]]"
POST = b"POST /v1beta/interactions "
_CALL = re.compile(r"call_[A-Za-z0-9_-]+")


def _rendered(w: MainWindow) -> tuple[str, str]:
    """The last turn as the transcript draws it (timings removed), with its id masked."""
    entry = w.transcript.entries()[-1]
    iid = entry.interaction_id or ""
    html = w.transcript._turn(dataclasses.replace(entry, metrics={}), theme_for(w.transcript))
    return _CALL.sub("call_X", html.replace(iid, "IID")), iid


def _posts(proxy: CutProxy) -> int:
    return sum(bytes(c.upstream).count(POST) for c in proxy.stats())


def _resumes(proxy: CutProxy) -> int:
    return sum(bytes(c.upstream).count(b"last_event_id=") for c in proxy.stats())


async def _turn(w: MainWindow, until: Any) -> None:
    w.controller.new_session()
    w.composer.set_text(PROMPT)
    w.composer.submit()
    await until(lambda: not w.controller.busy, what="the turn to end")


@pytest.mark.timeout(240)
async def test_app_resumes_cut_chat_streams(
    engines: Callable[..., Engine], remote_window: Callable[..., MainWindow], until: Any
) -> None:
    eng = engines("--max-background-runs", "8")
    with CutProxy("127.0.0.1", eng.port, record=True, match=POST) as proxy:
        w = remote_window(proxy.url + "/", eng.token)
        await w.start()
        conn = w.controller.connection
        assert conn is not None
        # The app's own policy waits 2, 4, 8 … s between reconnects; same logic, shorter waits.
        conn.client.interactions._resume = ResumePolicy(initial_delay=0.05, max_delay=0.2)
        w.dock.target.setEditText("scripted")
        w.dock.background.setChecked(True)
        try:
            await _turn(w, until)
            expected, first_iid = _rendered(w)
            assert "answer 日本語 🎉" in w.transcript.toPlainText()
            first = w.history.interaction(first_iid)
            assert first is not None
            expected_text = first.data["steps"][-1]["content"][0]["text"]
            assert expected_text.endswith(" ".join(f"t{n}" for n in range(40)) + " ")
            conn_stats = next(c for c in proxy.stats() if c.matched_at is not None)
            raw = bytes(conn_stats.downstream)[conn_stats.matched_at :]
            body = raw.index(b"\r\n\r\n") + 4
            first_event_end = raw.index(b"\n\n", body) + 2
            done = raw.index(b"data: [DONE]")
            rng = random.Random(11)
            offsets = [rng.randrange(first_event_end + 8, done) for _ in range(14)]
            for offset in offsets:
                posts, resumes = _posts(proxy), _resumes(proxy)
                proxy.set_plan([offset])
                await _turn(w, until)
                got, iid = _rendered(w)
                assert got == expected, offset
                assert w.transcript._notice == "", w.transcript._notice
                assert _posts(proxy) == posts + 1, offset  # the create went out once
                assert _resumes(proxy) > resumes, offset  # … and was resumed, not re-sent
                rec = w.history.interaction(iid)
                assert rec is not None and rec.status == "completed"
                text = rec.data["steps"][-1]["content"][0]["text"]
                assert text == expected_text, offset  # each delta exactly once
            # A cut before the first event: nothing identifies the interaction, so it is not
            # re-sent; the user gets plain words and the typed text back.
            posts = _posts(proxy)
            proxy.set_plan([first_event_end - 5])
            await _turn(w, until)
            assert _posts(proxy) == posts + 1
            notice = w.transcript._notice
            assert "did not send it again" in notice, notice
            assert w.composer.text() == PROMPT
            # The app stays usable: the next send works.
            w.composer.clear()
            await _turn(w, until)
            got, _ = _rendered(w)
            assert got == expected
        finally:
            await w.controller.shutdown()
