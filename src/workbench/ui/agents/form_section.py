"""What every group of the agent form shares, so each group can live in its own module.

A section is one titled group box that edits part of an :class:`AgentDefinition`: it fills
its widgets from a definition (``load``) without reporting that as an edit, writes them back
(``apply_to``), and owns the error labels shown under its fields (``errors``, keyed by the
``Problem.field`` that ``validate`` reports).

Signals:
    changed(): the user edited a field of this section.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGroupBox, QLabel, QWidget

from workbench.core.agents import AgentDefinition

from ..plain import plain_label


def error_label() -> QLabel:
    """A hidden red label for the messages about one field."""
    label = plain_label(QLabel())
    label.setWordWrap(True)
    label.setStyleSheet("color: #cf222e;")
    label.hide()
    return label


class FormSection(QGroupBox):
    """One group of the agent form; subclasses build the widgets and map them to a definition."""

    changed = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self._loading = False
        self.errors: dict[str, QLabel] = {}

    def load(self, defn: AgentDefinition) -> None:
        """Show ``defn`` in this section's widgets (called inside :meth:`loading`)."""
        raise NotImplementedError(f"{type(self).__name__} does not load a definition")

    def apply_to(self, defn: AgentDefinition) -> None:
        """Write this section's fields back into ``defn``."""
        raise NotImplementedError(f"{type(self).__name__} does not apply to a definition")

    @contextmanager
    def loading(self) -> Iterator[None]:
        """Programmatic changes inside this block are not reported as the user's edits."""
        self._loading = True
        try:
            yield
        finally:
            self._loading = False

    def _changed(self, *_args: object) -> None:
        if not self._loading:
            self.changed.emit()
