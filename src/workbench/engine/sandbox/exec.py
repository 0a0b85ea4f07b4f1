"""Run Python or bash code inside an environment (the ``code_execution`` tool's engine).

``CodeRunner.run`` starts the code in a subprocess whose working directory is the
environment root, isolated by the best mechanism of ``isolation.py``, with:

* a scrubbed environment (``PATH``, ``HOME`` = the root, ``TMPDIR``, ``LANG`` … plus the
  environment's own ``env`` values) — nothing of the engine's variables, token or paths;
* resource limits set inside the sandbox just before the code starts: CPU seconds, address
  space, file size, processes (counted inside the sandbox's user namespace), open files, no
  core dumps; when the engine runs as root a ``pids`` cgroup caps the processes as well;
* a wall-clock timeout and cancellation that kill the whole sandbox at once (SIGKILL to the
  process group; with bwrap the PID namespace dies with it);
* stdout and stderr captured up to a limit each, keeping the head and the tail around a
  ``[… N bytes omitted …]`` marker.

Network: the sandbox gets the network only when asked (``network=True``), or through the
engine's egress proxy when the run carries an ``EgressGrant`` for an environment with network
(bubblewrap only; ``egress_proxy.py``): the code then keeps its empty network namespace and
reaches allowed hosts only through the proxy, which adds credentials. Without network the
code runs in an empty network namespace. If no mechanism can provide that, the run is refused
with a message saying what to install; it never silently runs with network. By default the
runner also refuses to run at all without bubblewrap (``allow_weak_isolation=False``), since
only bubblewrap hides the engine's files from the code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from . import isolation as iso
from ._util import new_id
from .capture import Capture, pump
from .egress_proxy import EgressGrant, EgressUnavailable, Session, session_for

LANGUAGES = ("python", "bash")

_LAUNCHER = """
import json, os, resource, sys
for name, (soft, hard) in json.loads(sys.argv[1]).items():
    kind = getattr(resource, name)
    cur_soft, cur_hard = resource.getrlimit(kind)
    if cur_hard != resource.RLIM_INFINITY:
        hard = min(hard, cur_hard)
        soft = min(soft, hard)
    resource.setrlimit(kind, (soft, hard))
os.execvp(sys.argv[2], sys.argv[2:])
"""

_SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass(frozen=True)
class ExecLimits:
    """Resource limits of one run.

    Attributes:
        wall_seconds: real time before the sandbox is killed.
        cpu_seconds: CPU time per process (SIGXCPU, then SIGKILL one second later).
        memory_bytes: address space per process.
        file_size_bytes: largest file a process may write.
        processes: processes/threads at once inside the sandbox.
        open_files: descriptors per process.
        tmp_bytes: size of the private ``/tmp`` (bwrap only).
        output_bytes: captured bytes per stream (head and tail are kept).
    """

    wall_seconds: float = 60.0
    cpu_seconds: int = 60
    memory_bytes: int = 2 * 1024**3
    file_size_bytes: int = 512 * 1024**2
    processes: int = 128
    open_files: int = 512
    tmp_bytes: int = 512 * 1024**2
    output_bytes: int = 32 * 1024


@dataclass
class ExecResult:
    """What a run produced.

    Attributes:
        stdout: captured standard output (decoded, possibly shortened).
        stderr: captured standard error (decoded, possibly shortened).
        exit_code: the exit status; None when it never ran. A negative value is a signal
            that killed the sandbox itself; inside bwrap a code killed by a signal shows as
            128 + signal (e.g. 137 for SIGKILL, 152 for SIGXCPU), like a shell reports it.
        timed_out: killed by the wall-clock timeout.
        cancelled: killed because the caller cancelled.
        truncated: stdout or stderr was shortened.
        duration_s: wall time of the run.
        network: whether the code had network access.
        proxied: the network went through the engine's egress proxy (``egress_proxy.py``).
        mechanism: the isolation used (``bwrap``, ``unshare``, ``none``).
        refused: why the code was not run at all (None when it ran).
    """

    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    timed_out: bool = False
    cancelled: bool = False
    truncated: bool = False
    duration_s: float = 0.0
    network: bool = False
    proxied: bool = False
    mechanism: str = ""
    refused: str | None = None

    @property
    def ok(self) -> bool:
        """True when the code ran and exited with status 0."""
        return self.refused is None and self.exit_code == 0 and not self.timed_out


def _rlimits(limits: ExecLimits, *, in_userns: bool) -> dict[str, tuple[int, int]]:
    out = {
        "RLIMIT_CPU": (limits.cpu_seconds, limits.cpu_seconds + 1),
        "RLIMIT_AS": (limits.memory_bytes, limits.memory_bytes),
        "RLIMIT_FSIZE": (limits.file_size_bytes, limits.file_size_bytes),
        "RLIMIT_NOFILE": (limits.open_files, limits.open_files),
        "RLIMIT_CORE": (0, 0),
    }
    if in_userns:
        # Counted per user namespace, so this caps the sandbox, not the user's session.
        out["RLIMIT_NPROC"] = (limits.processes, limits.processes)
    return out


def _environment(home: str, tmp: str, extra: Mapping[str, str] | None) -> dict[str, str]:
    env = {
        "PATH": f"{home}/.local/bin:{_SYSTEM_PATH}",
        "HOME": home,
        "TMPDIR": tmp,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "dumb",
        "PYTHONUNBUFFERED": "1",
        "PYTHONIOENCODING": "utf-8",
        "MPLBACKEND": "Agg",
        "XDG_CACHE_HOME": f"{tmp}/.cache",
        # pip installs into HOME/.local, i.e. into the environment, and stays there.
        "PIP_USER": "1",
        "PIP_BREAK_SYSTEM_PACKAGES": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    for name, value in (extra or {}).items():
        env[name] = value
    return env


class CodeRunner:
    """Runs code in environments; one per engine.

    Args:
        isolation: the mechanism to use (detected on first run when None).
        limits: default limits (each run may pass its own).
        allow_weak_isolation: run without bubblewrap (``unshare -rn`` or nothing). The
            engine's files are then visible to the code; network-disabled runs still need a
            network namespace and are refused without one.
    """

    def __init__(
        self,
        *,
        isolation: iso.Isolation | None = None,
        limits: ExecLimits | None = None,
        allow_weak_isolation: bool = False,
    ) -> None:
        self._isolation = isolation
        self.limits = limits or ExecLimits()
        self.allow_weak_isolation = allow_weak_isolation

    async def isolation(self) -> iso.Isolation:
        """The mechanism in use (detected once)."""
        if self._isolation is None:
            self._isolation = await iso.detect()
        return self._isolation

    async def run(
        self,
        root: Path,
        code: str,
        language: str = "python",
        *,
        network: bool = False,
        env: Mapping[str, str] | None = None,
        limits: ExecLimits | None = None,
        cancel: asyncio.Event | None = None,
        egress: EgressGrant | None = None,
    ) -> ExecResult:
        """Run ``code`` with the environment root as working directory.

        Returns an ``ExecResult``; ``refused`` is set (and nothing ran) when the language is
        unknown, no interpreter exists, or the isolation needed is missing. With ``egress``
        (an environment with network, under bubblewrap) the code's requests go through the
        egress proxy instead of the host network; ``network`` is then ignored. Cancelling the
        calling task kills the sandbox before the cancellation propagates.
        """
        limits = limits or self.limits
        mech = await self.isolation()
        result = ExecResult(network=network, mechanism=mech.mechanism.value)
        language = language.lower().strip()
        if language not in LANGUAGES:
            result.refused = f"Unsupported language {language!r}; use python or bash."
            return result
        python = shutil.which("python3", path=_SYSTEM_PATH)
        if python is None:
            result.refused = "python3 is not installed on this machine; code cannot run."
            return result
        proxied = (
            egress is not None
            and egress.policy.mode != "disabled"
            and mech.mechanism is iso.Mechanism.BWRAP
        )
        network = network and not proxied
        refusal = self._refusal(mech, network)
        if refusal:
            result.refused = refusal
            return result
        result.network = network or proxied
        result.proxied = proxied
        started = time.monotonic()
        try:
            async with session_for(egress if proxied else None, python) as session:
                await self._run(
                    root, code, language, python, mech, network, env, limits, cancel, result,
                    session,
                )  # fmt: skip
        except EgressUnavailable as exc:
            result.refused = f"Code with network cannot run: the egress proxy failed ({exc})."
        finally:
            result.duration_s = time.monotonic() - started
        return result

    def _refusal(self, mech: iso.Isolation, network: bool) -> str | None:
        if mech.mechanism is iso.Mechanism.BWRAP:
            return None
        if not self.allow_weak_isolation:
            return (
                "Code execution is unavailable: this engine needs bubblewrap to keep code away "
                f"from your files ({mech.detail}). {iso.INSTALL_HINT}"
            )
        if not network and mech.mechanism is not iso.Mechanism.UNSHARE:
            return (
                "Code execution with network disabled is unavailable: no way to cut the code "
                f"off the network was found ({mech.detail}). {iso.INSTALL_HINT}"
            )
        return None

    async def _run(
        self,
        root: Path,
        code: str,
        language: str,
        python: str,
        mech: iso.Isolation,
        network: bool,
        env: Mapping[str, str] | None,
        limits: ExecLimits,
        cancel: asyncio.Event | None,
        result: ExecResult,
        session: Session | None = None,
    ) -> None:
        suffix = ".py" if language == "python" else ".sh"
        interpreter = [python, "-u"] if language == "python" else ["bash"]
        pass_fds: list[int] = []
        cleanup: list[int] = []
        scratch: str | None = None
        cgroup: iso.PidsCgroup | None = None
        try:
            if mech.mechanism is iso.Mechanism.BWRAP:
                assert mech.bwrap is not None
                root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                code_fd = os.memfd_create("cell", 0)
                cleanup += [root_fd, code_fd]
                os.write(code_fd, code.encode("utf-8"))
                os.lseek(code_fd, 0, os.SEEK_SET)
                pass_fds += [root_fd, code_fd]
                prefix = iso.bwrap_args(
                    mech.bwrap, root_fd=root_fd, network=network, tmp_bytes=limits.tmp_bytes
                )
                cell = f"/tmp/.workbench/cell{suffix}"
                prefix[-1:-1] = ["--dir", "/tmp/.workbench", "--file", str(code_fd), cell]
                if session is not None:
                    prefix[-1:-1] = session.bwrap_args
                    prefix += session.argv_prefix
                home, tmp, cwd = iso.SANDBOX_MOUNT, "/tmp", None
                in_userns = True
            else:
                scratch = tempfile.mkdtemp(prefix="wb-run-")
                cell = os.path.join(scratch, f"cell{suffix}")
                await asyncio.to_thread(Path(cell).write_text, code, "utf-8")
                if mech.mechanism is iso.Mechanism.UNSHARE:
                    assert mech.unshare is not None
                    prefix = iso.unshare_args(mech.unshare, network=network)
                    in_userns = True
                else:
                    prefix = []
                    in_userns = False
                home, tmp, cwd = str(root), scratch, str(root)
            launcher = [
                python,
                "-S",
                "-c",
                _LAUNCHER,
                json.dumps(_rlimits(limits, in_userns=in_userns)),
            ]
            argv = [*prefix, *launcher, *interpreter, cell]
            cgroup = iso.make_pids_cgroup(new_id("workbench-sandbox-"), limits.processes + 3)
            if cgroup is not None:
                procs = str(cgroup.path / "cgroup.procs")
                argv = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', procs, *argv]
            environ = _environment(home, tmp, env)
            environ.update(session.env if session is not None else {})
            await self._spawn_and_wait(argv, cwd, environ, pass_fds, limits, cancel, cgroup, result)
        finally:
            for fd in cleanup:
                with contextlib.suppress(OSError):
                    os.close(fd)
            if cgroup is not None:
                await cgroup.remove()
            if scratch is not None:
                await asyncio.to_thread(shutil.rmtree, scratch, True)

    async def _spawn_and_wait(
        self,
        argv: list[str],
        cwd: str | None,
        env: dict[str, str],
        pass_fds: list[int],
        limits: ExecLimits,
        cancel: asyncio.Event | None,
        cgroup: iso.PidsCgroup | None,
        result: ExecResult,
    ) -> None:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env=env,
            pass_fds=pass_fds,
            start_new_session=True,
        )
        out, err = Capture(limits.output_bytes), Capture(limits.output_bytes)
        pumps = [
            asyncio.ensure_future(pump(proc.stdout, out)),
            asyncio.ensure_future(pump(proc.stderr, err)),
        ]
        waiter = asyncio.ensure_future(proc.wait())
        cancel_wait = asyncio.ensure_future(cancel.wait()) if cancel else None
        try:
            watched = {waiter} | ({cancel_wait} if cancel_wait else set())
            done, _ = await asyncio.wait(
                watched, timeout=limits.wall_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            if waiter not in done:
                result.cancelled = cancel_wait is not None and cancel_wait in done
                result.timed_out = not result.cancelled
                _kill(proc, cgroup)
            await waiter
            # Anything still holding the pipes (a daemonised child) is killed after a grace.
            _, pending = await asyncio.wait(pumps, timeout=1.0)
            if pending:
                _kill(proc, cgroup)
                await asyncio.wait(pending, timeout=1.0)
        except asyncio.CancelledError:
            _kill(proc, cgroup)
            with contextlib.suppress(Exception):
                await asyncio.shield(waiter)
            raise
        finally:
            for task in (*pumps, waiter, *([cancel_wait] if cancel_wait else [])):
                if not task.done():
                    task.cancel()
            if proc.returncode is None:
                _kill(proc, cgroup)
        result.exit_code = proc.returncode
        result.stdout, result.stderr = out.text(), err.text()
        result.truncated = out.truncated or err.truncated


def _kill(proc: asyncio.subprocess.Process, cgroup: iso.PidsCgroup | None) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if cgroup is not None:
        cgroup.kill_all()
