from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from workbench.core.history import AttachmentInfo, HistoryError, HistoryStore
from workbench.core.history_schema import MIGRATIONS, SCHEMA_VERSION
from workbench.core.history_search import fts_query


def _answer(iid: str, text: str, status: str = "completed") -> dict[str, object]:
    return {
        "id": iid,
        "status": status,
        "steps": [{"type": "model_output", "content": [{"type": "text", "text": text}]}],
    }


def _user(text: str) -> list[dict[str, object]]:
    return [{"type": "user_input", "content": [{"type": "text", "text": text}]}]


@pytest.fixture
def store(tmp_path: Path) -> HistoryStore:
    s = HistoryStore(tmp_path / "h.sqlite3")
    yield s
    s.close()


def test_schema_version_and_wal(store: HistoryStore) -> None:
    assert store.schema_version == SCHEMA_VERSION
    assert store.journal_mode() == "wal"


def test_migrates_a_version_1_database(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[1] + "; PRAGMA user_version = 1;")
    db.execute("INSERT INTO sessions(id, title, created, updated) VALUES ('s1', 'old', 1, 1)")
    db.commit()
    db.close()
    store = HistoryStore(path)
    try:
        assert store.schema_version == SCHEMA_VERSION
        assert store.session("s1").title == "old"
    finally:
        store.close()


def test_refuses_a_newer_database(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(HistoryError, match="newer Workbench"):
        HistoryStore(path)


def test_save_update_and_search(store: HistoryStore) -> None:
    s = store.create_session("Weather chat", profile="local")
    store.save_interaction(
        s.id,
        "v1_a",
        parent_id=None,
        input_blocks=_user("What is the capital of Peru?"),
        request={"model": "m1", "input": "x"},
        data={"id": "v1_a", "status": "in_progress"},
        attachments=[AttachmentInfo("a.png", "image/png", 10, "ab" * 32, "sent inline (base64)")],
    )
    store.save_interaction(
        s.id,
        "v1_a",
        parent_id=None,
        input_blocks=_user("What is the capital of Peru?"),
        request={"model": "m1"},
        data=_answer("v1_a", "Lima is the capital."),
        metrics={"ttft": 0.1},
    )
    rec = store.interaction("v1_a")
    assert rec is not None
    assert rec.status == "completed"
    assert rec.target == "m1"
    assert rec.metrics == {"ttft": 0.1}
    assert rec.attachments[0].name == "a.png"
    assert store.session(s.id).leaf_id == "v1_a"
    other = store.create_session("Something else")
    assert [x.id for x in store.sessions("lim")] == [s.id]  # prefix match on the answer
    assert [x.id for x in store.sessions("peru capital")] == [s.id]
    assert [x.id for x in store.sessions("weather")] == [s.id]  # the title
    assert store.sessions("nowhere-to-be-found") == []
    assert {x.id for x in store.sessions("")} == {s.id, other.id}
    assert store.sessions('"; DROP TABLE sessions; --') == []


def test_rename_pin_delete(store: HistoryStore) -> None:
    a = store.create_session("alpha")
    b = store.create_session("beta")
    store.rename_session(a.id, "gamma")
    assert store.session(a.id).title == "gamma"
    assert [s.id for s in store.sessions("gamma")] == [a.id]
    assert store.sessions("alpha") == []
    store.set_pinned(a.id, True)
    assert store.sessions()[0].id == a.id  # pinned first even though older
    store.save_interaction(
        b.id,
        "v1_b",
        parent_id=None,
        input_blocks=_user("hi"),
        request={},
        data=_answer("v1_b", "x"),
    )
    store.delete_session(b.id)
    assert [s.id for s in store.sessions()] == [a.id]
    assert store.interaction("v1_b") is None
    assert store.sessions("hi") == []


def test_fts_query_quotes_words() -> None:
    assert fts_query('say "hi" OR x*') == '"say"* "hi"* "OR"* "x"*'
    assert fts_query("  ") == ""
