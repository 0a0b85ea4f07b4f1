"""One live interaction as the runner drives it (``Run``), and how a run ends (``Outcome``).

Apart from :mod:`.runner` so that what a run executes (:mod:`.model_run`,
:mod:`.agent.runs`, :mod:`.research.runs`) can take a ``Run`` without importing the
runner (or :mod:`.run_execution`) that starts it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .backends.base import GenerationRequest
from .convert import OutputAssembler
from .eventlog import Channel
from .status import resource_view
from .store import InteractionRecord

Outcome = tuple[str, list[dict[str, str]] | None]
"""A run's final status and its ``errors`` (None when there are none)."""


@dataclass(eq=False)
class Run:
    """One live interaction."""

    record: InteractionRecord
    channel: Channel
    request: GenerationRequest
    background: bool
    store: bool
    continuable: bool
    assembler: OutputAssembler
    thought_summaries: bool = True
    cancel_event: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    abort_status: str = "cancelled"
    abort_errors: list[dict[str, str]] | None = None
    task: asyncio.Task[None] | None = None
    gen_task: asyncio.Task[Outcome] | None = None
    work: Callable[[Run], Awaitable[Outcome]] | None = None
    since_checkpoint: int = 0

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def status(self) -> str:
        return self.record.status

    def snapshot(self, include_input: bool = False) -> dict[str, Any]:
        """The Interaction resource as of now (partial steps included)."""
        return resource_view(self.record, self.assembler.steps, include_input)
