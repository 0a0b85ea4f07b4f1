"""The engine's secrets (credential values, webhook signing secrets): in the OS keyring only.

Nothing here writes a secret to the database, a file, a log or an error message. When this
machine has no usable keyring (none at all, or only one that keeps secrets in a plain file),
storing is refused with a message saying so, and nothing is kept anywhere else.

Every keyring call blocks (D-Bus round trips), so the async methods run them on a thread.
"""

from __future__ import annotations

import asyncio
import logging

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from ..errors import ApiError

log = logging.getLogger("workbench.engine.ops")

SERVICE = "workbench-engine"
"""The keyring service name the engine's secrets are stored under (the app uses "workbench")."""

_INSECURE = ("keyrings.alt.file.PlaintextKeyring", "keyrings.alt.file.EncryptedKeyring")


class VaultUnavailable(ApiError):
    """No usable keyring: a secret cannot be stored safely (503, the reason in words)."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            503,
            f"cannot keep secrets: {reason}. The engine stores credential values and webhook "
            "signing secrets only in the OS keyring (service 'workbench-engine'); start a "
            "keyring service (e.g. gnome-keyring, KWallet, macOS Keychain) and try again",
            "unavailable",
        )


def keyring_problem(backend: KeyringBackend | None = None) -> str | None:
    """Why the keyring cannot hold secrets, or None when it can."""
    kr = backend if backend is not None else keyring.get_keyring()
    name = f"{type(kr).__module__}.{type(kr).__name__}"
    if name.startswith(("keyring.backends.fail", "keyring.backends.null")):
        return "no system keyring is available on this machine"
    if name in _INSECURE:
        return "the only keyring found stores secrets in a plain file"
    try:
        priority = float(kr.priority)
    except Exception:  # a backend may raise from priority when it is not viable
        priority = 0.0
    if priority <= 0:
        return "the system keyring is present but not usable"
    return None


class Vault:
    """Named secrets under one keyring service; names are ``<kind>/<id>/<field>``."""

    def __init__(self, service: str = SERVICE, backend: KeyringBackend | None = None) -> None:
        self.service = service
        self._backend = backend

    def _kr(self) -> KeyringBackend:
        return self._backend if self._backend is not None else keyring.get_keyring()

    def problem(self) -> str | None:
        return keyring_problem(self._kr())

    def _put(self, name: str, value: str) -> None:
        reason = self.problem()
        if reason is not None:
            raise VaultUnavailable(reason)
        try:
            self._kr().set_password(self.service, name, value)
        except keyring.errors.KeyringError as exc:
            reason = f"the keyring refused to store it ({type(exc).__name__})"
            raise VaultUnavailable(reason) from None

    def _get(self, name: str) -> str | None:
        if self.problem() is not None:
            return None
        try:
            return self._kr().get_password(self.service, name)
        except keyring.errors.KeyringError as exc:
            log.warning("keyring read of %s failed: %s", name, type(exc).__name__)
            return None

    def _delete(self, name: str) -> None:
        if self.problem() is not None:
            return
        try:
            self._kr().delete_password(self.service, name)
        except keyring.errors.PasswordDeleteError:
            pass  # already gone
        except keyring.errors.KeyringError as exc:
            log.warning("keyring delete of %s failed: %s", name, type(exc).__name__)

    async def check(self) -> None:
        """Raise ``VaultUnavailable`` now, before anything is written, when storing would."""
        reason = await asyncio.to_thread(self.problem)
        if reason is not None:
            raise VaultUnavailable(reason)

    async def put(self, name: str, value: str) -> None:
        await asyncio.to_thread(self._put, name, value)

    async def get(self, name: str) -> str | None:
        return await asyncio.to_thread(self._get, name)

    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self._delete, name)
