"""Standard Webhooks signatures and the rule for where deliveries may go.

A delivery carries ``webhook-id``, ``webhook-timestamp`` (unix seconds) and
``webhook-signature``: ``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")) for each
live signing secret, space-separated (so a receiver keeps verifying during a rotation). A
secret is ``whsec_`` + base64 of its 32-byte key (https://www.standardwebhooks.com/).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret in the ``whsec_<base64>`` form."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def truncated(secret: str) -> str:
    """What may be shown of a secret: its prefix and last four characters."""
    return f"{PREFIX}…{secret[-4:]}"


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def sign(secrets_: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for this message."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    parts = []
    for secret in secrets_:
        digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
        parts.append("v1," + base64.b64encode(digest).decode())
    return " ".join(parts)


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_destination(uri: str, allowed_hosts: Iterable[str]) -> str | None:
    """Why ``uri`` may not receive deliveries, or None when it may.

    Deliveries go to loopback addresses, and to hosts the user named with
    ``--webhook-allow`` (exact host names; ``*.example.com`` allows subdomains).
    """
    if not isinstance(uri, str) or not uri:
        return "the uri must be a non-empty string"
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{uri!r} is not an http(s) URL"
    host = parts.hostname.lower()
    if is_loopback(host):
        return None
    for rule in allowed_hosts:
        rule = rule.lower()
        if host == rule or (rule.startswith("*.") and host.endswith(rule[1:])):
            return None
    return (
        f"deliveries to {host!r} are not allowed: the engine delivers webhooks to loopback "
        "addresses and to hosts allowed with --webhook-allow HOST"
    )
