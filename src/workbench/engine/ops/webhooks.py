"""Registered webhooks (``/{v}/webhooks``) and the events an ending interaction sends them.

A webhook's row keeps its public fields and, under ``_slots``, where its signing secrets
live in the keyring (``webhook/<id>/<slot>``) with their expiry; the secrets themselves are
only in the keyring. ``new_signing_secret`` is in the create answer and nowhere else (a
rotate answers ``{"secret": …}``).

When an interaction ends (``interaction_ended``), one delivery per destination is queued:

* with ``webhook_config.uris`` on the interaction: those URIs, each of which must be the
  ``uri`` of a registered, enabled webhook (its secret signs the delivery — an unsigned
  delivery could not be told from a forgery), whatever events it subscribed to;
* otherwise every enabled webhook subscribed to the event.

``webhook_config.user_metadata`` is copied into every event. Delivery itself (retries,
signatures, disabling) is ``delivery.Deliverer``.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from typing import Any

from ..errors import ApiError, bad_request, not_found
from ..status import lifecycle_view, now
from ..store import Store
from .delivery import Deliverer, event_body
from .signing import check_destination, new_secret, truncated
from .table import ResourceTable
from .vault import Vault

EVENTS = (
    "batch.succeeded",
    "batch.expired",
    "batch.failed",
    "interaction.requires_action",
    "interaction.completed",
    "interaction.failed",
    "video.generated",
)
"""The events a webhook may subscribe to (the spec's list; the engine sends the three
``interaction.*`` ones, since it runs no batches and generates no video)."""

STATUS_EVENTS = {
    "completed": "interaction.completed",
    "failed": "interaction.failed",
    "requires_action": "interaction.requires_action",
}
"""Which ending status sends which event (cancelled and incomplete runs send none)."""

STATES = ("enabled", "disabled", "disabled_due_to_failed_deliveries")
ROTATION_GRACE_SECONDS = 24 * 3600
WRITABLE = ("name", "uri", "subscribed_events")


def wire(resource: dict[str, Any]) -> dict[str, Any]:
    """The Webhook as sent: the stored resource without its private keys."""
    out = {k: v for k, v in resource.items() if not k.startswith("_")}
    out["signing_secrets"] = [
        {k: v for k, v in slot.items() if k in ("truncated_secret", "expire_time")}
        for slot in resource.get("_slots", [])
    ]
    return out


def _rfc3339(unix: float) -> str:
    return dt.datetime.fromtimestamp(unix, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _events(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise bad_request("subscribed_events must be a non-empty list of event names")
    for item in value:
        if item not in EVENTS:
            raise bad_request(
                f"subscribed_events: unknown event {item!r}; known: {', '.join(EVENTS)}"
            )
    return list(dict.fromkeys(value))


class Webhooks:
    """The webhook resources of one engine."""

    def __init__(
        self, store: Store, vault: Vault, deliverer: Deliverer, allowed_hosts: tuple[str, ...]
    ) -> None:
        self.table = ResourceTable(store, "webhooks")
        self.vault = vault
        self.deliverer = deliverer
        self.allowed_hosts = allowed_hosts

    def _check_uri(self, uri: Any) -> str:
        problem = check_destination(uri, self.allowed_hosts)
        if problem is not None:
            raise bad_request(f"uri: {problem}")
        return str(uri)

    async def _get(self, webhook_id: str) -> dict[str, Any]:
        resource = await self.table.get(webhook_id)
        if resource is None:
            raise not_found(f"webhook {webhook_id!r} not found")
        return resource

    async def _new_slot(self, webhook_id: str) -> tuple[dict[str, Any], str]:
        secret = new_secret()
        name = f"webhook/{webhook_id}/{secrets.token_hex(4)}"
        await self.vault.put(name, secret)
        return {"key": name, "truncated_secret": truncated(secret)}, secret

    # -- CRUD ---------------------------------------------------------------------------------

    async def create(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object (a Webhook)")
        extra = sorted(k for k, v in body.items() if k not in WRITABLE and v is not None)
        if extra:
            raise bad_request(
                f"unknown or output-only Webhook fields: {', '.join(extra)}; a create takes "
                "name, uri and subscribed_events"
            )
        uri = self._check_uri(body.get("uri"))
        events = _events(body.get("subscribed_events"))
        name = body.get("name")
        if name is not None and not isinstance(name, str):
            raise bad_request("name must be a string")
        await self.vault.check()
        webhook_id = "wh_" + secrets.token_urlsafe(12)
        slot, secret = await self._new_slot(webhook_id)
        stamp = now()
        resource: dict[str, Any] = {
            "id": webhook_id,
            **({"name": name} if name else {}),
            "uri": uri,
            "subscribed_events": events,
            "state": "enabled",
            "create_time": stamp,
            "update_time": stamp,
            "_slots": [slot],
        }
        await self.table.insert(webhook_id, stamp, resource)
        return {**wire(resource), "new_signing_secret": secret}

    async def get(self, webhook_id: str) -> dict[str, Any]:
        return wire(await self._get(webhook_id))

    async def list(self, page_size: int | None, page_token: str | None) -> dict[str, Any]:
        items, token = await self.table.page(page_size, page_token)
        out: dict[str, Any] = {"webhooks": [wire(r) for r in items]}
        if token:
            out["next_page_token"] = token
        return out

    async def update(self, webhook_id: str, body: Any, update_mask: str | None) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object (a WebhookUpdate)")
        allowed = (*WRITABLE, "state")
        fields = [k for k, v in body.items() if v is not None]
        if update_mask:
            fields = [f.strip() for f in update_mask.split(",") if f.strip()]
        unknown = sorted(f for f in fields if f not in allowed)
        if unknown:
            raise bad_request(
                f"cannot update {', '.join(unknown)}; updatable: {', '.join(allowed)}"
            )
        resource = await self._get(webhook_id)
        for key in fields:
            value = body.get(key)
            if key == "uri":
                resource["uri"] = self._check_uri(value)
            elif key == "subscribed_events":
                resource["subscribed_events"] = _events(value)
            elif key == "name":
                if value is not None and not isinstance(value, str):
                    raise bad_request("name must be a string")
                resource.pop("name", None)
                if value:
                    resource["name"] = value
            else:
                if value not in ("enabled", "disabled"):
                    raise bad_request(
                        "state can be set to enabled or disabled "
                        "(disabled_due_to_failed_deliveries is set by the engine)"
                    )
                resource["state"] = value
        resource["update_time"] = now()
        reset = resource["state"] == "enabled"
        await self.table.update(webhook_id, resource, **({"failures": 0} if reset else {}))
        return wire(resource)

    async def delete(self, webhook_id: str) -> None:
        resource = await self._get(webhook_id)
        await self.table.delete(webhook_id)
        for slot in resource.get("_slots", []):
            await self.vault.delete(slot["key"])

    # -- custom methods -----------------------------------------------------------------------

    async def ping(self, webhook_id: str) -> dict[str, Any]:
        """Queue a ``webhook.ping`` event to this webhook (whatever its state)."""
        resource = await self._get(webhook_id)
        body = event_body("webhook.ping", {"webhook_id": webhook_id})
        await self.deliverer.enqueue(webhook_id, resource["uri"], "webhook.ping", body)
        return {}

    async def rotate(self, webhook_id: str, body: Any) -> dict[str, Any]:
        """A new signing secret; older ones expire in 24 h, or now when asked."""
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object")
        behaviour = body.get("revocation_behavior") or "revoke_previous_secrets_after_h24"
        if behaviour not in (
            "revoke_previous_secrets_after_h24",
            "revoke_previous_secrets_immediately",
        ):
            raise bad_request(f"unknown revocation_behavior {behaviour!r}")
        resource = await self._get(webhook_id)
        await self.vault.check()
        slot, secret = await self._new_slot(webhook_id)
        kept: list[dict[str, Any]] = []
        for old in resource.get("_slots", []):
            if behaviour == "revoke_previous_secrets_immediately":
                await self.vault.delete(old["key"])
                continue
            if "expires" not in old:
                old["expires"] = time.time() + ROTATION_GRACE_SECONDS
                old["expire_time"] = _rfc3339(old["expires"])
            kept.append(old)
        resource["_slots"] = [slot, *kept]
        resource["update_time"] = now()
        await self.table.update(webhook_id, resource)
        return {"secret": secret}

    # -- events -------------------------------------------------------------------------------

    def check_config(self, config: Any) -> None:
        """400 for a ``webhook_config`` whose deliveries could not be made (at create time)."""
        if config is None:
            return
        if not isinstance(config, dict):
            raise bad_request("webhook_config must be an object")
        uris = config.get("uris")
        if uris is not None:
            if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
                raise bad_request("webhook_config.uris must be a list of URLs")
            for uri in uris:
                problem = check_destination(uri, self.allowed_hosts)
                if problem is not None:
                    raise bad_request(f"webhook_config.uris: {problem}")
        metadata = config.get("user_metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise bad_request("webhook_config.user_metadata must be an object")

    async def check_config_registered(self, config: Any) -> None:
        """Every ``webhook_config.uris`` entry must be a registered webhook's uri."""
        if not isinstance(config, dict) or not config.get("uris"):
            return
        registered = {r["uri"] for r in await self.table.all()}
        for uri in config["uris"]:
            if uri not in registered:
                raise ApiError(
                    400,
                    f"webhook_config.uris: {uri!r} is not the uri of a registered webhook; "
                    "register it with POST /webhooks first, so its deliveries can be signed "
                    "with a secret you hold",
                )

    async def interaction_ended(self, resource: dict[str, Any]) -> int:
        """Queue the deliveries for an interaction that just ended; how many were queued."""
        event = STATUS_EVENTS.get(str(resource.get("status")))
        if event is None:
            return 0
        config = resource.get("webhook_config")
        config = config if isinstance(config, dict) else {}
        data: dict[str, Any] = {"interaction": lifecycle_view(resource)}
        if isinstance(config.get("user_metadata"), dict):
            data["user_metadata"] = config["user_metadata"]
        hooks = [h for h in await self.table.all() if h.get("state") == "enabled"]
        uris = config.get("uris")
        if uris:
            by_uri: dict[str, dict[str, Any]] = {}
            for hook in hooks:
                by_uri.setdefault(hook["uri"], hook)
            targets = [by_uri[u] for u in dict.fromkeys(uris) if u in by_uri]
        else:
            targets = [h for h in hooks if event in h.get("subscribed_events", [])]
        for hook in targets:
            await self.deliverer.enqueue(hook["id"], hook["uri"], event, event_body(event, data))
        return len(targets)
