"""Approving client-side function calls: the persistent allow-list and the run's own.

A function the model calls is run by Workbench only after the user allowed it: once, for
the rest of the run, or always (the tool's name goes on the allow-list, kept in
``approvals.json`` in the config dir and editable in Settings). Tools the server runs
itself (code execution, search, MCP on the server) cannot be gated by the app.
"""

from __future__ import annotations

import json
import logging
from enum import StrEnum
from pathlib import Path

from .atomic import write_atomic

log = logging.getLogger(__name__)


class Decision(StrEnum):
    """What the user chose on an approval card."""

    ONCE = "once"
    RUN = "run"
    ALWAYS = "always"
    DENY = "deny"


DENIED_RESULT = {"error": "The user denied this call."}


class AllowList:
    """Tool names that never need approval; stored in ``path`` (JSON, written atomically)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tools: set[str] = set()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            self._tools = {str(t) for t in raw.get("always_allowed", [])}
        except FileNotFoundError:
            pass
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("approvals file %s unreadable (%s); starting empty", path, exc)

    def tools(self) -> list[str]:
        return sorted(self._tools)

    def allows(self, tool: str) -> bool:
        return tool in self._tools

    def add(self, tool: str) -> None:
        self._tools.add(tool)
        self._save()

    def remove(self, tool: str) -> None:
        self._tools.discard(tool)
        self._save()

    def set_tools(self, tools: list[str]) -> None:
        self._tools = set(tools)
        self._save()

    def _save(self) -> None:
        write_atomic(
            self.path, json.dumps({"always_allowed": sorted(self._tools)}, indent=2) + "\n"
        )
