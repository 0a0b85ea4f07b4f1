"""How executed code is isolated from the host, detected once per process.

Mechanisms, best first:

``bwrap`` (bubblewrap; Debian/Ubuntu package ``bubblewrap``)
    New user, mount, PID, IPC, UTS and cgroup namespaces, plus a network namespace unless the
    environment allows the network. The code sees only ``/usr`` (read-only), a few harmless
    ``/etc`` files, a private ``/proc`` and ``/dev``, a size-limited ``/tmp`` and the
    environment root at ``/sandbox`` (read-write, its working directory). The engine's data
    dir, database, token file, the user's home and every other environment are not there.
    All capabilities are dropped, nested user namespaces are disabled, and the sandbox dies
    with its parent.

``unshare`` (util-linux ``unshare -rn``)
    Only a network namespace (and a PID namespace); the file system is not hidden. Used only
    when the executor is explicitly allowed weak isolation.

``none``
    Plain subprocess with resource limits; only when explicitly allowed.

Running as root: the kernel does not apply ``RLIMIT_NPROC`` to processes whose real user is
root, which they are inside bwrap's user namespace too. The engine then also puts the sandbox
into its own ``pids`` cgroup (``pids.max``) when the cgroup file system is writable.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

SANDBOX_MOUNT = "/sandbox"
"""Where the environment root appears inside a bwrap sandbox (also ``HOME``)."""

INSTALL_HINT = (
    "Install bubblewrap (Debian/Ubuntu: sudo apt install bubblewrap; Fedora: sudo dnf install "
    "bubblewrap) and make sure unprivileged user namespaces are enabled."
)

_ETC_FILES = (
    "resolv.conf",
    "hosts",
    "host.conf",
    "gai.conf",
    "nsswitch.conf",
    "passwd",
    "group",
    "localtime",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "ssl/certs",
    "ssl/openssl.cnf",
    "ca-certificates",
    "ca-certificates.conf",
    "mime.types",
    "protocols",
    "services",
    "fonts",
    "matplotlibrc",
)


class Mechanism(enum.StrEnum):
    """An isolation mechanism."""

    BWRAP = "bwrap"
    UNSHARE = "unshare"
    NONE = "none"


@dataclass(frozen=True)
class Isolation:
    """The mechanism this machine offers and how it was found.

    Attributes:
        mechanism: the best working mechanism.
        bwrap: path of the bwrap binary (when found).
        unshare: path of the unshare binary (when found).
        detail: a plain sentence about what was found (for logs and docs).
    """

    mechanism: Mechanism
    bwrap: str | None = None
    unshare: str | None = None
    detail: str = ""


def _system_dirs() -> list[str]:
    """bwrap arguments that recreate the merged-/usr layout (``/bin`` → ``usr/bin``)."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = f"/{name}"
        if os.path.islink(host):
            args += ["--symlink", os.readlink(host), host]
        elif os.path.isdir(host):
            args += ["--ro-bind", host, host]
    for name in _ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def bwrap_args(
    bwrap: str,
    *,
    root_fd: int,
    network: bool,
    tmp_bytes: int,
) -> list[str]:
    """The bwrap command line up to (and including) ``--``.

    Args:
        bwrap: the bwrap binary.
        root_fd: an open descriptor of the environment root (bound at ``/sandbox``).
        network: share the host network (otherwise a private, empty network namespace).
        tmp_bytes: size of the private ``/tmp``.
    """
    args = [
        bwrap,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--uid",
        "1000",
        "--gid",
        "1000",
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
    ]
    if network:
        args.append("--share-net")
    args += _system_dirs()
    args += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(tmp_bytes),
        "--tmpfs",
        "/tmp",
        "--bind-fd",
        str(root_fd),
        SANDBOX_MOUNT,
        "--chdir",
        SANDBOX_MOUNT,
        "--",
    ]
    return args


def unshare_args(unshare: str, *, network: bool) -> list[str]:
    """The ``unshare`` prefix for weak isolation (a network namespace unless allowed)."""
    args = [unshare, "--user", "--map-root-user", "--pid", "--fork", "--kill-child"]
    if not network:
        args.insert(1, "--net")
    return [*args, "--"]


async def _succeeds(args: list[str], pass_fds: tuple[int, ...] = ()) -> bool:
    try:
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            pass_fds=pass_fds,
            env={"PATH": "/usr/bin:/bin"},
        )
    except OSError:
        return False
    try:
        return await asyncio.wait_for(proc.wait(), 10) == 0
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return False


async def probe(*, bwrap_path: str | None = None, unshare_path: str | None = None) -> Isolation:
    """Find the best mechanism that actually works here (runs a trivial command in it)."""
    bwrap = bwrap_path or shutil.which("bwrap")
    unshare = unshare_path or shutil.which("unshare")
    true = shutil.which("true") or "/bin/true"
    if bwrap:
        with tempfile.TemporaryDirectory(prefix="wb-probe-") as tmp:
            fd = os.open(tmp, os.O_RDONLY | os.O_DIRECTORY)
            try:
                args = bwrap_args(bwrap, root_fd=fd, network=False, tmp_bytes=1 << 20)
                if await _succeeds([*args, true], (fd,)):
                    return Isolation(Mechanism.BWRAP, bwrap, unshare, f"bubblewrap at {bwrap}")
            finally:
                os.close(fd)
        detail = f"bubblewrap at {bwrap} does not work here (user namespaces disabled?)"
    else:
        detail = "bubblewrap is not installed"
    if unshare and await _succeeds([*unshare_args(unshare, network=False), true]):
        return Isolation(Mechanism.UNSHARE, None, unshare, detail + "; unshare -rn works")
    return Isolation(Mechanism.NONE, None, None, detail + "; no network namespace available")


_cached: Isolation | None = None
_lock: asyncio.Lock | None = None


async def detect() -> Isolation:
    """``probe()`` once per process (later calls return the cached answer)."""
    global _cached, _lock
    if _cached is not None:
        return _cached
    if _lock is None:
        _lock = asyncio.Lock()
    async with _lock:
        if _cached is None:
            _cached = await probe()
    return _cached


# --- cgroups (root only) ------------------------------------------------------------------


def _own_cgroup_dirs() -> tuple[Path | None, Path | None]:
    """(v1 pids hierarchy dir, v2 dir) of this process, when mounted."""
    mounts: dict[str, Path] = {}
    v2_mount: Path | None = None
    with contextlib.suppress(OSError), open("/proc/self/mountinfo", encoding="utf-8") as fh:
        for line in fh:
            fields = line.split()
            sep = fields.index("-")
            fstype, options = fields[sep + 1], fields[sep + 3]
            if fstype == "cgroup" and "pids" in options.split(","):
                mounts["pids"] = Path(fields[4])
            elif fstype == "cgroup2":
                v2_mount = Path(fields[4])
    v1 = v2 = None
    with contextlib.suppress(OSError), open("/proc/self/cgroup", encoding="utf-8") as fh:
        for line in fh:
            hid, controllers, path = line.rstrip("\n").split(":", 2)
            rel = path.lstrip("/")
            if "pids" in controllers.split(",") and "pids" in mounts:
                v1 = mounts["pids"] / rel
            elif hid == "0" and v2_mount is not None:
                v2 = v2_mount / rel
    return v1, v2


@dataclass
class PidsCgroup:
    """A throw-away ``pids`` cgroup that caps the number of tasks of one run."""

    path: Path
    version: int

    def kill_all(self) -> None:
        """SIGKILL every task in the cgroup."""
        if self.version == 2:
            with contextlib.suppress(OSError):
                (self.path / "cgroup.kill").write_text("1")
                return
        with contextlib.suppress(OSError):
            for pid in (self.path / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):
                    os.kill(int(pid), 9)

    async def remove(self) -> None:
        """Kill what is left and remove the cgroup (waits briefly for tasks to exit)."""
        for _ in range(50):
            self.kill_all()
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                await asyncio.sleep(0.02)


def make_pids_cgroup(name: str, max_tasks: int) -> PidsCgroup | None:
    """A child ``pids`` cgroup of this process's own cgroup, or None when not possible."""
    if os.geteuid() != 0:
        return None
    v1, v2 = _own_cgroup_dirs()
    candidates: list[tuple[Path, int]] = []
    if v1 is not None:
        candidates.append((v1, 1))
    if v2 is not None:
        candidates.append((v2, 2))
    for parent, version in candidates:
        path = parent / name
        try:
            if version == 2:
                controllers = (parent / "cgroup.subtree_control").read_text().split()
                if "pids" not in controllers:
                    continue
            path.mkdir()
            (path / "pids.max").write_text(str(max_tasks))
            return PidsCgroup(path, version)
        except OSError:
            with contextlib.suppress(OSError):
                path.rmdir()
            continue
    return None
