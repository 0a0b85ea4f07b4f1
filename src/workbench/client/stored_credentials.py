"""``client.credentials``: credentials the engine keeps for environments to reference.

Secrets go one way: they are sent on create and update and never come back (a
``Credential`` holds id, type, status and times). Not to be confused with
``credentials.Credential``, the API key this client signs its own requests with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from ._paging import iter_pages
from ._wire import StoredCredential, body_of, to_model
from .retry import Idempotency
from .transport import Transport, decode_json_object
from .webhooks import resource_id

SECRET_FIELDS = ("value", "token", "client_secret", "refresh_token")


class Credentials:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def _path(self, credential_id: str) -> str:
        return f"credentials/{resource_id(credential_id, 'credential')}"

    async def create(self, params: Mapping[str, Any]) -> StoredCredential:
        """``POST /credentials`` with one kind's fields (``type`` and ``id`` included)."""
        body = body_of(params)
        if body.get("type") not in ("environment_variable", "bearer_token", "oauth2"):
            raise ValueError("type must be environment_variable, bearer_token or oauth2")
        response = await self._t.request(
            "POST", "credentials", json_body=body, idempotency=Idempotency.CREATE,
            what=f"create credential {body.get('id')}",
        )  # fmt: skip
        data = decode_json_object(response, "create credential")
        return to_model(StoredCredential, data, "credential")

    async def iter(self, *, page_size: int | None = None) -> AsyncIterator[StoredCredential]:
        async for page in iter_pages(
            self._t, "credentials", items_key="credentials", page_size=page_size,
            what="list credentials",
        ):  # fmt: skip
            for item in page:
                yield to_model(StoredCredential, item, "credential")

    async def list(self, *, page_size: int | None = None) -> list[StoredCredential]:
        return [c async for c in self.iter(page_size=page_size)]

    async def get(self, credential_id: str) -> StoredCredential:
        response = await self._t.request(
            "GET", self._path(credential_id), what=f"get credential {credential_id}"
        )
        data = decode_json_object(response, "get credential")
        return to_model(StoredCredential, data, "credential")

    async def update(self, credential_id: str, changes: Mapping[str, Any]) -> StoredCredential:
        """``PATCH`` the given fields; ``type`` must be the credential's own."""
        body = body_of(changes)
        fields = [k for k in body if k != "type"]
        if "type" not in body or not fields:
            raise ValueError("an update names the credential's type and at least one field")
        response = await self._t.request(
            "PATCH", self._path(credential_id), json_body=body,
            params={"update_mask": ",".join(fields)}, what=f"update credential {credential_id}",
        )  # fmt: skip
        data = decode_json_object(response, "update credential")
        return to_model(StoredCredential, data, "credential")

    async def delete(self, credential_id: str) -> None:
        await self._t.request(
            "DELETE", self._path(credential_id), what=f"delete credential {credential_id}"
        )
