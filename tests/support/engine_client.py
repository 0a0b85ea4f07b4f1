"""The app's own engine process (scripted backend, with test flags) and a client for it.

For tests that need a real engine with a fault injected (``--inject-fault stall``,
``--max-background-runs 1``…): started through ``EngineProcess`` as the app starts it, and
always stopped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from workbench.client import Client
from workbench.core.engine_process import EngineProcess, read_engine_file


@asynccontextmanager
async def scripted_engine(folder: Path, *flags: str) -> AsyncIterator[Client]:
    """A client of a scripted engine in ``folder`` started with ``flags``."""
    engine = EngineProcess(folder, backend="scripted", extra_args=flags)
    await engine.start()
    try:
        info = read_engine_file(folder)
        assert info is not None
        client = Client(info.url, api_key=info.token)
        try:
            yield client
        finally:
            await client.aclose()
    finally:
        await engine.stop()
