"""Functions Workbench itself can run when a model calls them (client-side tools).

A handler takes the call's arguments and returns a JSON-able result. Calls to functions
without a handler are answered by the user, who types the result on the approval card.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
from collections.abc import Awaitable, Callable
from typing import Any

Handler = Callable[[dict[str, Any]], Awaitable[Any] | Any]


async def _current_time(_args: dict[str, Any]) -> dict[str, str]:
    return {"utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}


class ToolRegistry:
    """Name → handler. ``run`` awaits coroutine handlers and calls plain ones directly."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {"get_current_time": _current_time}

    def register(self, name: str, handler: Handler) -> None:
        self._handlers[name] = handler

    def has(self, name: str) -> bool:
        return name in self._handlers

    def names(self) -> list[str]:
        return sorted(self._handlers)

    async def run(self, name: str, args: dict[str, Any]) -> Any:
        result = self._handlers[name](args)
        if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
            return await result
        return result
