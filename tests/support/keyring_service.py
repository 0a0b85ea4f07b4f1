"""A real Secret Service keyring (dbus-daemon + gnome-keyring) on a private D-Bus session.

Shared by the keyring tests in ``tests/core`` and the secrets scan in ``tests/reliability``
(imported as fixtures by ``tests/conftest.py``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def secret_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Start dbus-daemon and an unlocked gnome-keyring; yield the environment to use them."""
    if not (shutil.which("dbus-daemon") and shutil.which("gnome-keyring-daemon")):
        pytest.skip("dbus-daemon and gnome-keyring-daemon are needed (make setup installs them)")
    with running_secret_service(tmp_path_factory.mktemp("keyring")) as env:
        yield env


@contextlib.contextmanager
def running_secret_service(root: Path) -> Iterator[dict[str, str]]:
    """A private, unlocked Secret Service under ``root`` (also for benchmark scripts)."""
    env = dict(os.environ)
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR"):
        folder = root / name.lower()
        folder.mkdir(mode=0o700)
        env[name] = str(folder)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        bus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        procs.append(bus)
        assert bus.stdout is not None
        env["DBUS_SESSION_BUS_ADDRESS"] = bus.stdout.readline().decode().strip()
        daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        procs.append(daemon)
        assert daemon.stdin is not None
        daemon.stdin.write(b"test-password\n")
        daemon.stdin.close()
        _wait_unlocked(env)
        yield {k: env[k] for k in (*_XDG, "DBUS_SESSION_BUS_ADDRESS")}
    finally:
        for proc in reversed(procs):
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
            if proc.poll() is None:
                proc.kill()
                proc.wait()


_XDG = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR")


def _secrets_name_owned(address: str) -> bool:
    """Whether someone owns ``org.freedesktop.secrets`` (asked without activating it)."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    bus = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")
    try:
        with open_dbus_connection(address) as conn:
            reply = conn.send_and_get_reply(
                new_method_call(bus, "NameHasOwner", "s", ("org.freedesktop.secrets",)), timeout=5
            )
    except Exception:  # the bus itself is still starting
        return False
    return bool(reply.body[0])


def _wait_unlocked(env: dict[str, str]) -> None:
    import secretstorage  # comes with keyring on Linux
    from secretstorage.collection import get_collection_by_alias

    old = {k: os.environ.get(k) for k in (*_XDG, "DBUS_SESSION_BUS_ADDRESS")}
    os.environ.update({k: env[k] for k in old})
    try:
        deadline = time.monotonic() + 30
        # Ask for the collection only once our daemon owns the Secret Service name: asking
        # earlier makes D-Bus *activate* a second gnome-keyring-daemon, which has no password,
        # wins the name, and keeps the collection locked (the fixture then failed after 30 s).
        while not _secrets_name_owned(env["DBUS_SESSION_BUS_ADDRESS"]):
            if time.monotonic() > deadline:
                raise RuntimeError("gnome-keyring did not register on the session bus")
            time.sleep(0.05)
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                conn = secretstorage.dbus_init()
                try:
                    # Look the collection up without creating it: creating one would ask for
                    # a password prompt nobody can answer while the daemon is still starting.
                    collection = get_collection_by_alias(conn, "default")
                    if not collection.is_locked():
                        return
                finally:
                    conn.close()
            except Exception as exc:  # the daemon is still starting
                last = exc
            time.sleep(0.2)
        raise RuntimeError(f"gnome-keyring did not unlock: {last!r}")
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def keyring_env(secret_service: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point this test's process at the private Secret Service (and its keyring module: an
    earlier test may have left it on another backend, which ``keyring`` caches)."""
    import keyring.core
    from keyring.backends import SecretService

    for key, value in secret_service.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(keyring.core, "_keyring_backend", SecretService.Keyring())
    return Path(secret_service["XDG_DATA_HOME"])
