"""API keys: kept in the OS keyring and nowhere else.

When no usable keyring exists the user may choose to keep a key for this session only; it then
lives in this process's memory and is forgotten on exit. Nothing here ever writes a key to a
file, a log or an exception message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from .logs import add_secret

log = logging.getLogger(__name__)

SERVICE = "workbench"

# Backends that do not protect the secret: storing there would be writing it to a plain file.
_INSECURE_BACKENDS = ("keyrings.alt.file.PlaintextKeyring", "keyrings.alt.file.EncryptedKeyring")


class SecretStoreError(Exception):
    """The key could not be stored or read; the message says why in plain words."""


@dataclass(frozen=True)
class KeyringStatus:
    """Which backend would hold keys, and whether it is safe to use."""

    backend: str
    usable: bool
    reason: str


def _backend_name(backend: KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def keyring_status(backend: KeyringBackend | None = None) -> KeyringStatus:
    """Describe the keyring this process would use."""
    kr = backend if backend is not None else keyring.get_keyring()
    name = _backend_name(kr)
    try:
        priority = float(kr.priority)
    except Exception:  # a backend may raise from priority when it is not viable
        priority = 0.0
    if name.startswith("keyring.backends.fail") or name.startswith("keyring.backends.null"):
        return KeyringStatus(name, False, "no system keyring is available on this machine")
    if name in _INSECURE_BACKENDS:
        return KeyringStatus(name, False, "the only keyring found stores keys in a plain file")
    if priority <= 0:
        return KeyringStatus(name, False, "the system keyring is present but not usable")
    return KeyringStatus(name, True, "keys are stored in the system keyring")


@dataclass
class SecretStore:
    """Get and set API keys by profile name.

    ``session_only`` profiles keep their key in memory for this process only (the fallback
    offered when no usable keyring exists).
    """

    backend: KeyringBackend | None = None
    _memory: dict[str, str] = field(default_factory=dict, repr=False)

    def _kr(self) -> KeyringBackend:
        return self.backend if self.backend is not None else keyring.get_keyring()

    def status(self) -> KeyringStatus:
        return keyring_status(self._kr())

    def where(self, profile: str) -> str:
        """Plain words saying where this profile's key lives, for the settings badge."""
        if profile in self._memory:
            return "this session only (forgotten when Workbench quits)"
        st = self.status()
        if st.usable and self.get(profile) is not None:
            return f"system keyring ({st.backend.rsplit('.', 1)[-1]})"
        return "not set"

    def get(self, profile: str) -> str | None:
        if profile in self._memory:
            return self._memory[profile]
        st = self.status()
        if not st.usable:
            return None
        try:
            secret = self._kr().get_password(SERVICE, profile)
        except keyring.errors.KeyringError as exc:
            log.warning("keyring read failed for profile %r: %s", profile, type(exc).__name__)
            return None
        if secret:
            add_secret(secret)  # scrubbed from every log record from now on
        return secret

    def set(self, profile: str, secret: str, *, session_only: bool = False) -> None:
        """Store ``secret`` for ``profile``; raise SecretStoreError if the keyring cannot."""
        if not secret:
            raise SecretStoreError("the key is empty")
        add_secret(secret)
        if session_only:
            self._memory[profile] = secret
            return
        st = self.status()
        if not st.usable:
            raise SecretStoreError(
                f"cannot store the key: {st.reason}. Keep it for this session only instead, "
                "or install a keyring service (e.g. gnome-keyring)."
            )
        try:
            self._kr().set_password(SERVICE, profile, secret)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(
                f"the system keyring refused to store the key ({type(exc).__name__})"
            ) from None
        self._memory.pop(profile, None)

    def delete(self, profile: str) -> None:
        self._memory.pop(profile, None)
        if not self.status().usable:
            return
        try:
            self._kr().delete_password(SERVICE, profile)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(
                f"the system keyring refused to delete the key ({type(exc).__name__})"
            ) from None
