"""Credentials injected into outgoing requests: the engine's own (``url_context``) and, via
the egress proxy (``egress.py``), those of sandboxed code.

An allowlist entry may name a credential — ``{"domain": "api.github.com", "credential":
"gh"}`` — and the engine then adds it to its requests to that domain: a ``bearer_token`` as
``header_name: prefix token`` (``Authorization: Bearer …`` by default), an ``oauth2``
credential as ``Authorization: Bearer <access token>``, the access token obtained from its
``token_url`` with the refresh token (``grant_type=refresh_token``) and kept in memory until
shortly before it expires. The values stay in the engine process: they reach no sandboxed
code, no tool result, no log and no database.

``environment_variable`` credentials go through an environment's ``env`` instead
(``credentials.resolve_env``, ``egress.py``); naming one in an allowlist is refused.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

import httpx

from ..errors import bad_request
from ..sandbox.network import NetworkPolicy
from .credentials import Credentials

REFRESH_MARGIN_SECONDS = 60.0
TOKEN_TIMEOUT_SECONDS = 20.0


class Injector:
    """Turns allowlist credential references into request headers."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = asyncio.Lock()

    async def policy(self, policy: NetworkPolicy) -> NetworkPolicy:
        """``policy`` with each credential-naming rule's header added (400 when it cannot)."""
        if not any(rule.credential for rule in policy.rules):
            return policy
        rules = []
        for rule in policy.rules:
            if rule.credential:
                header = await self.header(rule.credential, rule.domain)
                rule = replace(rule, headers=(*rule.headers, header))
            rules.append(rule)
        return replace(policy, rules=tuple(rules))

    async def header(self, credential_id: str, domain: str) -> tuple[str, str]:
        where = f"network.allowlist {domain}: credential {credential_id!r}"
        resource = await self.credentials.table.get(credential_id)
        if resource is None:
            raise bad_request(f"{where} not found")
        if resource.get("status") != "active":
            raise bad_request(f"{where} is revoked")
        kind = resource.get("type")
        config = await self.credentials.config(credential_id)
        if kind == "bearer_token":
            token = await self._secret(where, credential_id, "token")
            prefix = str(config.get("prefix", "Bearer"))
            value = f"{prefix} {token}" if prefix else token
            return str(config.get("header_name") or "Authorization"), value
        if kind == "oauth2":
            return (
                "Authorization",
                f"Bearer {await self._access_token(where, credential_id, config)}",
            )
        raise bad_request(
            f"{where} is an {kind} credential: allowlist entries take bearer_token or oauth2 "
            "credentials (environment variables go in the environment's env)"
        )

    async def _secret(self, where: str, credential_id: str, name: str) -> str:
        value = await self.credentials.vault.get(f"credential/{credential_id}/{name}")
        if not value:
            raise bad_request(f"{where}: its {name} could not be read from the OS keyring")
        return value

    async def _access_token(self, where: str, credential_id: str, config: dict[str, Any]) -> str:
        async with self._lock:
            cached = self._tokens.get(credential_id)
            if cached is not None and cached[1] > time.time() + REFRESH_MARGIN_SECONDS:
                return cached[0]
            form = {
                "grant_type": "refresh_token",
                "refresh_token": await self._secret(where, credential_id, "refresh_token"),
                "client_id": str(config.get("client_id", "")),
                "client_secret": await self._secret(where, credential_id, "client_secret"),
            }
            if config.get("scopes"):
                form["scope"] = " ".join(config["scopes"])
            try:
                async with httpx.AsyncClient(timeout=TOKEN_TIMEOUT_SECONDS) as client:
                    resp = await client.post(str(config.get("token_url", "")), data=form)
            except httpx.HTTPError as exc:
                raise bad_request(
                    f"{where}: its token endpoint could not be reached ({type(exc).__name__})"
                ) from None
            try:
                data = resp.json() if resp.status_code == 200 else {}
            except ValueError:
                data = {}
            token = data.get("access_token") if isinstance(data, dict) else None
            if not isinstance(token, str) or not token:
                raise bad_request(
                    f"{where}: its token endpoint answered HTTP {resp.status_code} without an "
                    "access_token"
                )
            expires = data.get("expires_in")
            lifetime = float(expires) if isinstance(expires, int | float) else 3600.0
            self._tokens[credential_id] = (token, time.time() + lifetime)
            return token

    def forget(self, credential_id: str) -> None:
        """Drop a cached access token (the credential changed or went away)."""
        self._tokens.pop(credential_id, None)
