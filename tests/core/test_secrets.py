from __future__ import annotations

from pathlib import Path

import pytest
from keyring.backends import SecretService, fail

from workbench.core.secrets import SecretStore, SecretStoreError, keyring_status

KEY = "AIzaTEST-not-a-real-key-7f3a9c"


def test_no_keyring_is_reported_plainly() -> None:
    status = keyring_status(fail.Keyring())
    assert not status.usable
    assert "no system keyring" in status.reason


def test_no_keyring_refuses_to_store_but_offers_session_only() -> None:
    store = SecretStore(backend=fail.Keyring())
    with pytest.raises(SecretStoreError, match="session only"):
        store.set("gemini", KEY)
    store.set("gemini", KEY, session_only=True)
    assert store.get("gemini") == KEY
    assert "this session only" in store.where("gemini")
    assert KEY not in repr(store)


def test_empty_key_is_refused() -> None:
    with pytest.raises(SecretStoreError, match="empty"):
        SecretStore(backend=fail.Keyring()).set("gemini", "", session_only=True)


def test_real_secret_service_round_trip(keyring_env: Path, _workbench_home: Path) -> None:
    store = SecretStore(backend=SecretService.Keyring())
    assert store.status().usable, store.status()
    store.set("gemini", KEY)
    assert store.get("gemini") == KEY
    assert "system keyring" in store.where("gemini")
    # The key is in the keyring's own encrypted store, never in our data folder.
    for path in _workbench_home.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes()
    store.delete("gemini")
    assert store.get("gemini") is None
