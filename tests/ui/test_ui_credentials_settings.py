"""The server-credentials section of Settings against the real engine and a private keyring:
add (the value lands in the engine's keyring, the list shows it masked), replace, refuse an
incomplete OAuth2 credential, delete after confirming."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import keyring
import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from support.rel_engine import TOKEN, Engine
from workbench.client import Client
from workbench.core.connection import Connection
from workbench.core.profiles import default_profiles
from workbench.core.tasks import TaskManager
from workbench.ui.credentials_settings import MASK, CredentialsEditor

pytestmark = pytest.mark.timeout(120)


def _row(editor: CredentialsEditor, row: int) -> list[str]:
    return [editor.table.item(row, c).text() for c in range(editor.table.columnCount())]


async def test_credentials_section(
    qtbot: QtBot, keyring_env: Path, tmp_path: Path, until: Any
) -> None:
    eng = Engine(tmp_path / "engine").start()
    client = Client(eng.url, api_key=TOKEN)
    conn = Connection(default_profiles()[0], client)
    editor = CredentialsEditor(TaskManager(), lambda: conn)
    qtbot.addWidget(editor)
    editor.resize(620, 520)
    editor.show()
    value = "ghp_" + secrets.token_hex(12)
    try:
        await until(lambda: "No credentials" in editor.message.text(), what="the empty list")
        assert editor.client_id.isHidden() and not editor.value.isHidden()
        editor.ident.setText("github-token")
        editor.value.setText(value)
        editor.domains.setText("api.github.com")
        editor.add_button.click()
        await until(lambda: editor.table.rowCount() == 1, what="the saved credential")
        assert _row(editor, 0)[:4] == ["github-token", "Environment variable", "active", MASK]
        assert editor.value.text() == ""  # the field is emptied once sent
        stored = keyring.get_password("workbench-engine", "credential/github-token/value")
        assert stored == value
        editor.grab().save(str(tmp_path / "credentials.png"))

        editor.table.selectRow(0)
        newer = "ghp_" + secrets.token_hex(12)
        editor.value.setText(newer)
        editor.replace_button.click()
        await until(lambda: "Replaced" in editor.message.text(), what="the replaced secret")
        assert keyring.get_password("workbench-engine", "credential/github-token/value") == newer

        editor.kind.setCurrentIndex(editor.kind.findData("oauth2"))
        assert not editor.client_id.isHidden() and editor.value.isHidden()
        editor.ident.setText("drive")
        editor.client_id.setText("cid")
        editor.token_url.setText("https://oauth2.example/token")
        editor.add_button.click()
        await until(lambda: "client secret" in editor.message.text(), what="the refusal")

        editor.table.selectRow(0)
        editor.delete_button.click()
        box = editor.dialog
        assert isinstance(box, QMessageBox)
        box.button(QMessageBox.StandardButton.Yes).click()
        await until(lambda: editor.table.rowCount() == 0, what="deleted")
        assert keyring.get_password("workbench-engine", "credential/github-token/value") is None
    finally:
        await client.aclose()
        eng.stop()
