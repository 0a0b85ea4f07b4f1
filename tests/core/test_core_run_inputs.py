"""What a run sent is saved as the user's words, whatever form its ``input`` took.

``RunTracker.launch`` once saved a string input as if it were a list of steps (one step per
character), so "Open transcript" on that run said "You: (no text)".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from workbench.client import Client
from workbench.core.engine_process import EngineProcess, read_engine_file
from workbench.core.history import HistoryStore
from workbench.core.run_history import input_steps
from workbench.core.runs import RunTracker
from workbench.core.transcript import read_turn

STEPS = [{"type": "user_input", "content": [{"type": "text", "text": "as steps"}]}]


def test_input_forms_become_steps() -> None:
    text = {"type": "text", "text": "a block"}
    assert input_steps("hello") == [
        {"type": "user_input", "content": [{"type": "text", "text": "hello"}]}
    ]
    assert input_steps(text) == [{"type": "user_input", "content": [text]}]
    assert input_steps([text, text]) == [text, text]  # content blocks: the transcript reads them
    assert input_steps(STEPS) == STEPS
    assert input_steps(None) == [] and input_steps([]) == []
    with pytest.raises(TypeError, match="a run's input must be"):
        input_steps(42)


async def test_a_run_shows_what_it_was_sent(tmp_path: Path) -> None:
    engine = EngineProcess(tmp_path / "engine", backend="scripted")
    await engine.start()
    history = HistoryStore(tmp_path / "h.sqlite3")
    try:
        info = read_engine_file(tmp_path / "engine")
        assert info is not None
        client = Client(f"http://127.0.0.1:{info.port}", api_key=info.token)
        tracker = RunTracker(tmp_path / "runs.json", history)
        cases: list[tuple[Any, str]] = [
            ("Summarise the report", "Summarise the report"),
            (
                [{"type": "text", "text": "two"}, {"type": "text", "text": "blocks"}],
                "two\n\nblocks",
            ),
            (STEPS, "as steps"),
        ]
        try:
            for sent, words in cases:
                body = {"model": "scripted", "input": sent}
                run = tracker.new_run(body, profile_id="local", title="inputs")
                await tracker.launch(client, run, body)
                assert run.status == "completed"
                rec = history.interaction(run.interaction_id)
                assert rec is not None
                assert read_turn(rec.data, rec.input, rec.metrics).user_text == words
        finally:
            await client.aclose()
    finally:
        history.close()
        await engine.stop()


def test_a_long_prompt_makes_a_title_cut_at_a_word() -> None:
    from workbench.core.run_records import run_title

    prompt = "Read sales.csv and write the total of the amount column to total.txt please"
    title = run_title(prompt)
    assert title == "Read sales.csv and write the total of the amount column to…"
    assert len(title) <= 60
    assert run_title("  short\n prompt ") == "short prompt"
    assert run_title("x" * 80) == "x" * 59 + "…"  # one long word: cut where it must
    assert run_title("") == ""
