"""``workbench-engine``: start the engine on a loopback port and announce where it listens.

When it is ready to answer it prints exactly one JSON line on stdout,
``{"url": "http://127.0.0.1:PORT", "port": PORT, "pid": PID}``, and writes the same plus the
token to ``DATA_DIR/engine.json`` (mode 0600, atomically). SIGTERM or SIGINT shut it down
cleanly: running foreground work is cancelled, background runs end ``failed`` with a reason,
the database is closed and the process exits with status 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import secrets
import signal
import socket
import sys
import threading
from collections.abc import Generator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from .aliases import DEFAULT_ALIASES, parse_alias
from .atomic import write_atomic
from .backends.registry import BACKENDS, BackendLoadError, create_backend
from .config import (
    DEFAULT_CHECKPOINT_EVENTS,
    DEFAULT_DETACH_SECONDS,
    DEFAULT_KEEPALIVE_SECONDS,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_PROMPT_CACHE_DISK_MB,
    DEFAULT_PROMPT_CACHE_MB,
    FAULTS,
    EngineConfig,
)
from .dbcheck import DatabaseLocked, check_database
from .faults import FaultSpecError, OverloadPlan, install_overload, parse_overload
from .progress import HOLD_ENV
from .progress import enable as enable_progress
from .runner import Runner
from .security import is_loopback_host
from .server import StartupState, create_app

ENGINE_FILE = "engine.json"
log = logging.getLogger("workbench.engine")


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    p = argparse.ArgumentParser(
        prog="workbench-engine",
        description="Serve the Gemini Interactions API on a loopback port with a local model.",
    )
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    p.add_argument("--port", type=int, default=0, help="TCP port (0 picks a free one)")
    p.add_argument("--data-dir", type=Path, required=True, help="where the database lives")
    p.add_argument(
        "--token",
        help="API key clients must send (default: $WORKBENCH_ENGINE_TOKEN, else generated)",
    )
    p.add_argument("--no-auth", action="store_true", help="accept requests without a key")
    p.add_argument("--backend", choices=sorted(BACKENDS), default="llama")
    p.add_argument("--model", help="model id for the backend to serve")
    p.add_argument(
        "--model-path",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="a GGUF file or folder the llama backend serves too (repeatable)",
    )
    p.add_argument("--openai-base-url", help="base URL of the OpenAI-compatible server")
    p.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES)
    p.add_argument(
        "--keepalive-seconds",
        type=float,
        default=DEFAULT_KEEPALIVE_SECONDS,
        help="idle interval between SSE keep-alive comments",
    )
    p.add_argument(
        "--continuation-cap",
        type=int,
        default=None,
        help="stop foreground decodes after N output chunks with "
        "requires_continuation (off by default)",
    )
    p.add_argument(
        "--max-background-runs",
        type=int,
        default=4,
        help="background runs at once; later ones wait queued",
    )
    p.add_argument(
        "--prompt-cache-mb",
        type=_non_negative_int,
        default=DEFAULT_PROMPT_CACHE_MB,
        help="RAM for each conversation's evaluated prompt prefix (llama backend; 0: off)",
    )
    p.add_argument(
        "--prompt-cache-disk-mb",
        type=_non_negative_int,
        default=DEFAULT_PROMPT_CACHE_DISK_MB,
        help="disk for saved prompt prefixes under <data dir>/prompt-cache, read back after a "
        "restart (llama backend; 0: off, and the folder is deleted)",
    )
    p.add_argument(
        "--no-preempt",
        action="store_true",
        help="a foreground turn waits for the running background generation to end instead "
        "of interrupting it between tokens (llama backend)",
    )
    p.add_argument("--path-prefix", default="", help="extra path prefix to serve under")
    p.add_argument(
        "--agent-max-steps",
        type=int,
        default=10,
        help="programs and tool calls per agent interaction before the agent gives up",
    )
    p.add_argument(
        "--agent-temperature",
        type=float,
        default=0.0,
        help="sampling temperature of an agent's first attempt (0: greedy; later attempts "
        "after failed repairs sample at 0.7)",
    )
    p.add_argument(
        "--agent-seed", type=int, default=1, help="sampling seed of an agent's first attempt"
    )
    p.add_argument(
        "--agent-votes",
        type=int,
        default=0,
        help="programs sampled and run on a copy of the workspace for a second opinion on an "
        "agent's first passing program (0: off, the default: measured no better on the task "
        "suite, docs/performance.md)",
    )
    p.add_argument(
        "--code-timeout",
        type=float,
        default=60.0,
        help="wall-clock seconds one code_execution run may take",
    )
    p.add_argument(
        "--environment-ttl-days",
        type=float,
        default=EngineConfig.environment_ttl_days,
        help="days after its last use an environment (sandbox) is kept; then its files are "
        "removed and it reports status 'expired' (0: never expire; default 7, as Gemini)",
    )
    p.add_argument(
        "--environment-expired-keep-hours",
        type=float,
        default=EngineConfig.environment_expired_keep_hours,
        help="hours an expired environment stays listed before it is deleted (default 24)",
    )
    p.add_argument(
        "--model-alias",
        action="append",
        default=[],
        metavar="NAME=MODEL",
        help="serve model NAME (or a pattern such as 'gemini-*') with MODEL ('@default' is "
        "the backend's first model); repeatable, checked before the built-in Gemini aliases",
    )
    p.add_argument(
        "--no-model-aliases",
        action="store_true",
        help="drop the built-in Gemini aliases (only served ids and --model-alias work)",
    )
    p.add_argument(
        "--detach-seconds",
        type=float,
        default=DEFAULT_DETACH_SECONDS,
        help="how long a foreground interaction keeps running after its stream's client "
        "disconnected (0: cancel at once)",
    )
    p.add_argument(
        "--checkpoint-events",
        type=int,
        default=DEFAULT_CHECKPOINT_EVENTS,
        help="events between continuation_token checkpoints on streams (0: none)",
    )
    p.add_argument(
        "--stream-time-limit",
        type=float,
        default=None,
        metavar="SECONDS",
        help="tests only: cut streams of running interactions after SECONDS, right after a "
        "checkpoint, with a plain-text 503 tail",
    )
    p.add_argument(
        "--inject-fault",
        action="append",
        default=[],
        choices=FAULTS,
        help="tests only: reproduce a fault of the real service (omit-usage: completed "
        "interactions carry no usage; stall: interactions stay in_progress, sending only "
        "keep-alives, until cancelled; delete-no-cancel: DELETE of a running interaction "
        "answers {} and the run goes on; cancel-ignored: cancel answers the interaction "
        "still running); repeatable",
    )
    p.add_argument(
        "--perception-idle-seconds",
        type=float,
        default=300.0,
        help="unload the speech and OCR models after this long unused (0 keeps them)",
    )
    p.add_argument(
        "--inject-overload",
        metavar="SPEC",
        default=os.environ.get("WORKBENCH_ENGINE_INJECT_OVERLOAD"),
        help="tests only: answer each request with a burst first, e.g. 429:3,503:2@0.2 "
        "(see workbench/engine/faults.py)",
    )
    p.add_argument(
        "--webhook-allow",
        action="append",
        default=[],
        metavar="HOST",
        help="a host besides loopback that webhooks may deliver to (*.example.com for "
        "subdomains); repeatable",
    )
    p.add_argument("--webhook-attempts", type=int, default=8, help="attempts per webhook event")
    p.add_argument(
        "--webhook-retry-seconds",
        type=float,
        default=5.0,
        help="delay before the first webhook retry (doubles each time, at most an hour)",
    )
    p.add_argument("--webhook-timeout", type=float, default=10.0, help="one attempt's limit")
    p.add_argument(
        "--webhook-disable-after",
        type=int,
        default=20,
        help="failed attempts in a row after which a webhook is disabled",
    )
    p.add_argument(
        "--hold-start",
        type=Path,
        default=os.environ.get(HOLD_ENV) or None,
        help="wait before loading the model while this file exists (for tests of a slow "
        "start; default from $WORKBENCH_ENGINE_HOLD_START)",
    )
    p.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )
    return p


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


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def _fail(message: str, code: int = 2) -> int:
    sys.stderr.write(f"workbench-engine: error: {message}\n")
    sys.stderr.flush()
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workbench-engine`` command."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not is_loopback_host(args.host):
        return _fail(
            f"--host {args.host!r} is not a loopback address; the engine only "
            "listens on 127.0.0.1, ::1 or localhost"
        )
    if args.max_body_bytes <= 0:
        return _fail("--max-body-bytes must be positive")
    if args.keepalive_seconds <= 0:
        return _fail("--keepalive-seconds must be positive")
    if args.agent_max_steps < 1 or args.code_timeout <= 0:
        return _fail("--agent-max-steps and --code-timeout must be positive")
    if args.environment_ttl_days < 0 or args.environment_expired_keep_hours < 0:
        return _fail(
            "--environment-ttl-days and --environment-expired-keep-hours must be 0 or more"
        )
    if not 0 <= args.agent_temperature <= 2:
        return _fail("--agent-temperature must be between 0 and 2")
    if (
        args.webhook_attempts < 1
        or args.webhook_disable_after < 1
        or args.webhook_retry_seconds < 0
        or args.webhook_timeout <= 0
    ):
        return _fail("the --webhook-* numbers must be positive")
    overload: OverloadPlan | None = None
    if args.inject_overload:
        try:
            overload = parse_overload(args.inject_overload)
        except FaultSpecError as exc:
            return _fail(f"--inject-overload: {exc}")
    enable_progress()
    data_dir: Path = args.data_dir.expanduser().resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        return _fail(f"cannot create data directory {data_dir}: {exc}")
    try:
        notice = check_database(data_dir)
    except DatabaseLocked as exc:
        return _fail(str(exc), 1)
    if notice:
        log.warning("%s", notice)
    # The app hands the token over in the environment so it never shows up in `ps`.
    token = args.token or os.environ.get("WORKBENCH_ENGINE_TOKEN") or secrets.token_urlsafe(32)
    try:
        extra = tuple(parse_alias(text) for text in args.model_alias)
    except ValueError as exc:
        return _fail(str(exc))
    aliases = extra + (() if args.no_model_aliases else DEFAULT_ALIASES)
    config = EngineConfig(
        data_dir=data_dir,
        host=args.host,
        port=args.port,
        token=token,
        auth=not args.no_auth,
        backend=args.backend,
        model=args.model,
        openai_base_url=args.openai_base_url,
        max_body_bytes=args.max_body_bytes,
        keepalive_seconds=args.keepalive_seconds,
        continuation_cap=args.continuation_cap,
        max_background_runs=args.max_background_runs,
        path_prefix=args.path_prefix.rstrip("/"),
        agent_max_steps=args.agent_max_steps,
        code_timeout_seconds=args.code_timeout,
        environment_ttl_days=args.environment_ttl_days,
        environment_expired_keep_hours=args.environment_expired_keep_hours,
        agent_temperature=args.agent_temperature,
        agent_seed=args.agent_seed,
        agent_votes=max(0, args.agent_votes),
        model_aliases=aliases,
        detach_seconds=max(0.0, args.detach_seconds),
        checkpoint_events=max(0, args.checkpoint_events),
        stream_time_limit=args.stream_time_limit,
        faults=frozenset(args.inject_fault),
        perception_idle_seconds=args.perception_idle_seconds,
        webhook_allow=tuple(args.webhook_allow),
        webhook_attempts=args.webhook_attempts,
        webhook_retry_seconds=args.webhook_retry_seconds,
        webhook_timeout_seconds=args.webhook_timeout,
        webhook_disable_after=args.webhook_disable_after,
        hold_start=args.hold_start,
    )
    try:
        backend = create_backend(
            args.backend,
            model=args.model,
            openai_base_url=args.openai_base_url,
            data_dir=data_dir,
            api_key=os.environ.get("WORKBENCH_OPENAI_API_KEY") or os.environ.get("OPENAI_API_KEY"),
            model_paths=tuple(p.expanduser() for p in args.model_path),
            prompt_cache_mb=args.prompt_cache_mb,
            prompt_cache_disk_mb=args.prompt_cache_disk_mb,
            preempt=not args.no_preempt,
        )
    except BackendLoadError as exc:
        return _fail(str(exc))
    app = create_app(config, backend)
    if overload is not None:
        install_overload(app, overload)
        log.warning("fault injection is on: every request first gets %s", args.inject_overload)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only turns Nagle off (TCP_NODELAY) on accepted sockets
    # whose proto says TCP; with proto 0 every reply on a kept-alive connection waited ~40 ms
    # for the peer's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((args.host, args.port))
        sock.listen(128)
        sock.set_inheritable(True)
    except OSError as exc:
        sock.close()
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc}")
    uv_config = uvicorn.Config(
        app,
        log_level=args.log_level,
        access_log=args.log_level in ("info", "debug"),
        lifespan="on",
        timeout_graceful_shutdown=5,
        timeout_keep_alive=5,
        proxy_headers=False,
        server_header=False,
    )
    state: StartupState = app.state.startup
    server = EngineServer(uv_config, config, state, sock)
    server.notice = notice
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        _remove_engine_file(data_dir)
    if state.error is not None:
        return _fail(f"startup failed: {type(state.error).__name__}: {state.error}", 1)
    if not server.started:
        return _fail("the server did not start", 1)
    return 0


def _remove_engine_file(data_dir: Path) -> None:
    path = data_dir / ENGINE_FILE
    with contextlib.suppress(OSError, ValueError):
        info = json.loads(path.read_text(encoding="utf-8"))
        if info.get("pid") == os.getpid():
            path.unlink()
