"""Sandbox escape attempts made *through agent runs* on the real engine process.

The scripted model calls the tools exactly as written; every attempt must be contained, and
the engine must answer the next request. docs/reliability.md records each attempt.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from engine_helpers import TOKEN, EngineProcess, create

pytestmark = pytest.mark.timeout(60)

AGENT = "antigravity-preview-05-2026"


@pytest.fixture(scope="module")
def eng(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    process = EngineProcess(
        tmp_path_factory.mktemp("secure") / "data", "--code-timeout", "4"
    ).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def web(eng: EngineProcess) -> Iterator[httpx.Client]:
    with eng.http() as client:
        yield client
    # The engine stays up and answers the next request after every attempt.
    assert eng.proc is not None and eng.proc.poll() is None
    with eng.http() as client:
        after = create(client, {"agent": AGENT, "input": "still alive?"}).json()
    assert after["status"] == "completed"


def _call(name: str, args: dict[str, Any]) -> str:
    return f"[[call {name} {json.dumps(args)}]]"


def _code(code: str, language: str = "python") -> str:
    return _call("code_execution", {"language": language, "code": code})


def _agent_run(web: httpx.Client, text: str, **extra: Any) -> dict[str, Any]:
    response = create(web, {"agent": AGENT, "input": text, **extra}, timeout=60)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "completed", body
    return body


def _results(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in body["steps"] if s["type"].endswith("_result")]


@pytest.mark.parametrize(
    "args",
    [
        {"path": "../../engine.db"},
        {"path": "a/../../../engine.json"},
        {"path": "%2e%2e/%2e%2e/engine.db"},
    ],
)
def test_path_traversal_via_file_tools(web: httpx.Client, eng: EngineProcess, args: Any) -> None:
    body = _agent_run(web, _call("read_file", args) + _call("write_file", {**args, "content": "x"}))
    for result in _results(body):
        assert result["is_error"] is True
        assert TOKEN not in json.dumps(result)
    assert (eng.data_dir / "engine.db").read_bytes()[:6] == b"SQLite"


def test_absolute_path_reads_the_sandbox(web: httpx.Client) -> None:
    body = _agent_run(web, _call("read_file", {"path": "/etc/passwd"}))
    (result,) = _results(body)
    assert result["is_error"] is True and "root:" not in result["result"]


def test_symlink_out_of_the_sandbox(web: httpx.Client, eng: EngineProcess) -> None:
    target = str(eng.data_dir)
    plant = _code(f"import os\nos.symlink({target!r}, 'data')\nos.symlink('/etc', 'etc')")
    body = _agent_run(
        web,
        plant
        + _call("read_file", {"path": "data/engine.json"})
        + _call("list_files", {"path": "data"})
        + _call("read_file", {"path": "etc/hostname"}),
    )
    results = _results(body)
    assert results[0]["result"] == "[no output]"
    for result in results[1:]:
        assert result["is_error"] is True
        assert TOKEN not in json.dumps(result)
    env_id = body["environment_id"]
    tar = web.get(f"/v1beta/files/environment-{env_id}:download", params={"alt": "media"})
    assert TOKEN.encode() not in tar.content


def test_code_cannot_read_engine_files_or_token(web: httpx.Client, eng: EngineProcess) -> None:
    code = (
        "import os\n"
        f"for p in [{str(eng.data_dir / 'engine.db')!r}, {str(eng.data_dir / 'engine.json')!r}]:\n"
        "    try:\n"
        "        print(open(p, 'rb').read()[:40])\n"
        "    except OSError as e:\n"
        "        print(type(e).__name__)\n"
        "print(sorted(os.environ))\n"
        "print(os.listdir('/'))\n"
    )
    body = _agent_run(web, _code(code))
    (result,) = _results(body)
    text = result["result"]
    assert text.count("FileNotFoundError") == 2
    assert TOKEN not in text and "SQLite" not in text
    assert "WORKBENCH_ENGINE_TOKEN" not in text


def test_fork_bomb_is_contained(web: httpx.Client) -> None:
    python_bomb = "import os\nwhile True:\n    os.fork()"
    body = _agent_run(
        web, _code(":(){ :|:& };:", "bash") + _code(python_bomb) + _code("echo ok", "bash")
    )
    bash_result, python_result, after = _results(body)
    assert "result" in bash_result  # ran and ended (its background children die with it)
    assert python_result["is_error"] is True
    assert "BlockingIOError" in python_result["result"] or "stopped" in python_result["result"]
    assert after["result"].strip() == "ok"  # processes can be started again


def test_memory_bomb_is_contained(web: httpx.Client) -> None:
    body = _agent_run(web, _code("x = bytearray(16 * 1024 ** 3)\nprint(len(x))"))
    (result,) = _results(body)
    assert result["is_error"] is True and "MemoryError" in result["result"]


def test_endless_loop_is_stopped(web: httpx.Client) -> None:
    body = _agent_run(web, _code("while True:\n    pass"))
    (result,) = _results(body)
    assert result["is_error"] is True
    assert "time limit" in result["result"] or "CPU" in result["result"]


def test_network_is_disabled(web: httpx.Client) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    accepted: list[Any] = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True)
    thread.start()
    try:
        code = (
            "import socket\n"
            "for host in ['127.0.0.1', '1.1.1.1']:\n"
            "    try:\n"
            f"        socket.create_connection((host, {port}), timeout=2)\n"
            "        print('connected', host)\n"
            "    except OSError as e:\n"
            "        print('blocked', host, type(e).__name__)\n"
        )
        body = _agent_run(
            web,
            _code(code) + _call("url_context", {"urls": [f"http://127.0.0.1:{port}/"]}),
        )
        code_result, url_result = _results(body)
        assert "connected" not in code_result["result"]
        assert code_result["result"].count("blocked") == 2
        assert url_result["is_error"] is True
        assert not accepted
    finally:
        server.close()


def test_environment_files_never_leave_the_data_dir(eng: EngineProcess) -> None:
    roots = list(Path(eng.data_dir, "environments").glob("*/root"))
    assert roots
    for root in roots:
        assert not (root.parent.parent.parent / "escape.txt").exists()
