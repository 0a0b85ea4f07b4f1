"""Settings: profiles on the left, the selected profile on the right.

Keys go to the OS keyring through ``core.secrets.SecretStore``; the dialog shows which
backend holds each key, says plainly when no usable keyring exists, and then offers to keep
the key for this session only. It never writes a key anywhere else.

Signals:
    settings_accepted(list, str): the edited profiles and the active profile id.
    test_requested(object): a Profile to test (the controller answers with show_test_result).
"""

from __future__ import annotations

import html
import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from workbench.core.profiles import LOCAL_BACKENDS, Profile, check_profile
from workbench.core.secrets import SecretStore, SecretStoreError

from .plain import plain_label

_KINDS = {"local": "Local engine", "gemini": "Gemini API", "custom": "Other Interactions server"}
_URL_HINTS = {
    "local": "chosen by the engine (127.0.0.1, a free port)",
    "gemini": "https://generativelanguage.googleapis.com",
    "custom": "https://your-server.example",
}
_TARGET_HINTS = {
    "local": "the engine's first model (e.g. qwen2.5-coder-0.5b)",
    "gemini": "e.g. gemini-3-flash-preview",
    "custom": "a model id the server lists",
}


_BACKEND_LABELS = {
    "llama": "llama.cpp (local model)",
    "openai": "OpenAI-compatible server (pick it on the Models page)",
}


class SettingsDialog(QDialog):
    """Profiles, keys and "Test connection". Open with ``open()``, never ``exec()``."""

    settings_accepted = Signal(list, str)
    test_requested = Signal(object)

    def __init__(
        self,
        profiles: list[Profile],
        active: str,
        secrets: SecretStore,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings — Workbench")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self._fit(820, 640)
        self.secrets = secrets
        self.profiles = [p.model_copy() for p in profiles]
        self._current = -1

        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Active profile:"))
        self.active = QComboBox()
        self.active.setAccessibleName("Active profile")
        top.addWidget(self.active, 1)
        outer.addLayout(top)

        body = QHBoxLayout()
        left = QVBoxLayout()
        self.list = QListWidget()
        self.list.setAccessibleName("Profiles")
        self.list.setMaximumWidth(200)
        left.addWidget(self.list, 1)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add server")
        self.remove_button = QPushButton("Remove")
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        left.addLayout(row)
        body.addLayout(left)

        right_box = QWidget()
        right = QVBoxLayout(right_box)
        right.setContentsMargins(0, 0, 6, 0)
        form_box = QGroupBox("Profile")
        form = QFormLayout(form_box)
        # Rows keep their natural height (descenders were clipped when squeezed).
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.name = QLineEdit()
        self.kind = QComboBox()
        for key, label in _KINDS.items():
            self.kind.addItem(label, key)
        self.base_url = QLineEdit()
        self.api_version = QLineEdit()
        self.backend = QComboBox()
        for b in LOCAL_BACKENDS:
            self.backend.addItem(_BACKEND_LABELS.get(b, b), b)
        self.default_target = QLineEdit()
        for label, w in (
            ("Name", self.name),
            ("Kind", self.kind),
            ("Server URL", self.base_url),
            ("API version", self.api_version),
            ("Local backend", self.backend),
            ("Default target", self.default_target),
        ):
            w.setAccessibleName(label)
            form.addRow(label, w)
        self.problems = plain_label(QLabel())
        self.problems.setStyleSheet("color: #cf222e;")
        self.problems.setWordWrap(True)
        form.addRow(self.problems)
        right.addWidget(form_box)

        self.key_box = QGroupBox("API key")
        key_form = QVBoxLayout(self.key_box)
        self.keyring_note = QLabel()
        self.keyring_note.setTextFormat(Qt.TextFormat.RichText)  # its own <b>; the rest escaped
        self.keyring_note.setWordWrap(True)
        key_form.addWidget(self.keyring_note)
        key_row = QHBoxLayout()
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("Paste the API key")
        self.key.setAccessibleName("API key")
        self.save_key = QPushButton("Save key")
        self.forget_key = QPushButton("Forget key")
        key_row.addWidget(self.key, 1)
        key_row.addWidget(self.save_key)
        key_row.addWidget(self.forget_key)
        key_form.addLayout(key_row)
        self.session_only = QCheckBox("Keep the key for this session only (never written to disk)")
        key_form.addWidget(self.session_only)
        self.badge = plain_label(QLabel())
        self.badge.setObjectName("keyBadge")
        self.badge.setWordWrap(True)  # a long "Not saved: …" must not widen the dialog
        key_form.addWidget(self.badge)
        right.addWidget(self.key_box)

        test_row = QHBoxLayout()
        self.test_button = QPushButton("Test connection")
        self.test_result = plain_label(QLabel())
        self.test_result.setWordWrap(True)
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)
        right.addLayout(test_row)
        right.addStretch(1)
        self._right = right
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(right_box)
        body.addWidget(scroll, 1)
        outer.addLayout(body, 1)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        outer.addWidget(self.buttons)

        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self.list.currentRowChanged.connect(self._select)
        self.add_button.clicked.connect(self._add)
        self.remove_button.clicked.connect(self._remove)
        self.save_key.clicked.connect(self._save_key)
        self.forget_key.clicked.connect(self._forget_key)
        self.test_button.clicked.connect(self._test)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._refill(active)

    def _fit(self, width: int, height: int) -> None:
        """A size that fits the screen, and a limit so that no message can push OK off it."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            free = screen.availableGeometry()
            self.setMaximumSize(free.width() - 20, free.height() - 40)
            width, height = min(width, free.width() - 40), min(height, free.height() - 80)
        self.resize(width, height)

    def add_section(self, widget: QWidget) -> None:
        """Add a settings section (e.g. tool approvals) under the profile."""
        self._right.insertWidget(self._right.count() - 1, widget)

    # --- profile list --------------------------------------------------------------------

    def _refill(self, active: str, select: int = 0) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        self.active.clear()
        for p in self.profiles:
            self.list.addItem(p.name)
            self.active.addItem(p.name, p.id)
        self.list.blockSignals(False)
        self.active.setCurrentIndex(max(0, self.active.findData(active)))
        self._current = -1
        self.list.setCurrentRow(min(select, len(self.profiles) - 1))

    def _store_form(self) -> bool:
        if not 0 <= self._current < len(self.profiles):
            return True
        old = self.profiles[self._current]
        profile = old.model_copy(
            update={
                "name": self.name.text().strip(),
                "kind": self.kind.currentData(),
                "base_url": self.base_url.text().strip().rstrip("/"),
                "api_version": self.api_version.text().strip(),
                "local_backend": self.backend.currentData(),
                "default_target": self.default_target.text().strip(),
            }
        )
        problems = check_profile(profile)
        self.problems.setText("\n".join(problems))
        if problems:
            return False
        self.profiles[self._current] = profile
        self.list.item(self._current).setText(profile.name)
        self.active.setItemText(self._current, profile.name)
        return True

    def _select(self, row: int) -> None:
        if self._current != -1 and row != self._current and not self._store_form():
            self.list.blockSignals(True)
            self.list.setCurrentRow(self._current)
            self.list.blockSignals(False)
            return
        self._current = row
        if not 0 <= row < len(self.profiles):
            return
        p = self.profiles[row]
        self.name.setText(p.name)
        self.kind.setCurrentIndex(max(0, self.kind.findData(p.kind)))
        self.base_url.setText(p.base_url)
        self.api_version.setText(p.api_version)
        self.backend.setCurrentIndex(max(0, self.backend.findData(p.local_backend)))
        self.default_target.setText(p.default_target)
        self.problems.clear()
        self.test_result.clear()
        self.key.clear()
        self._kind_changed()

    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        local = kind == "local"
        self.base_url.setPlaceholderText(_URL_HINTS.get(str(kind), ""))
        self.default_target.setPlaceholderText(_TARGET_HINTS.get(str(kind), ""))
        self.base_url.setEnabled(not local)
        self.backend.setEnabled(local)
        self.base_url.setToolTip("The local engine picks its own loopback address" if local else "")
        self.key_box.setVisible(not local)
        self._update_key_state()

    def _add(self) -> None:
        if not self._store_form():
            return
        taken = {p.id for p in self.profiles}
        n = 1
        while f"server-{n}" in taken:
            n += 1
        self.profiles.append(
            Profile(id=f"server-{n}", name=f"Server {n}", kind="custom", base_url="https://")
        )
        self._refill(str(self.active.currentData()), len(self.profiles) - 1)
        self.name.setFocus()

    def _remove(self) -> None:
        row = self.list.currentRow()
        if not 0 <= row < len(self.profiles) or len(self.profiles) == 1:
            return
        if self.profiles[row].kind == "local" and sum(p.is_local for p in self.profiles) == 1:
            self.problems.setText("The Local engine profile cannot be removed.")
            return
        removed = self.profiles.pop(row)
        self._current = -1
        active = str(self.active.currentData())
        self._refill(self.profiles[0].id if active == removed.id else active, max(0, row - 1))

    # --- keys ----------------------------------------------------------------------------

    def _profile_id(self) -> str:
        return self.profiles[self._current].id if 0 <= self._current < len(self.profiles) else ""

    def _update_key_state(self) -> None:
        status = self.secrets.status()
        if status.usable:
            self.keyring_note.setText(
                f"Keys are kept in the system keyring ({status.backend.rsplit('.', 1)[-1]}), "
                "never in Workbench's files."
            )
            self.session_only.setChecked(False)
            self.session_only.hide()
        else:
            self.keyring_note.setText(
                f"<b>No usable keyring:</b> {html.escape(status.reason)}. Workbench never "
                "writes keys to "
                "disk, so the key can only be kept for this session."
            )
            self.session_only.show()
        self.badge.setText(f"Key: {self.secrets.where(self._profile_id())}")

    def _save_key(self) -> None:
        key = self.key.text().strip()
        pid = self._profile_id()
        if not pid:
            return
        try:
            self.secrets.set(pid, key, session_only=self.session_only.isChecked())
        except SecretStoreError as exc:
            self.badge.setText(f"Not saved: {exc}")
            return
        self.key.clear()
        self._update_key_state()

    def _forget_key(self) -> None:
        pid = self._profile_id()
        try:
            self.secrets.delete(pid)
        except SecretStoreError as exc:
            self.badge.setText(f"Not removed: {exc}")
            return
        self._update_key_state()

    # --- test and accept -----------------------------------------------------------------

    def _test(self) -> None:
        if not self._store_form():
            return
        if self.key.text().strip():
            self._save_key()
        self.test_result.setStyleSheet("")
        self.test_result.setText("Testing…")
        self.test_button.setEnabled(False)
        self.test_requested.emit(self.profiles[self._current])

    def show_test_result(self, ok: bool, message: str) -> None:
        self.test_button.setEnabled(True)
        self.test_result.setStyleSheet("color: #1a7f37;" if ok else "color: #cf222e;")
        self.test_result.setText(("✓ " if ok else "✗ ") + message)

    def _accept(self) -> None:
        if not self._store_form():
            return
        ids = [p.id for p in self.profiles]
        if len(set(ids)) != len(ids):
            self.problems.setText("Two profiles share an id.")
            return
        for p in self.profiles:
            if not re.match(r"^[A-Za-z0-9_.-]{1,64}$", p.id):
                self.problems.setText(f"Profile id {p.id!r} is not valid.")
                return
        self.settings_accepted.emit(self.profiles, str(self.active.currentData()))
        self.accept()
