""" "Get code": each sample, run as printed against a real engine, makes the request the app
would make; no sample holds the key."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from workbench.core.engine_process import TOKEN_ENV, EngineInfo, EngineProcess
from workbench.core.profiles import Profile
from workbench.core.request_code import GEMINI_KEY_ENV, Server, request_code, server_for
from workbench.core.run_settings import RunSettings, build_request, user_turn


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[EngineInfo]:
    proc = EngineProcess(tmp_path / "engine", backend="scripted")
    info = await proc.start(timeout=60)
    try:
        yield info
    finally:
        await proc.stop()


def _body(text: str, **run: object) -> dict[str, object]:
    settings = RunSettings(target="scripted", **run)  # type: ignore[arg-type]
    return build_request(settings, user_turn([{"type": "text", "text": text}]))


def _run(command: list[str], info: EngineInfo, stdin: str | None = None) -> str:
    env = {**os.environ, TOKEN_ENV: info.token}
    done = subprocess.run(
        command, input=stdin, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_the_python_sample_runs_as_printed(engine: EngineInfo, tmp_path: Path) -> None:
    body = _body("[[text: Hello from the sample]]", system_instruction="Be brief.", stream=False)
    code = request_code(body, server_for(Profile(id="l", name="L", kind="local"), engine.url))
    assert engine.token not in code.python + code.curl + code.json
    assert f'os.environ["{TOKEN_ENV}"]' in code.python and engine.url in code.python
    script = tmp_path / "sample.py"
    script.write_text(code.python)
    assert _run([sys.executable, str(script)], engine).strip() == "Hello from the sample"


async def test_the_streaming_python_sample_prints_the_deltas(
    engine: EngineInfo, tmp_path: Path
) -> None:
    body = _body("[[text: one two three]]", stream=True)
    code = request_code(body, Server(engine.url, "v1beta", TOKEN_ENV, local=True))
    script = tmp_path / "sample.py"
    script.write_text(code.python)
    assert _run([sys.executable, str(script)], engine).strip() == "one two three"


async def test_the_curl_sample_runs_as_printed(engine: EngineInfo) -> None:
    body = _body("[[text: curl says hi]]", stream=False)
    code = request_code(body, Server(engine.url, "v1beta", TOKEN_ENV, local=True))
    assert f"${TOKEN_ENV}" in code.curl
    reply = json.loads(_run(["bash", "-c", code.curl], engine))
    assert reply["status"] == "completed"
    assert reply["steps"][-1]["content"][0]["text"] == "curl says hi"
    assert json.loads(code.json) == body  # the raw JSON is the body itself


def test_gemini_samples_name_the_gemini_server_and_its_key_variable() -> None:
    profile = Profile(id="g", name="Gemini", kind="gemini")
    server = server_for(profile)
    assert server.endpoint == "https://generativelanguage.googleapis.com/v1beta/interactions"
    code = request_code({"model": "gemini-2.5-flash", "input": "hi"}, server)
    assert f'os.environ["{GEMINI_KEY_ENV}"]' in code.python
    assert "https://generativelanguage.googleapis.com/v1beta/interactions" in code.curl
    assert f"${GEMINI_KEY_ENV}" in code.curl


def test_inline_files_are_placeholders_and_bad_input_is_refused() -> None:
    data = base64.b64encode(b"\x89PNG" + b"\0" * 3000).decode()
    body = {"model": "m", "input": [{"type": "image", "mime_type": "image/png", "data": data}]}
    code = request_code(body, Server("http://x", "v1beta", GEMINI_KEY_ENV))
    assert data not in code.json and "<base64 of image/png, 3004 bytes>" in code.json
    with pytest.raises(ValueError, match="no model or agent"):
        request_code({"input": "hi"}, Server("http://x", "v1beta", GEMINI_KEY_ENV))
    with pytest.raises(ValueError, match="connect first"):
        server_for(Profile(id="l", name="L", kind="local"))
