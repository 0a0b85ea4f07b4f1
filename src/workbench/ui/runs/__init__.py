"""Runs dock: background runs, their progress, approvals and notifications."""
