"""The Compare service: sides from the history, settings/metrics rows, the answers' diff."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.history_seed import ANSWER_A, ANSWER_B, save_turn, seed_branches, seed_two_sessions
from workbench.core.compare import (
    NONE,
    CompareError,
    CompareService,
    answer_diff,
    metric_rows,
    setting_rows,
    similarity,
)
from workbench.core.history import HistoryStore


@pytest.fixture
def history(tmp_path: Path) -> Iterator[HistoryStore]:
    store = HistoryStore(tmp_path / "h.sqlite3")
    yield store
    store.close()


def test_two_sessions_line_up_settings_and_metrics(history: HistoryStore) -> None:
    a, b = seed_two_sessions(history)
    service = CompareService(history)
    left, right = service.side(a), service.side(b)
    assert left.answer == ANSWER_A and right.answer == ANSWER_B
    settings = {r.label: r for r in setting_rows(left, right)}
    assert settings["Target"].left == "model qwen2.5-coder-0.5b"
    assert settings["Target"].right == "model qwen2.5-coder-1.5b"
    assert settings["Target"].differs
    assert not settings["System instruction"].differs
    assert settings["Generation config"].left == "max_output_tokens=256, temperature=0.2"
    assert settings["Tools"].left == NONE and settings["Tools"].right == "code_execution"
    metrics = {r.label: r for r in metric_rows(left, right)}
    assert (metrics["Input tokens"].left, metrics["Input tokens"].right) == ("38", "41")
    assert metrics["Time to first token"].left == "0.31 s"
    assert metrics["Duration"].right == "4.10 s"
    assert metrics["Speed"].left == "37.0 tok/s"
    assert not metrics["Status"].differs
    assert metrics["Turns"].left == "1"


def test_branches_of_one_session(history: HistoryStore) -> None:
    sid, leaf1, leaf2 = seed_branches(history)
    service = CompareService(history)
    branches = service.branches(sid)
    assert [b.leaf_id for b in branches] == [leaf1, leaf2]
    assert branches[0].label == "Branch 1 of 2 · 2 turns · “Another one?”"
    shown = service.side(sid)  # the leaf the session shows: the newest save
    assert shown.leaf_id == leaf2 and [t.id for t in shown.turns] == ["int_r1", leaf2]
    other = service.side(sid, leaf1)
    assert other.answer == "Pear." and other.positions[leaf1] == (1, 2)
    assert service.switch(sid, leaf1, 1) == leaf2
    assert service.side_of(leaf1).leaf_id == leaf1


def test_a_single_branch_is_named_so(history: HistoryStore) -> None:
    a, _b = seed_two_sessions(history)
    (only,) = CompareService(history).branches(a)
    assert only.label.startswith("The only branch · 1 turn · “Write a Python function")


def test_sides_that_cannot_be_shown_say_why(history: HistoryStore) -> None:
    service = CompareService(history)
    with pytest.raises(CompareError, match="no longer in the history"):
        service.side("s_missing")
    empty = history.create_session("Nothing yet").id
    with pytest.raises(CompareError, match="“Nothing yet” has no turns"):
        service.side(empty)
    with pytest.raises(CompareError, match="no saved transcript yet"):
        service.side_of("")
    save_turn(history, empty, "int_x", "q", "a")
    with pytest.raises(CompareError, match="That turn is no longer"):
        service.side(empty, "int_gone")
    assert [s.id for s in service.sessions()] == [empty]


def test_word_diff_marks_only_what_changed() -> None:
    pieces = answer_diff("The cat sat on the mat.", "The dog sat on the mat!")
    changed = [(p.tag, p.left, p.right) for p in pieces if p.tag != "equal"]
    assert changed == [("replace", "cat", "dog"), ("replace", ".", "!")]
    assert "".join(p.left for p in pieces) == "The cat sat on the mat."
    assert "".join(p.right for p in pieces) == "The dog sat on the mat!"
    assert 0.7 < similarity(pieces) < 1.0


def test_line_diff_keeps_lines_whole() -> None:
    pieces = answer_diff("a\nb\nc\n", "a\nB\nc\nd\n", "lines")
    assert [(p.tag, p.left, p.right) for p in pieces] == [
        ("equal", "a\n", "a\n"),
        ("replace", "b\n", "B\n"),
        ("equal", "c\n", "c\n"),
        ("insert", "", "d\n"),
    ]


def test_identical_and_empty_answers() -> None:
    assert similarity(answer_diff("same", "same")) == 1.0
    assert answer_diff("", "") == []
    assert similarity([]) == 1.0
    only_right = answer_diff("", "new words")
    assert [p.tag for p in only_right] == ["insert"] and similarity(only_right) == 0.0


def test_a_bad_diff_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="'words' or 'lines'"):
        answer_diff("a", "b", "chars")  # type: ignore[arg-type]
