"""The server-credentials section of Settings, beside the API keys.

Lists the connected server's credentials (id, kind, status; the value always masked — the
server never sends it back) and adds, replaces or deletes them. The values are kept in the
server's OS keyring (the local engine's ``workbench-engine`` service); an environment names
one as ``{"credential": "<id>"}`` in its ``env``.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.connection import Connection
from workbench.core.errors import explain
from workbench.core.schedules import ServerCredentials
from workbench.core.tasks import TaskManager
from workbench.protocol import Credential

from .plain import plain_label
from .schedules.list_detail import confirm, list_table, when

KINDS = (
    ("environment_variable", "Environment variable"),
    ("bearer_token", "Bearer token"),
    ("oauth2", "OAuth2 (refresh token)"),
)
MASK = "••••••••"


def _secret_field(placeholder: str) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setPlaceholderText(placeholder)
    return field


class CredentialsEditor(QGroupBox):
    """Server credentials: a list and a form; every call is a named task."""

    def __init__(self, tasks: TaskManager, connection: Callable[[], Connection | None]) -> None:
        super().__init__("Server credentials")
        self.tasks = tasks
        self._connection = connection
        self._items: list[Credential] = []
        self.dialog: QWidget | None = None
        layout = QVBoxLayout(self)
        note = QLabel(
            "Secrets the server keeps in its OS keyring for agents' environments (an "
            'environment\'s env names one as {"credential": "id"}). Values are never shown '
            "again after they are saved."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        self.table = list_table(["ID", "Kind", "Status", "Value", "Updated"])
        self.table.setMaximumHeight(140)
        self.table.itemSelectionChanged.connect(self._selection)
        layout.addWidget(self.table)

        form = QFormLayout()
        self.ident = QLineEdit()
        self.ident.setPlaceholderText("e.g. github-token")
        self.kind = QComboBox()
        for value, label in KINDS:
            self.kind.addItem(label, value)
        self.value = _secret_field("the secret value")
        self.domains = QLineEdit()
        self.domains.setPlaceholderText("api.github.com, *.example.com (optional)")
        self.client_id = QLineEdit()
        self.token_url = QLineEdit()
        self.token_url.setPlaceholderText("https://oauth2.example.com/token")
        self.client_secret = _secret_field("client secret")
        self.refresh_token = _secret_field("refresh token")
        form.addRow("ID", self.ident)
        form.addRow("Kind", self.kind)
        self._rows: dict[str, list[QWidget]] = {}
        for label, widget, kinds in (
            ("Value", self.value, ("environment_variable", "bearer_token")),
            ("Trusted domains", self.domains, ("environment_variable",)),
            ("Client ID", self.client_id, ("oauth2",)),
            ("Token URL", self.token_url, ("oauth2",)),
            ("Client secret", self.client_secret, ("oauth2",)),
            ("Refresh token", self.refresh_token, ("oauth2",)),
        ):
            form.addRow(label, widget)
            for kind in kinds:
                self._rows.setdefault(kind, []).append(widget)
        self._form = form
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add")
        self.replace_button = QPushButton("Replace secret")
        self.delete_button = QPushButton("Delete")
        self.refresh_button = QPushButton("Refresh")
        for button in (self.add_button, self.replace_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        layout.addLayout(buttons)
        self.message = plain_label(QLabel())
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.kind.currentIndexChanged.connect(lambda _i: self._kind_changed())
        self.add_button.clicked.connect(self.add)
        self.replace_button.clicked.connect(self.replace)
        self.delete_button.clicked.connect(self._confirm_delete)
        self.refresh_button.clicked.connect(self.reload)
        self._kind_changed()
        self._selection()
        self.reload()

    # --- helpers ------------------------------------------------------------------------

    def _service(self) -> ServerCredentials | None:
        conn = self._connection()
        if conn is None:
            self.say("Not connected: connect to a server to manage its credentials.", True)
            return None
        return ServerCredentials(conn.client)

    def say(self, text: str, problem: bool = False) -> None:
        self.message.setStyleSheet("color: #b3261e" if problem else "")
        self.message.setText(text)

    def _kind_changed(self) -> None:
        kind = str(self.kind.currentData())
        for widgets in self._rows.values():
            for widget in widgets:
                self._form.setRowVisible(widget, False)
        for widget in self._rows.get(kind, []):
            self._form.setRowVisible(widget, True)

    def _secrets(self, kind: str) -> dict[str, str]:
        if kind == "environment_variable":
            return {"value": self.value.text()}
        if kind == "bearer_token":
            return {"token": self.value.text()}
        return {"client_secret": self.client_secret.text(),
                "refresh_token": self.refresh_token.text()}  # fmt: skip

    def _fields(self, kind: str) -> dict[str, object]:
        if kind == "environment_variable":
            domains = [d.strip() for d in self.domains.text().split(",") if d.strip()]
            return {"injection_location": "header",
                    **({"trusted_domains": domains} if domains else {})}  # fmt: skip
        if kind == "oauth2":
            return {"client_id": self.client_id.text().strip(),
                    "token_url": self.token_url.text().strip()}  # fmt: skip
        return {}

    def _clear_secrets(self) -> None:
        for field in (self.value, self.client_secret, self.refresh_token):
            field.clear()

    def current(self) -> Credential | None:
        rows = self.table.selectionModel().selectedRows()
        return self._items[rows[0].row()] if rows and rows[0].row() < len(self._items) else None

    def _selection(self) -> None:
        cred = self.current()
        self.replace_button.setEnabled(cred is not None)
        self.delete_button.setEnabled(cred is not None)
        if cred is not None:
            self.ident.setText(cred.id or "")
            index = self.kind.findData(cred.type)
            if index >= 0:
                self.kind.setCurrentIndex(index)

    # --- calls ----------------------------------------------------------------------------

    def reload(self) -> None:
        service = self._service()
        if service is not None:
            self.tasks.start("credentials-list", self._reload(service))

    async def _reload(self, service: ServerCredentials) -> None:
        try:
            items = await service.all()
        except Exception as exc:
            self.say(explain(exc, service.client.base_url), True)
            return
        self._items = items
        self.table.setRowCount(len(items))
        for row, cred in enumerate(items):
            kind = dict(KINDS).get(cred.type or "", cred.type or "")
            cells = [cred.id or "", kind, cred.status or "", MASK, when(cred.update_time)]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, col, item)
        if not items:
            self.say("No credentials on this server yet.")

    def add(self) -> None:
        service = self._service()
        if service is None:
            return
        kind = str(self.kind.currentData())
        ident, secrets, fields = self.ident.text(), self._secrets(kind), self._fields(kind)

        async def go() -> None:
            try:
                made = await service.create(ident, kind, secrets, fields)
            except ValueError as exc:
                self.say(str(exc).capitalize() + ".", True)
                return
            except Exception as exc:
                self.say(explain(exc, service.client.base_url), True)
                return
            self._clear_secrets()
            self.say(f"Saved “{made.id}” in the server's keyring.")
            await self._reload(service)

        self.tasks.start("credentials-add", go())

    def replace(self) -> None:
        service, cred = self._service(), self.current()
        if service is None or cred is None or not cred.id or not cred.type:
            return
        cred_id, kind, secrets = cred.id, cred.type, self._secrets(cred.type)

        async def go() -> None:
            try:
                await service.replace_secret(cred_id, kind, secrets)
            except ValueError as exc:
                self.say(str(exc).capitalize() + ".", True)
                return
            except Exception as exc:
                self.say(explain(exc, service.client.base_url), True)
                return
            self._clear_secrets()
            self.say(f"Replaced the secret of “{cred_id}”.")
            await self._reload(service)

        self.tasks.start("credentials-replace", go())

    def _confirm_delete(self) -> None:
        cred = self.current()
        if cred is None or not cred.id:
            return
        cred_id = cred.id
        self.dialog = confirm(
            self, "Delete credential",
            f"Delete “{cred_id}” from the server's keyring? Environments that name it stop "
            "getting it.", lambda: self.delete(cred_id),
        )  # fmt: skip

    def delete(self, cred_id: str) -> None:
        service = self._service()
        if service is None:
            return

        async def go() -> None:
            try:
                await service.delete(cred_id)
            except Exception as exc:
                self.say(explain(exc, service.client.base_url), True)
                return
            self.say(f"Deleted “{cred_id}”.")
            await self._reload(service)

        self.tasks.start("credentials-delete", go())
