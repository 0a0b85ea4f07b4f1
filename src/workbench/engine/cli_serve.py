"""Serving the engine: the listening socket, uvicorn, the ready announcement, clean exits.

Split from ``cli.py``: once the app is built, this is how ``workbench-engine`` listens on its
loopback port, tells the world (one JSON line on stdout and ``DATA_DIR/engine.json``, mode
0600) and shuts down on SIGTERM/SIGINT with status 0. ``ENGINE_FILE`` is removed on exit when
it is still this process's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import threading
from collections.abc import Generator
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI

from .atomic import write_atomic
from .config import EngineConfig
from .runner import Runner
from .server import StartupState

ENGINE_FILE = "engine.json"


def write_engine_file(data_dir: Path, info: dict[str, Any]) -> Path:
    """Write ``engine.json`` atomically with mode 0600."""
    target = data_dir / ENGINE_FILE
    write_atomic(target, json.dumps(info), mode=0o600)
    return target


class EngineServer(uvicorn.Server):
    """uvicorn's server with an announcement when ready and a clean shutdown on signals."""

    def __init__(
        self, config: uvicorn.Config, engine: EngineConfig, state: StartupState, sock: socket.socket
    ) -> None:
        super().__init__(config)
        self.engine = engine
        self.state = state
        self.sock = sock
        self.loop: asyncio.AbstractEventLoop | None = None
        self.shutdown_task: asyncio.Task[None] | None = None
        self.notice = ""
        """Something the user should know (a damaged database moved aside), announced too."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit:
            try:
                self.announce()
            except OSError as exc:
                self.state.error = exc
                self.should_exit = True

    def announce(self) -> None:
        port = int(self.sock.getsockname()[1])
        host = self.engine.host
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{port}{self.engine.path_prefix.rstrip('/')}"
        info: dict[str, Any] = {"url": url, "port": port, "pid": os.getpid()}
        if self.notice:
            info["notice"] = self.notice
        write_engine_file(
            self.engine.data_dir, {**info, "token": self.engine.token, "auth": self.engine.auth}
        )
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._begin_shutdown)

    def _begin_shutdown(self) -> None:
        runner: Runner | None = self.state.runner
        if runner is not None and self.shutdown_task is None:
            self.shutdown_task = asyncio.ensure_future(runner.shutdown())

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # Like uvicorn's, but without re-raising the signal afterwards: a SIGTERM is a
        # request for a clean exit with status 0.
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        signals = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in signals}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def listen_socket(host: str, port: int) -> socket.socket:
    """A bound, listening, inheritable TCP socket on ``host:port`` (``OSError`` when not)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only turns Nagle off (TCP_NODELAY) on accepted sockets
    # whose proto says TCP; with proto 0 every reply on a kept-alive connection waited ~40 ms
    # for the peer's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


def serve(
    app: FastAPI, engine: EngineConfig, sock: socket.socket, *, log_level: str, notice: str
) -> EngineServer:
    """Run the app on ``sock`` until a signal stops it; the socket is closed afterwards.

    Returns the server: ``server.started`` and ``server.state.error`` say how it went.
    """
    uv_config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=log_level in ("info", "debug"),
        lifespan="on",
        timeout_graceful_shutdown=5,
        timeout_keep_alive=5,
        proxy_headers=False,
        server_header=False,
    )
    state: StartupState = app.state.startup
    server = EngineServer(uv_config, engine, state, sock)
    server.notice = notice
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        _remove_engine_file(engine.data_dir)
    return server


def _remove_engine_file(data_dir: Path) -> None:
    path = data_dir / ENGINE_FILE
    with contextlib.suppress(OSError, ValueError):
        info = json.loads(path.read_text(encoding="utf-8"))
        if info.get("pid") == os.getpid():
            path.unlink()
