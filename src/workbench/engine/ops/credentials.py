"""Credentials (``/{v}/credentials``): named secrets an environment references by id.

Each kind of the spec has secret fields, kept only in the OS keyring under
``credential/<id>/<field>`` (``vault.py``), and public fields (trusted domains, header name,
client id, …) kept in the database. Answers carry the spec's ``Credential`` — id, type,
status and times — and never a secret field, not even on create.

An environment's ``env`` may name an ``environment_variable`` credential (``{"GH_TOKEN":
{"credential": "gh"}}``); its value is read from the keyring when code runs (``resolve_env``).
With ``trusted_domains`` and a network, the code gets a placeholder instead, which the egress
proxy swaps for the value in requests to those domains (``egress.py``); otherwise the value
itself. Allowlist-named ``bearer_token`` and ``oauth2`` credentials go into the engine's own
requests and, through the proxy, into those of sandboxed code (``injection.py``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import ApiError, bad_request, not_found
from ..status import now
from ..store import Store
from .table import ResourceTable, dumps
from .vault import Vault

LOCATIONS = ("header", "query", "body")
KINDS: dict[str, dict[str, tuple[str, ...]]] = {
    "environment_variable": {
        "secret": ("value",),
        "required": ("injection_location",),
        "optional": ("trusted_domains",),
    },
    "bearer_token": {"secret": ("token",), "required": (), "optional": ("header_name", "prefix")},
    "oauth2": {
        "secret": ("client_secret", "refresh_token"),
        "required": ("client_id", "token_url"),
        "optional": ("scopes",),
    },
}


def _check_id(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise bad_request("id is required: the credential's name, e.g. 'github-token'")
    if len(value) > 63 or not all(c.isascii() and (c.isalnum() or c in "-_") for c in value):
        raise bad_request(f"id {value!r} is not valid: use 1-63 letters, digits, '-' or '_'")
    return value


def _check_public(key: str, value: Any) -> Any:
    if key == "injection_location":
        items = value if isinstance(value, list) else [value]
        if not items or any(i not in LOCATIONS for i in items):
            raise bad_request(
                f"injection_location must be one of {', '.join(LOCATIONS)} or a non-empty "
                "list of them"
            )
        return value
    if key in ("trusted_domains", "scopes"):
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise bad_request(f"{key} must be a list of non-empty strings")
        return value
    if not isinstance(value, str):
        raise bad_request(f"{key} must be a string")
    if key in ("client_id", "token_url") and not value:
        raise bad_request(f"{key} must not be empty")
    return value


class Credentials:
    """The credential resources of one engine."""

    def __init__(self, store: Store, vault: Vault) -> None:
        self.table = ResourceTable(store, "credentials")
        self.vault = vault
        self.users: Callable[[str], Awaitable[list[str]]] | None = None
        """Set by the engine: the active triggers that reference a credential id."""
        self.on_change: Callable[[str], None] = lambda _credential_id: None
        """Set by the engine: forget what was derived from a credential (access tokens)."""

    @staticmethod
    def _unwrap(body: Any, what: str) -> dict[str, Any]:
        if isinstance(body, dict) and isinstance(body.get("credential"), dict) and len(body) <= 2:
            body = body["credential"]  # the CreateCredentialRequest / UpdateCredentialRequest form
        if not isinstance(body, dict):
            raise bad_request(f"the request body must be a JSON object ({what})")
        return {k: v for k, v in body.items() if v is not None}

    @staticmethod
    def _kind(body: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        kind = body.get("type")
        if not isinstance(kind, str) or kind not in KINDS:  # a list is unhashable: 400, not 500
            raise bad_request(f"type must be one of {', '.join(KINDS)}")
        return KINDS[kind]

    async def _get(self, credential_id: str) -> dict[str, Any]:
        resource = await self.table.get(credential_id)
        if resource is None:
            raise not_found(f"credential {credential_id!r} not found")
        return resource

    async def create(self, body: Any) -> dict[str, Any]:
        body = self._unwrap(body, "CredentialCreateParams")
        kind = self._kind(body)
        credential_id = _check_id(body.get("id"))
        known = {"id", "type", *kind["secret"], *kind["required"], *kind["optional"]}
        extra = sorted(set(body) - known)
        if extra:
            raise bad_request(f"unknown fields for a {body['type']} credential: {', '.join(extra)}")
        for key in (*kind["secret"], *kind["required"]):
            if key not in body:
                raise bad_request(f"{key} is required for a {body['type']} credential")
        for key in kind["secret"]:
            if not isinstance(body[key], str) or not body[key]:
                raise bad_request(f"{key} must be a non-empty string")
        config = {k: _check_public(k, body[k]) for k in (*kind["required"], *kind["optional"])
                  if k in body}  # fmt: skip
        if await self.table.get(credential_id) is not None:
            raise ApiError(409, f"credential {credential_id!r} already exists")
        await self.vault.check()
        for key in kind["secret"]:
            await self.vault.put(f"credential/{credential_id}/{key}", body[key])
        stamp = now()
        resource = {
            "id": credential_id,
            "type": body["type"],
            "status": "active",
            "create_time": stamp,
            "update_time": stamp,
        }
        if not await self.table.insert(credential_id, stamp, resource, config=dumps(config)):
            raise ApiError(409, f"credential {credential_id!r} already exists")
        return resource

    async def get(self, credential_id: str) -> dict[str, Any]:
        return await self._get(credential_id)

    async def list(self, page_size: int | None, page_token: str | None) -> dict[str, Any]:
        items, token = await self.table.page(page_size, page_token)
        out: dict[str, Any] = {"credentials": items}
        if token:
            out["next_page_token"] = token
        return out

    async def update(
        self, credential_id: str, body: Any, update_mask: str | None
    ) -> dict[str, Any]:
        body = self._unwrap(body, "CredentialUpdateParams")
        kind = self._kind(body)
        resource = await self._get(credential_id)
        if body["type"] != resource["type"]:
            raise bad_request(
                f"credential {credential_id!r} is a {resource['type']} credential; its type "
                "cannot change (delete it and create another)"
            )
        fields = [k for k in body if k != "type"]
        if update_mask:
            fields = [f.strip() for f in update_mask.split(",") if f.strip() and f != "type"]
        allowed = (*kind["secret"], *kind["required"], *kind["optional"])
        unknown = sorted(f for f in fields if f not in allowed)
        if unknown:
            raise bad_request(
                f"cannot update {', '.join(unknown)}; updatable: {', '.join(allowed)}"
            )
        config = await self._config(credential_id)
        secrets_: dict[str, str] = {}
        for key in fields:
            if key not in body:
                if key in kind["secret"] or key in kind["required"]:
                    raise bad_request(f"{key} is in update_mask but has no value")
                config.pop(key, None)
            elif key in kind["secret"]:
                if not isinstance(body[key], str) or not body[key]:
                    raise bad_request(f"{key} must be a non-empty string")
                secrets_[key] = body[key]
            else:
                config[key] = _check_public(key, body[key])
        if secrets_:
            await self.vault.check()
        for key, value in secrets_.items():
            await self.vault.put(f"credential/{credential_id}/{key}", value)
        resource["update_time"] = now()
        await self.table.update(credential_id, resource, config=dumps(config))
        self.on_change(credential_id)
        return resource

    async def delete(self, credential_id: str) -> None:
        resource = await self._get(credential_id)
        users = await self.users(credential_id) if self.users is not None else []
        if users:
            raise ApiError(
                400,
                f"credential {credential_id!r} is referenced by active triggers "
                f"({', '.join(users)}); pause or delete them first",
                "failed_precondition",
            )
        await self.table.delete(credential_id)
        self.on_change(credential_id)
        for key in KINDS[resource["type"]]["secret"]:
            await self.vault.delete(f"credential/{credential_id}/{key}")

    async def config(self, credential_id: str) -> dict[str, Any]:
        """A credential's public fields (header name, token URL, trusted domains, …)."""
        return await self._config(credential_id)

    async def _config(self, credential_id: str) -> dict[str, Any]:
        raw = await self.table.column(credential_id, "config")
        return dict(json.loads(raw)) if raw else {}

    async def resolve_env(self, env: dict[str, Any]) -> dict[str, str]:
        """An environment's ``env`` with credential references replaced by their values.

        Raises 400 naming the variable when a reference cannot be resolved (unknown id, a
        kind that is not ``environment_variable``, or a keyring that cannot be read).
        """
        out: dict[str, str] = {}
        for name, value in env.items():
            if isinstance(value, dict) and value.get("credential") is not None:
                out[name] = await self._value(name, str(value["credential"]))
            elif isinstance(value, dict):
                out[name] = str(value.get("value", ""))
            else:
                out[name] = str(value)
        return out

    async def _value(self, name: str, credential_id: str) -> str:
        resource = await self.table.get(credential_id)
        if resource is None:
            raise bad_request(f"env {name}: credential {credential_id!r} not found")
        if resource.get("type") != "environment_variable":
            raise bad_request(
                f"env {name}: credential {credential_id!r} is a {resource.get('type')} "
                "credential; env variables take environment_variable credentials"
            )
        if resource.get("status") != "active":
            raise bad_request(f"env {name}: credential {credential_id!r} is revoked")
        secret = await self.vault.get(f"credential/{credential_id}/value")
        if secret is None:
            raise bad_request(
                f"env {name}: the value of credential {credential_id!r} could not be read "
                "from the OS keyring"
            )
        return secret
