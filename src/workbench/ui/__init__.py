"""The PySide6 desktop app: widgets, item models and controllers (Qt lives only here)."""
