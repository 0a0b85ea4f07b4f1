"""``client.models``: ``GET /{v}/models`` in Gemini's camelCase shape, every page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pydantic import ValidationError

from workbench.protocol import LENIENT, ModelInfo

from ._paging import iter_pages
from .errors import ProtocolViolationError
from .transport import Transport

__all__ = ["ModelInfo", "Models"]


def _model(item: Any) -> ModelInfo:
    if not isinstance(item, dict):
        raise ProtocolViolationError("list models: an entry is not a JSON object")
    try:
        return ModelInfo.model_validate(item, context=LENIENT)
    except ValidationError as exc:
        raise ProtocolViolationError(f"list models: invalid entry: {exc}") from None


class Models:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def iter(self, *, page_size: int | None = None) -> AsyncIterator[ModelInfo]:
        async for page in iter_pages(
            self._t,
            "models",
            items_key="models",
            page_size=page_size,
            size_param="pageSize",
            token_param="pageToken",
            next_key="nextPageToken",
            what="list models",
        ):
            for item in page:
                yield _model(item)

    async def list(self, *, page_size: int | None = None) -> list[ModelInfo]:
        return [m async for m in self.iter(page_size=page_size)]
