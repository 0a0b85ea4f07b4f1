"""Model-name aliases: code written for Gemini (``model="gemini-3-flash-preview"``) runs here.

The engine serves one or a few local models; a Gemini name would otherwise be a 404 at the
first call. The alias table maps names (exact, or ``fnmatch`` patterns such as ``gemini-*``)
to a served model id, or to ``@default`` (the backend's first model). It is configurable
(``--model-alias NAME=MODEL``, ``--no-model-aliases``) and ``/models`` lists every exact alias
as its own entry that says which local model serves it, so nobody mistakes it for Gemini.

The interaction resource keeps the name the client sent as ``model`` (code written for Gemini
compares it); what serves that name is ``/models``' answer, and the app shows it from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from .backends.base import ModelInfo

DEFAULT_TARGET = "@default"
"""Alias target meaning "the backend's default (first) model"."""

GEMINI_NAMES: tuple[str, ...] = (
    "gemini-3.8-flash",
    "gemini-3.7-flash",
    "gemini-3.6-flash",
    "gemini-3.5-flash",
    "gemini-3.1-pro-preview",
    "gemini-3.1-pro-preview-customtools",
    "gemini-3.1-flash-lite",
    "gemini-3-flash-preview",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemini-pro-latest",
    "gemini-flash-latest",
    "gemini-flash-lite-latest",
)
"""The text models of the spec's ``ModelOption`` list, each listed by ``/models``."""

DEFAULT_ALIASES: tuple[tuple[str, str], ...] = (
    *((name, DEFAULT_TARGET) for name in GEMINI_NAMES),
    ("gemini-*", DEFAULT_TARGET),
)
"""The built-in table: every Gemini name (listed or not) is served by the default model."""


def parse_alias(text: str) -> tuple[str, str]:
    """``NAME=MODEL`` from the command line; raises ``ValueError`` with a plain message."""
    name, sep, target = text.partition("=")
    name, target = name.strip().removeprefix("models/"), target.strip()
    if not sep or not name or not target:
        raise ValueError(f"model alias {text!r} must look like NAME=MODEL (e.g. gemini-*=@default)")
    return name, target


@dataclass(frozen=True)
class AliasTable:
    """Ordered alias rules; the first rule whose name or pattern matches wins."""

    rules: tuple[tuple[str, str], ...] = DEFAULT_ALIASES

    def target(self, name: str, served: Sequence[ModelInfo]) -> ModelInfo | None:
        """The served model behind ``name`` (a served id wins over any alias)."""
        bare = name.removeprefix("models/")
        for info in served:
            if info.id == bare:
                return info
        for pattern, target in self.rules:
            if fnmatchcase(bare, pattern):
                return _resolve(target, served)
        return None

    def listed(self, served: Sequence[ModelInfo]) -> list[tuple[str, ModelInfo]]:
        """The exact (non-pattern) aliases that resolve, with the model serving each."""
        ids = {info.id for info in served}
        out: list[tuple[str, ModelInfo]] = []
        seen: set[str] = set()
        for name, target in self.rules:
            if _is_pattern(name) or name in ids or name in seen:
                continue
            info = _resolve(target, served)
            if info is not None:
                seen.add(name)
                out.append((name, info))
        return out

    def patterns(self, served: Sequence[ModelInfo]) -> list[tuple[str, ModelInfo]]:
        """The wildcard rules that resolve, with their model (named in ``/models``)."""
        out: list[tuple[str, ModelInfo]] = []
        for name, target in self.rules:
            info = _resolve(target, served) if _is_pattern(name) else None
            if info is not None:
                out.append((name, info))
        return out


def _is_pattern(name: str) -> bool:
    return any(ch in name for ch in "*?[")


def _resolve(target: str, served: Sequence[ModelInfo]) -> ModelInfo | None:
    if not served:
        return None
    if target == DEFAULT_TARGET:
        return served[0]
    return next((info for info in served if info.id == target), None)
