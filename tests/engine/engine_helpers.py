"""Helpers for the engine tests: a subprocess wrapper and SSE parsing."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from google import genai

from support.openapi_oracle import OracleTransport

TOKEN = "test-token"
ENGINE_BIN = Path(sys.executable).with_name("workbench-engine")


class EngineProcess:
    """A running ``workbench-engine`` subprocess and how to reach it."""

    def __init__(self, data_dir: Path, *extra: str, token: str = TOKEN) -> None:
        self.data_dir = data_dir
        self.token = token
        self.args = [
            str(ENGINE_BIN),
            "--backend",
            "scripted",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            "--token",
            token,
            *extra,
        ]
        self.stderr_path = data_dir.parent / f"{data_dir.name}-stderr.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}

    def start(self, timeout: float = 20.0) -> EngineProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        stderr = self.stderr_path.open("ab")
        self.proc = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL
        )
        stderr.close()
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.proc.poll() is not None:
                self.kill()
                raise RuntimeError(f"engine did not start: {self.stderr()}")
            ready, _, _ = select.select([self.proc.stdout], [], [], remaining)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    continue
                line += chunk
        self.info = json.loads(line.decode())
        return self

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    @property
    def url(self) -> str:
        return str(self.info["url"])

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; returns the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise
        return int(self.proc.returncode)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()

    def stop(self) -> None:
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.terminate()
        finally:
            self.kill()

    def client(self, **http_options: Any) -> genai.Client:
        """The official SDK, its every response checked against the OpenAPI document."""
        options = {"base_url": self.url, "api_version": "v1beta", **http_options}
        options.setdefault("client_args", {"transport": OracleTransport()})
        return genai.Client(api_key=self.token, http_options=options)

    def http(self, **kwargs: Any) -> httpx.Client:
        """Raw httpx; every response is checked against the OpenAPI document (the oracle)."""
        headers = {"x-goog-api-key": self.token, **kwargs.pop("headers", {})}
        kwargs.setdefault("transport", OracleTransport())
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)


def sse_blocks(text: str) -> list[list[str]]:
    """Split an SSE body into blocks of lines (comments kept)."""
    return [block.split("\n") for block in text.split("\n\n") if block.strip()]


def sse_events(text: str) -> list[dict[str, Any]]:
    """The JSON events of an SSE body (without the [DONE] marker)."""
    out = []
    for block in sse_blocks(text):
        for line in block:
            if line.startswith("data: ") and line != "data: [DONE]":
                out.append(json.loads(line[len("data: ") :]))
    return out


def create(http: httpx.Client, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return http.post("/v1beta/interactions", json=body, **kwargs)
