"""Code execution in the sandbox: limits, timeouts, cancel, network and file-system isolation.

Each escape attempt here is recorded in docs/reliability.md ("Sandbox escape attempts").
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from workbench.engine.sandbox import CodeRunner, EnvironmentStore, ExecLimits, Isolation, Mechanism
from workbench.engine.sandbox import isolation as iso

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
async def _needs_bwrap() -> None:
    if (await iso.detect()).mechanism is not Mechanism.BWRAP:
        pytest.skip("bubblewrap is not usable on this machine")


async def _can_spawn() -> bool:
    proc = await asyncio.create_subprocess_exec("true")
    return await proc.wait() == 0


def _real(path: Path) -> str:
    return os.path.realpath(path)


@pytest.fixture
async def listener() -> AsyncIterator[int]:
    """A TCP server on 127.0.0.1 that greets every client."""

    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"hello-from-host\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(greet, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield port


async def test_python_and_bash_run_in_the_root(runner: CodeRunner, root: Path) -> None:
    res = await runner.run(root, "import os\nprint(os.getcwd())\nopen('made.txt','w').write('x')\n")
    assert res.ok, res
    assert res.stdout.strip() == "/sandbox" and res.mechanism == "bwrap"
    assert (root / "made.txt").read_text() == "x"
    res = await runner.run(root, "echo out; echo err >&2; cat made.txt; exit 3", "bash")
    assert res.exit_code == 3 and res.stdout == "out\nx" and res.stderr == "err\n"
    res = await runner.run(root, "1/0")
    assert res.exit_code == 1 and "ZeroDivisionError" in res.stderr and "cell.py" in res.stderr
    res = await runner.run(root, "print(1)", "ruby")
    assert res.refused and "ruby" in res.refused


async def test_wall_clock_timeout(runner: CodeRunner, root: Path) -> None:
    started = time.monotonic()
    res = await runner.run(root, "sleep 100", "bash", limits=ExecLimits(wall_seconds=1))
    assert res.timed_out and not res.ok
    assert time.monotonic() - started < 5


async def test_endless_loop_is_stopped(runner: CodeRunner, root: Path) -> None:
    res = await runner.run(
        root, "while True:\n    pass\n", limits=ExecLimits(wall_seconds=1.5, cpu_seconds=100)
    )
    assert res.timed_out


async def test_cpu_limit(runner: CodeRunner, root: Path) -> None:
    res = await runner.run(
        root, "while True:\n    pass\n", limits=ExecLimits(wall_seconds=20, cpu_seconds=1)
    )
    assert not res.timed_out
    assert res.exit_code in (128 + 24, -24, 128 + 9, -9)  # SIGXCPU, then SIGKILL at the hard limit
    assert res.duration_s < 10


async def test_memory_bomb(runner: CodeRunner, root: Path) -> None:
    code = "blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 1024 * 1024))\n"
    res = await runner.run(root, code, limits=ExecLimits(memory_bytes=256 * 1024**2))
    assert res.exit_code == 1 and "MemoryError" in res.stderr


async def test_fork_bomb_python(runner: CodeRunner, root: Path) -> None:
    code = (
        "import os, time\n"
        "n = 0\n"
        "try:\n"
        "    while True:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n"
        "        n += 1\n"
        "except OSError as exc:\n"
        "    print('stopped after', n, exc.errno)\n"
    )
    res = await runner.run(root, code, limits=ExecLimits(processes=16, wall_seconds=10))
    assert "stopped after" in res.stdout, res
    assert int(res.stdout.split()[2]) <= 16
    assert await _can_spawn()  # the engine can still start processes


async def test_fork_bomb_bash(runner: CodeRunner, root: Path) -> None:
    started = time.monotonic()
    res = await runner.run(
        root, ":(){ :|:& };:", "bash", limits=ExecLimits(processes=16, wall_seconds=3)
    )
    assert time.monotonic() - started < 15
    assert res.exit_code is not None
    assert await _can_spawn()


async def test_file_size_limit(runner: CodeRunner, root: Path) -> None:
    code = "with open('big.bin','wb') as f:\n    f.write(b'x' * (3 * 1024 * 1024))\n"
    res = await runner.run(root, code, limits=ExecLimits(file_size_bytes=1024 * 1024))
    assert res.exit_code != 0 and "File too large" in res.stderr
    assert (root / "big.bin").stat().st_size <= 1024 * 1024


async def test_cancel_event_kills_at_once(runner: CodeRunner, root: Path) -> None:
    cancel = asyncio.Event()
    asyncio.get_running_loop().call_later(0.5, cancel.set)
    started = time.monotonic()
    res = await runner.run(root, "sleep 30", "bash", cancel=cancel)
    assert res.cancelled and not res.timed_out
    assert time.monotonic() - started < 5


async def test_task_cancel_kills_the_sandbox(runner: CodeRunner, root: Path) -> None:
    code = "import time\nopen('alive','w').close()\nwhile True:\n    open('beat','a').write('.')\n    time.sleep(0.05)\n"
    task = asyncio.create_task(runner.run(root, code))
    for _ in range(100):
        if (root / "alive").exists():
            break
        await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.3)
    size = (root / "beat").stat().st_size
    await asyncio.sleep(0.5)
    assert (root / "beat").stat().st_size == size  # nothing keeps running


async def test_background_process_dies_with_the_run(runner: CodeRunner, root: Path) -> None:
    res = await runner.run(
        root, "(while true; do date >> beat; sleep 0.05; done) &\necho started", "bash"
    )
    assert res.stdout.strip() == "started"
    await asyncio.sleep(0.3)
    size = (root / "beat").stat().st_size if (root / "beat").exists() else 0
    await asyncio.sleep(0.5)
    assert ((root / "beat").stat().st_size if (root / "beat").exists() else 0) == size


CONNECT = (
    "import socket, sys\n"
    "try:\n"
    "    s = socket.create_connection(('127.0.0.1', {port}), timeout=3)\n"
    "    print('CONNECTED', s.recv(100).decode().strip())\n"
    "except OSError as exc:\n"
    "    print('BLOCKED', exc)\n"
)


async def test_network_disabled_blocks_loopback(
    runner: CodeRunner, root: Path, listener: int
) -> None:
    res = await runner.run(root, CONNECT.format(port=listener), network=False)
    assert res.stdout.startswith("BLOCKED"), res
    res = await runner.run(
        root,
        "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=2)\n    print('OUT')\nexcept OSError as e:\n    print('BLOCKED', e)\n",
    )
    assert res.stdout.startswith("BLOCKED")


async def test_network_allowed_reaches_loopback(
    runner: CodeRunner, root: Path, listener: int
) -> None:
    res = await runner.run(root, CONNECT.format(port=listener), network=True)
    assert res.stdout.strip() == "CONNECTED hello-from-host", res


async def test_engine_files_are_invisible(
    runner: CodeRunner, store: EnvironmentStore, data_dir: Path
) -> None:
    rec = await store.create()
    root = store.root(rec.id)
    (root / "db-link").symlink_to(data_dir / "engine.db")
    code = f"""
import os
targets = [{str(data_dir / "engine.db")!r}, {str(data_dir / "engine.json")!r}, 'db-link',
           '/etc/shadow', '/root/.bashrc', '/proc/1/environ']
for t in targets:
    try:
        print(t, 'READ', open(t, errors='replace').read()[:40])
    except OSError as e:
        print(t, 'DENIED', type(e).__name__)
print('ROOTS', sorted(os.listdir('/')))
found = []
for top in ('/sandbox', '/tmp', '/etc', '/dev'):
    for dirpath, dirs, names in os.walk(top):
        found += [os.path.join(dirpath, n) for n in names if n.startswith('engine.')]
print('FOUND', found)
"""
    res = await runner.run(root, code)
    assert "SECRET" not in res.stdout, res.stdout
    for name in ("engine.db", "engine.json", "db-link", "/etc/shadow", "/root/.bashrc"):
        line = next(
            ln for ln in res.stdout.splitlines() if name in ln and ("READ" in ln or "DENIED" in ln)
        )
        assert "DENIED" in line, line
    assert "FOUND []" in res.stdout
    roots = res.stdout.split("ROOTS ")[1].splitlines()[0]
    assert "'home'" not in roots and "'root'" not in roots and "'work'" not in roots


async def test_environment_is_scrubbed(
    runner: CodeRunner, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_ENGINE_TOKEN", "SECRET-TOKEN-ENV")
    monkeypatch.setenv("GEMINI_API_KEY", "SECRET-KEY")
    res = await runner.run(
        root, "import os\nprint(sorted(os.environ.items()))", env={"LOG_LEVEL": "debug"}
    )
    assert "SECRET" not in res.stdout
    assert "('LOG_LEVEL', 'debug')" in res.stdout and "('HOME', '/sandbox')" in res.stdout


async def test_output_is_truncated_head_and_tail(runner: CodeRunner, root: Path) -> None:
    code = "print('FIRST')\nprint('x' * 1_000_000)\nprint('LAST')\n"
    res = await runner.run(root, code, limits=ExecLimits(output_bytes=4096))
    assert res.truncated and res.stdout.startswith("FIRST") and res.stdout.rstrip().endswith("LAST")
    assert "bytes omitted" in res.stdout and len(res.stdout) < 5000


async def test_tmp_is_private_and_limited(runner: CodeRunner, root: Path) -> None:
    res = await runner.run(
        root, "import tempfile, os\nprint(tempfile.gettempdir(), os.listdir('/tmp'))"
    )
    assert res.stdout.startswith("/tmp")
    res = await runner.run(
        root,
        "dd if=/dev/zero of=/tmp/fill bs=1M count=8 2>&1; echo rc=$?",
        "bash",
        limits=ExecLimits(tmp_bytes=2 * 1024 * 1024),
    )
    assert "No space left" in res.stdout


async def test_without_bwrap_is_refused(root: Path) -> None:
    none = Isolation(Mechanism.NONE, detail="bubblewrap is not installed")
    res = await CodeRunner(isolation=none).run(root, "print(1)")
    assert res.refused and "bubblewrap" in res.refused and "apt install bubblewrap" in res.refused
    weak = CodeRunner(isolation=none, allow_weak_isolation=True)
    res = await weak.run(root, "print(1)", network=False)
    assert res.refused and "network disabled" in res.refused  # never silently with network
    res = await weak.run(root, "import os\nprint(os.getcwd())", network=True)
    assert res.ok and res.stdout.strip() == _real(root)


async def test_unshare_fallback_blocks_network(root: Path, listener: int) -> None:
    found = await iso.probe(bwrap_path="/nonexistent/bwrap")
    if found.mechanism is not Mechanism.UNSHARE:
        pytest.skip("unshare -rn does not work here")
    weak = CodeRunner(
        isolation=found, allow_weak_isolation=True, limits=ExecLimits(wall_seconds=10)
    )
    res = await weak.run(root, CONNECT.format(port=listener), network=False)
    assert res.stdout.startswith("BLOCKED"), res
    res = await weak.run(root, CONNECT.format(port=listener), network=True)
    assert res.stdout.startswith("CONNECTED"), res


_AS_USER = """
import asyncio, pathlib, sys, tempfile
from workbench.engine.sandbox import CodeRunner, ExecLimits
BOMB = "import os, time\\nn = 0\\ntry:\\n    while True:\\n        if os.fork() == 0:\\n            time.sleep(30)\\n            os._exit(0)\\n        n += 1\\nexcept OSError:\\n    print('stopped after', n)\\n"
async def main():
    root = pathlib.Path(tempfile.mkdtemp())
    runner = CodeRunner(limits=ExecLimits(wall_seconds=10, processes=16))
    res = await runner.run(root, BOMB)
    print(res.mechanism, res.stdout.strip())
    res = await runner.run(root, "import socket\\ntry:\\n    socket.create_connection(('127.0.0.1', int(%(port)s)), timeout=3)\\n    print('CONNECTED')\\nexcept OSError:\\n    print('BLOCKED')\\n")
    print(res.stdout.strip())
asyncio.run(main())
"""


def _user_script(port: int) -> tuple[Path, dict[str, str]] | None:
    """A world-readable copy of the script and the environment to run it as nobody."""
    if os.geteuid() != 0 or not os.path.exists("/usr/bin/setpriv"):
        return None
    src = Path(__file__).resolve().parents[3] / "src"
    site = next((src.parent / ".venv/lib").glob("python3*/site-packages"), None)
    if site is None:
        return None
    folder = Path(tempfile.mkdtemp(prefix="wb-as-user-"))
    folder.chmod(0o755)
    script = folder / "as_user.py"
    script.write_text(_AS_USER % {"port": port})
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "PYTHONPATH": f"{src}:{site}"}
    return script, env


async def test_unprivileged_engine_limits(listener: int) -> None:
    """As a normal desktop user (not root) RLIMIT_NPROC alone contains a fork bomb."""
    prepared = _user_script(listener)
    if prepared is None:
        pytest.skip("needs root (to switch to an unprivileged user) and the project virtualenv")
    script, env = prepared
    try:
        proc = await asyncio.create_subprocess_exec(
            "/usr/bin/setpriv",
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            "/usr/bin/python3",
            str(script),
            cwd="/",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 50)
    finally:
        await asyncio.to_thread(shutil.rmtree, script.parent, True)
    if proc.returncode != 0 and (b"ModuleNotFoundError" in err or b"ImportError" in err):
        pytest.skip(f"the system python cannot load the project: {err.decode()[-200:]}")
    lines = out.decode().splitlines()
    assert proc.returncode == 0, err.decode()
    assert lines[0].startswith("bwrap stopped after")
    assert int(lines[0].split()[-1]) <= 16
    assert lines[1] == "BLOCKED"
