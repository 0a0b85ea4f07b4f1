"""Fuzzy matching for the command palette."""

from __future__ import annotations

from workbench.core.fuzzy import rank, score

NAMES = [
    "Export session as Markdown",
    "New session",
    "Sandbox files",
    "Search sessions",
    "Settings",
    "Keyboard shortcuts",
]


def test_characters_in_order_match_and_others_do_not() -> None:
    assert score("nwses", "New session") is not None
    assert score("sesnew", "New session") is None
    assert score("xyz", "New session") is None
    assert score("", "anything") == 0.0
    assert score("NEW SES", "New session") is not None  # case and spaces ignored


def test_word_starts_and_runs_rank_first() -> None:
    assert rank("ns", NAMES, key=str)[0] == "New session"
    assert rank("sett", NAMES, key=str)[0] == "Settings"
    assert rank("kbd", NAMES, key=str) == ["Keyboard shortcuts"]
    assert rank("sf", NAMES, key=str)[0] == "Sandbox files"


def test_no_query_keeps_every_item_in_order() -> None:
    assert rank("  ", NAMES, key=str) == NAMES


def test_ties_keep_the_given_order() -> None:
    assert rank("a", ["b a", "c a"], key=str) == ["b a", "c a"]
