"""``client.environments``: sandboxes (protocol.md §9) and the whole-sandbox tar download.

Files of a sandbox live in :mod:`workbench.client.files` (``client.environments.files``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from ._paging import iter_pages
from ._wire import Environment, body_of, to_model
from .downloads import Progress, download_bytes, stream_to_file
from .files import EnvironmentFiles, env_id_segment
from .retry import Idempotency
from .transport import Transport, decode_json_object


class Environments:
    def __init__(self, transport: Transport) -> None:
        self._t = transport
        self.files = EnvironmentFiles(transport)

    async def create(self, body: Mapping[str, Any] | Any | None = None) -> Environment:
        """``POST /environments`` (``sources``, ``network``, ``from_environment``)."""
        wire = body_of(body) if body is not None else {}
        response = await self._t.request(
            "POST",
            "environments",
            json_body=wire,
            idempotency=Idempotency.CREATE,
            what="create environment",
        )
        return to_model(
            Environment, decode_json_object(response, "create environment"), "environment"
        )

    async def iter(self, *, page_size: int | None = None) -> AsyncIterator[Environment]:
        async for page in iter_pages(
            self._t,
            "environments",
            items_key="environments",
            page_size=page_size,
            what="list environments",
        ):
            for item in page:
                yield to_model(Environment, item, "environment")

    async def list(self, *, page_size: int | None = None) -> list[Environment]:
        return [env async for env in self.iter(page_size=page_size)]

    async def get(self, environment_id: str) -> Environment:
        response = await self._t.request(
            "GET",
            f"environments/{env_id_segment(environment_id)}",
            what=f"get environment {environment_id}",
        )
        return to_model(Environment, decode_json_object(response, "get environment"), "environment")

    async def delete(self, environment_id: str) -> None:
        await self._t.request(
            "DELETE",
            f"environments/{env_id_segment(environment_id)}",
            what=f"delete environment {environment_id}",
        )

    def _tar_url(self, environment_id: str) -> str:
        return self._t.url(f"files/environment-{env_id_segment(environment_id)}:download")

    async def download_tar(self, environment_id: str) -> bytes:
        """The whole sandbox as an uncompressed ustar archive (§9.8), in memory."""
        return await download_bytes(
            self._t,
            self._tar_url(environment_id),
            {"alt": "media"},
            f"download environment {environment_id}",
        )

    async def download_tar_to(
        self,
        environment_id: str,
        destination: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
    ) -> int:
        """Stream the sandbox tar to ``destination`` (atomically); returns the byte count."""
        return await stream_to_file(
            self._t,
            self._tar_url(environment_id),
            {"alt": "media"},
            Path(destination),
            progress,
            f"download environment {environment_id}",
        )
