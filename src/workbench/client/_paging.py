"""Walking paged list endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from .errors import ProtocolViolationError
from .transport import Params, Transport, decode_json_object

MAX_PAGES = 10_000


async def iter_pages(
    transport: Transport,
    path: str,
    *,
    items_key: str,
    params: Params | None = None,
    page_size: int | None = None,
    size_param: str = "page_size",
    token_param: str = "page_token",
    next_key: str = "next_page_token",
    what: str,
) -> AsyncIterator[list[Any]]:
    """Yield each page's item list, following the next-page token until it is empty."""
    token: str | None = None
    seen_tokens: set[str] = set()
    for _ in range(MAX_PAGES):
        query: dict[str, str | int | bool | None] = dict(params or {})
        query[size_param] = page_size
        query[token_param] = token
        response = await transport.request("GET", path, params=query, what=what)
        data = decode_json_object(response, what)
        items = data.get(items_key) or []
        if not isinstance(items, list):
            raise ProtocolViolationError(f"{what}: {items_key!r} is not a list.")
        yield items
        nxt = data.get(next_key)
        if not isinstance(nxt, str) or not nxt:
            return
        if nxt in seen_tokens:
            raise ProtocolViolationError(f"{what}: the server repeated a page token.")
        seen_tokens.add(nxt)
        token = nxt
    raise ProtocolViolationError(f"{what}: more than {MAX_PAGES} pages.")
