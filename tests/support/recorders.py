"""Small helpers for tests that drive ``workbench.client``."""

from __future__ import annotations

import asyncio

API_KEY = "AIzaSy-test-SECRET-key-0123456789"
"""A fake API key that the redaction tests hunt for in errors, logs and reprs."""


class SleepRecorder:
    """Injected as the client's ``sleep``: records each requested delay, waits only a tick."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)
