"""Sandbox files dock: browse, preview, save, upload the files of a run's environment."""
