"""The ``workbench`` command's key and export sub-commands."""

from __future__ import annotations

import io
import json
from pathlib import Path

import keyring
import keyring.core
import pytest
from keyring.backends import SecretService, fail

from workbench.cli import main
from workbench.core.history import HistoryStore
from workbench.core.paths import resolve_paths

KEY = "AIzaCLI-not-a-real-key-91b2"


@pytest.fixture
def real_keyring(keyring_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyring.core, "_keyring_backend", SecretService.Keyring())


@pytest.mark.usefixtures("real_keyring")
def test_key_set_and_status_with_the_real_keyring(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], _workbench_home: Path
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(KEY + "\n"))
    assert main(["key", "set", "gemini"]) == 0
    out = capsys.readouterr().out
    assert "system keyring" in out
    assert KEY not in out
    assert keyring.get_password("workbench", "gemini") == KEY
    assert main(["key", "status"]) == 0
    out = capsys.readouterr().out
    assert "SecretService" in out
    assert "gemini: system keyring" in out
    assert "local: not needed" in out
    for path in _workbench_home.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes()
    keyring.delete_password("workbench", "gemini")


def test_key_set_without_keyring_refuses_plainly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(keyring.core, "_keyring_backend", fail.Keyring())
    monkeypatch.setattr("sys.stdin", io.StringIO(KEY + "\n"))
    assert main(["key", "set", "gemini"]) == 1
    err = capsys.readouterr().err
    assert "no system keyring" in err
    assert KEY not in err
    assert main(["key", "set", "nope"]) == 2


def test_export_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = resolve_paths().ensure()
    store = HistoryStore(paths.history_db)
    old = store.create_session("Older")
    new = store.create_session("Newest chat")
    store.save_interaction(
        new.id,
        "v1_n",
        parent_id=None,
        input_blocks=[{"type": "user_input", "content": [{"type": "text", "text": "Hi there"}]}],
        request={"model": "scripted"},
        data={
            "id": "v1_n",
            "status": "completed",
            "steps": [{"type": "model_output", "content": [{"type": "text", "text": "Hello!"}]}],
        },
    )
    store.close()
    md = tmp_path / "out.md"
    assert main(["export", "--latest", "--format", "md", "--output", str(md)]) == 0
    text = md.read_text()
    assert text.startswith("# Newest chat")
    assert "Hi there" in text
    assert "Hello!" in text
    js = tmp_path / "out.json"
    assert main(["export", "--session", new.id, "--format", "json", "--output", str(js)]) == 0
    trace = json.loads(js.read_text())
    assert trace["turns"][0]["interaction_id"] == "v1_n"
    assert main(["export", "--session", old.id, "--format", "md", "--output", "-"]) == 0
    assert "# Older" in capsys.readouterr().out
    assert main(["export", "--session", "missing", "--format", "md", "--output", "-"]) == 1
    assert "no session" in capsys.readouterr().err
