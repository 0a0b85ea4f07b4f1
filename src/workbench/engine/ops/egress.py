"""Credentials for sandboxed code's own requests, through the egress proxy (sandbox/egress_proxy).

``KeyringSource`` answers the proxy's per-request questions from the credential table and
the OS keyring: the header of an allowlist-named ``bearer_token``/``oauth2`` credential
(``injection.Injector``), and whether and where an ``environment_variable`` credential may
go to a host (its ``trusted_domains`` and ``injection_location``).

``CodeEgress.prepare`` runs when an agent run is prepared: for an environment with network,
under bubblewrap, it hands the run an ``EgressGrant`` (unless the allowlist is ``*`` with
nothing to inject: code then keeps the host network, as before) and replaces every ``env`` variable
that names an ``environment_variable`` credential with ``trusted_domains`` by a placeholder
(``WBCRED.<id>.<mac>``, valid only in that environment), which the proxy swaps for the
value in requests to those domains. Variables naming a credential without trusted domains
keep the value itself (there is no host the proxy could give it to), and so does every
variable when the environment has no network (nothing changes there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ApiError
from ..sandbox import CodeRunner
from ..sandbox.egress_proxy import EgressGrant, EgressProxy, Refused
from ..sandbox.isolation import Mechanism
from ..sandbox.network import DomainRule, NetworkPolicy
from .credentials import Credentials
from .injection import Injector


class KeyringSource:
    """The proxy's ``CredentialSource``: every answer read fresh (rotation, deletion)."""

    def __init__(self, credentials: Credentials, injector: Injector) -> None:
        self.credentials = credentials
        self.injector = injector

    async def rule_header(self, credential_id: str, domain: str) -> tuple[str, str]:
        try:
            return await self.injector.header(credential_id, domain)
        except ApiError as exc:
            raise Refused(exc.message) from None

    async def _config(self, credential_id: str) -> dict[str, Any] | None:
        resource = await self.credentials.table.get(credential_id)
        if resource is None or resource.get("type") != "environment_variable":
            return None
        if resource.get("status") != "active":
            return None
        return await self.credentials.config(credential_id)

    async def trusts(self, credential_id: str, host: str) -> bool:
        config = await self._config(credential_id)
        return config is not None and _trusted(config, host)

    async def value(self, credential_id: str, host: str, location: str) -> str | None:
        config = await self._config(credential_id)
        if config is None or not _trusted(config, host):
            return None
        where = config.get("injection_location")
        if location not in (where if isinstance(where, list) else [where]):
            return None
        return await self.credentials.vault.get(f"credential/{credential_id}/value")


def _trusted(config: dict[str, Any], host: str) -> bool:
    domains = config.get("trusted_domains") or []
    return any(DomainRule(str(d).lower().rstrip(".")).matches(host) for d in domains)


class CodeEgress:
    """The engine's egress proxy and what an agent run needs from it."""

    def __init__(
        self, data_dir: Path, credentials: Credentials, injector: Injector, runner: CodeRunner
    ) -> None:
        self.credentials = credentials
        self.runner = runner
        self.proxy = EgressProxy(data_dir / "egress-ca", KeyringSource(credentials, injector))

    async def prepare(
        self, env_id: str, env: dict[str, Any], policy: NetworkPolicy, values: dict[str, str]
    ) -> tuple[EgressGrant | None, dict[str, str]]:
        """The run's grant (None: no proxy) and its variables with placeholders in."""
        if policy.mode == "disabled":
            return None, values
        if (await self.runner.isolation()).mechanism is not Mechanism.BWRAP:
            return None, values
        out = dict(values)
        names: list[str] = []
        for name, ref in env.items():
            if not isinstance(ref, dict) or ref.get("credential") is None:
                continue
            credential_id = str(ref["credential"])
            if (await self.credentials.config(credential_id)).get("trusted_domains"):
                out[name] = self.proxy.placeholder(env_id, credential_id)
                names.append(credential_id)
        injects = any(rule.headers or rule.credential for rule in policy.rules)
        if policy.mode == "all" and not injects and not names:
            return None, values  # nothing to add: code keeps the plain host network
        return self.proxy.grant(env_id, policy, tuple(dict.fromkeys(names))), out
