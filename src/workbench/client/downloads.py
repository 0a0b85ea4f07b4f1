"""Downloads: following redirects without leaking the credential, into memory or a file."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from .errors import APIConnectionError, ProtocolViolationError
from .transport import Transport

MAX_REDIRECTS = 5

Progress = Callable[[int, int], None]
"""``progress(done_bytes, total_bytes)``; ``total`` is -1 when unknown."""


async def download_bytes(
    transport: Transport,
    url: str,
    params: Mapping[str, str | int | bool | None] | None,
    what: str,
) -> bytes:
    """GET ``url``'s whole body into memory, following redirects safely."""
    response = await get_following_redirects(transport, url, params, what)
    try:
        return await response.aread()
    except httpx.TransportError as exc:
        raise APIConnectionError(f"{what}: the download was cut off ({exc}).") from exc
    finally:
        await response.aclose()


async def stream_to_file(
    transport: Transport,
    url: str,
    params: Mapping[str, str | int | bool | None] | None,
    destination: Path,
    progress: Progress | None,
    what: str,
) -> int:
    """GET ``url`` into ``destination`` through a temp file, following redirects safely.

    Redirects are followed by hand: the credential is only sent to the origin of the base
    URL, never to another host a redirect points at.
    """
    response = await get_following_redirects(transport, url, params, what)
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".download-", dir=destination.parent)
    done = 0
    try:
        total = int(response.headers.get("content-length", "-1") or -1)
        with os.fdopen(fd, "wb") as out:
            try:
                async for block in response.aiter_bytes():
                    await asyncio.to_thread(out.write, block)
                    done += len(block)
                    if progress is not None:
                        progress(done, total)
            except httpx.TransportError as exc:
                raise APIConnectionError(f"{what}: the download was cut off ({exc}).") from exc
        os.replace(tmp_name, destination)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    finally:
        await response.aclose()
    return done


async def get_following_redirects(
    transport: Transport,
    url: str,
    params: Mapping[str, str | int | bool | None] | None,
    what: str,
) -> httpx.Response:
    origin = _origin(transport.base_url)
    current = url
    query = params
    for _ in range(MAX_REDIRECTS + 1):
        response = await transport.request(
            "GET",
            "",
            url=current,
            params=query,
            stream=True,
            accept="*/*",
            what=what,
            expect_redirect=True,
            authenticate=_origin(current) == origin,
        )
        if not 300 <= response.status_code < 400:
            return response
        location = response.headers.get("location")
        await response.aclose()
        if not location:
            raise ProtocolViolationError(f"{what}: a redirect without a Location header.")
        current = str(httpx.URL(current).join(location))
        query = None
    raise ProtocolViolationError(f"{what}: too many redirects.")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
