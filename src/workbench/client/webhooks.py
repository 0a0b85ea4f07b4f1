"""``client.webhooks``: registered webhooks, their ping, secret rotation and delivery log.

The signing secret is in the answer of ``create`` (``new_signing_secret``) and of
``rotate_signing_secret`` only; keep it then, it is never shown again.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote

from ._paging import iter_pages
from ._wire import Webhook, WebhookDelivery, body_of, to_model
from .errors import ProtocolViolationError
from .retry import Idempotency
from .transport import Transport, decode_json_object

Revocation = Literal["revoke_previous_secrets_after_h24", "revoke_previous_secrets_immediately"]


def resource_id(value: str, what: str) -> str:
    """A path segment for an id (``webhooks/x`` style names reduced to ``x``)."""
    bare = value.rsplit("/", 1)[-1]
    if not bare:
        raise ValueError(f"a {what} id must be a non-empty string")
    return quote(bare, safe="-_.~")


class Webhooks:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def create(
        self, uri: str, subscribed_events: Sequence[str], *, name: str | None = None
    ) -> Webhook:
        """``POST /webhooks``; the answer carries ``new_signing_secret`` (this once only)."""
        body: dict[str, Any] = {"uri": uri, "subscribed_events": list(subscribed_events)}
        if name:
            body["name"] = name
        response = await self._t.request(
            "POST", "webhooks", json_body=body, idempotency=Idempotency.CREATE,
            what="create webhook",
        )  # fmt: skip
        return to_model(Webhook, decode_json_object(response, "create webhook"), "webhook")

    async def iter(self, *, page_size: int | None = None) -> AsyncIterator[Webhook]:
        async for page in iter_pages(
            self._t, "webhooks", items_key="webhooks", page_size=page_size, what="list webhooks"
        ):
            for item in page:
                yield to_model(Webhook, item, "webhook")

    async def list(self, *, page_size: int | None = None) -> list[Webhook]:
        return [hook async for hook in self.iter(page_size=page_size)]

    async def get(self, webhook_id: str) -> Webhook:
        path = f"webhooks/{resource_id(webhook_id, 'webhook')}"
        response = await self._t.request("GET", path, what=f"get webhook {webhook_id}")
        return to_model(Webhook, decode_json_object(response, "get webhook"), "webhook")

    async def update(self, webhook_id: str, changes: Mapping[str, Any]) -> Webhook:
        """``PATCH`` the given fields (name, uri, subscribed_events, state), masked to them."""
        body = body_of(changes)
        if not body:
            raise ValueError("nothing to update")
        response = await self._t.request(
            "PATCH", f"webhooks/{resource_id(webhook_id, 'webhook')}", json_body=body,
            params={"update_mask": ",".join(body)}, what=f"update webhook {webhook_id}",
        )  # fmt: skip
        return to_model(Webhook, decode_json_object(response, "update webhook"), "webhook")

    async def delete(self, webhook_id: str) -> None:
        path = f"webhooks/{resource_id(webhook_id, 'webhook')}"
        await self._t.request("DELETE", path, what=f"delete webhook {webhook_id}")

    async def ping(self, webhook_id: str) -> None:
        """Queue a ``webhook.ping`` event; its outcome shows in ``deliveries``."""
        await self._t.request(
            "POST", f"webhooks/{resource_id(webhook_id, 'webhook')}:ping", json_body={},
            idempotency=Idempotency.CREATE, what=f"ping webhook {webhook_id}",
        )  # fmt: skip

    async def rotate_signing_secret(
        self, webhook_id: str, *, revocation: Revocation | None = None
    ) -> str:
        """A new signing secret (returned this once); older ones expire in 24 h by default."""
        body = {"revocation_behavior": revocation} if revocation else {}
        response = await self._t.request(
            "POST", f"webhooks/{resource_id(webhook_id, 'webhook')}:rotateSigningSecret",
            json_body=body, idempotency=Idempotency.CREATE, what="rotate signing secret",
        )  # fmt: skip
        secret = decode_json_object(response, "rotate signing secret").get("secret")
        if not isinstance(secret, str) or not secret:
            raise ProtocolViolationError("rotate signing secret: the answer has no secret")
        return secret

    async def deliveries(
        self, webhook_id: str, *, limit: int = 100
    ) -> builtins.list[WebhookDelivery]:
        """The engine's delivery log for a webhook, newest first (a Workbench extension)."""
        response = await self._t.request(
            "GET", f"webhooks/{resource_id(webhook_id, 'webhook')}/deliveries",
            params={"page_size": limit}, what=f"webhook {webhook_id} deliveries",
        )  # fmt: skip
        items = decode_json_object(response, "webhook deliveries").get("deliveries") or []
        return [to_model(WebhookDelivery, item, "webhook delivery") for item in items]
