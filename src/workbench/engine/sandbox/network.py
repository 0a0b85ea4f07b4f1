"""Network rules of an environment (protocol.md §3.7, §9.4) and how the engine enforces them.

Wire forms of ``network``: omitted, ``"disabled"``, ``{"allowlist": "disabled"}`` or
``{"allowlist": [{"domain": …, "transform"?: …}, …]}``. Domain forms: an exact host,
``*.example.com`` (subdomains only, never the apex) and ``*`` (everything).

Engine decisions (docs/reliability.md):

* **omitted means disabled** (``DEFAULT_WHEN_OMITTED``): the engine runs model-written code
  on the user's own machine, next to their LAN and loopback services, so it follows Vertex's
  default rather than the Gemini API's. Pass ``{"allowlist": [{"domain": "*"}]}`` to open it.
* ``url_context`` checks each URL's host against the allowlist and adds the entry's
  ``transform`` headers to the request, and the header of its ``credential`` when it names
  one (``ops/injection.py``).
* code execution under bubblewrap reaches the network through the engine's egress proxy
  (``egress_proxy.py``), which enforces the allowlist per host and adds ``transform`` headers
  and credentials; an allowlist of ``*`` with nothing to add keeps the plain host network.
  Without bubblewrap (weak isolation) no proxy can be forced on the code, so it gets the
  network only with ``*`` and a narrower allowlist keeps it offline (fail closed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import InvalidRequest

Mode = Literal["disabled", "all", "allowlist"]


@dataclass(frozen=True)
class DomainRule:
    """One allowlist entry: a host pattern and the headers added to requests for it.

    ``credential`` names a stored credential whose header the engine adds too; it is
    resolved (``agent/runs.py``) into ``headers`` before any request, never stored resolved.
    """

    domain: str
    headers: tuple[tuple[str, str], ...] = ()
    credential: str = ""

    def matches(self, host: str) -> bool:
        """Whether ``host`` (lower case, no trailing dot) falls under this rule."""
        pattern = self.domain
        if pattern == "*":
            return True
        if pattern.startswith("*."):
            return host.endswith(pattern[1:]) and host != pattern[2:]
        return host == pattern


@dataclass(frozen=True)
class NetworkPolicy:
    """What the sandbox may reach.

    Attributes:
        mode: ``disabled`` (nothing), ``all`` (everything) or ``allowlist`` (listed hosts).
        rules: the allowlist entries (for ``allowlist``; ``all`` may keep its ``*`` rule).
    """

    mode: Mode
    rules: tuple[DomainRule, ...] = field(default=())

    @property
    def code_network(self) -> bool:
        """Whether code gets the host network itself (every host allowed; the egress proxy
        serves the other cases)."""
        return self.mode == "all"

    def rule_for(self, host: str) -> DomainRule | None:
        """The first rule that allows ``host``, or None when the host is not allowed."""
        host = host.lower().rstrip(".")
        if self.mode == "disabled" or not host:
            return None
        for rule in self.rules:
            if rule.matches(host):
                return rule
        if self.mode == "all":
            return DomainRule("*")
        return None

    def allows_host(self, host: str) -> bool:
        """Whether a request to ``host`` is allowed."""
        return self.rule_for(host) is not None

    def describe(self) -> str:
        """A short plain description for tool results and logs."""
        if self.mode == "disabled":
            return "network access is disabled for this environment"
        if self.mode == "all":
            return "network access is allowed"
        return "network access is limited to: " + ", ".join(r.domain for r in self.rules)


DISABLED = NetworkPolicy("disabled")
UNRESTRICTED = NetworkPolicy("all", (DomainRule("*"),))
DEFAULT_WHEN_OMITTED = DISABLED


def _headers(transform: Any) -> tuple[tuple[str, str], ...]:
    maps = transform if isinstance(transform, list) else [transform] if transform else []
    pairs: list[tuple[str, str]] = []
    for item in maps:
        if isinstance(item, Mapping):
            pairs.extend((str(k), str(v)) for k, v in item.items())
    return tuple(pairs)


def _plain(network: Any) -> Any:
    dump = getattr(network, "model_dump", None)
    return dump(mode="json", exclude_none=True) if callable(dump) else network


def validate_network(network: Any) -> None:
    """Raise ``InvalidRequest`` when ``network`` is not one of the wire forms."""
    parse_network(network)


def parse_network(
    network: Any, *, default_when_omitted: NetworkPolicy = DEFAULT_WHEN_OMITTED
) -> NetworkPolicy:
    """The policy of a wire ``network`` value (a pydantic model, a dict, a string or None).

    Raises:
        InvalidRequest: the value is none of the wire forms, or a domain is malformed.
    """
    value = _plain(network)
    if value is None:
        return default_when_omitted
    if isinstance(value, str):
        if value.lower() == "disabled":
            return DISABLED
        raise InvalidRequest(f"network must be 'disabled' or an allowlist object, not {value!r}.")
    if not isinstance(value, Mapping):
        raise InvalidRequest("network must be 'disabled' or an allowlist object.")
    allowlist = value.get("allowlist")
    if allowlist is None:
        return default_when_omitted
    if isinstance(allowlist, str):
        if allowlist.lower() == "disabled":
            return DISABLED
        raise InvalidRequest(f"network.allowlist must be a list or 'disabled', not {allowlist!r}.")
    if not isinstance(allowlist, list):
        raise InvalidRequest("network.allowlist must be a list of {domain} entries.")
    rules: list[DomainRule] = []
    for entry in allowlist:
        domain = entry.get("domain") if isinstance(entry, Mapping) else None
        if not isinstance(domain, str) or not _valid_domain(domain):
            raise InvalidRequest(f"network.allowlist has an invalid domain entry: {entry!r}.")
        credential = entry.get("credential")
        if credential is not None and (not isinstance(credential, str) or not credential):
            raise InvalidRequest(
                f"network.allowlist credential must be a credential id: {entry!r}."
            )
        rules.append(DomainRule(
            domain.lower().rstrip("."), _headers(entry.get("transform")), credential or "",
        ))  # fmt: skip
    if not rules:
        return DISABLED
    if any(r.domain == "*" for r in rules):
        return NetworkPolicy("all", tuple(rules))
    return NetworkPolicy("allowlist", tuple(rules))


def _valid_domain(domain: str) -> bool:
    if domain == "*":
        return True
    name = domain[2:] if domain.startswith("*.") else domain
    name = name.rstrip(".")
    if not name or len(name) > 253 or "*" in name:
        return False
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.:[]_")
    return all(ch in allowed for ch in name)
