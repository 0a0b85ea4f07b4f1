"""From parsed ``workbench-engine`` arguments to what the engine runs with.

Split from ``cli.py``: the checks of option values (each refusal a one-line message and exit
status 2), the data directory and its database check, the ``EngineConfig`` and the backend.
Nothing here listens on a socket or starts a server (``cli_serve.py``).
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
from pathlib import Path

from .aliases import DEFAULT_ALIASES, parse_alias
from .backends.base import Backend
from .backends.registry import BackendLoadError, create_backend
from .config import EngineConfig
from .dbcheck import DatabaseLocked, check_database
from .faults import FaultSpecError, OverloadPlan, parse_overload
from .security import is_loopback_host

log = logging.getLogger("workbench.engine")


class UsageError(Exception):
    """The engine cannot start with these arguments or this data directory.

    Args:
        message: what is wrong, in one line (printed after ``workbench-engine: error:``).
        code: the exit status (2 for a bad command line, 1 for a refusal at startup).
    """

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def check_args(args: argparse.Namespace) -> OverloadPlan | None:
    """Refuse values argparse lets through; the ``--inject-overload`` plan, if one is given."""
    if not is_loopback_host(args.host):
        raise UsageError(
            f"--host {args.host!r} is not a loopback address; the engine only "
            "listens on 127.0.0.1, ::1 or localhost"
        )
    if args.max_body_bytes <= 0:
        raise UsageError("--max-body-bytes must be positive")
    if args.keepalive_seconds <= 0:
        raise UsageError("--keepalive-seconds must be positive")
    if args.agent_max_steps < 1 or args.code_timeout <= 0:
        raise UsageError("--agent-max-steps and --code-timeout must be positive")
    if args.environment_ttl_days < 0 or args.environment_expired_keep_hours < 0:
        raise UsageError(
            "--environment-ttl-days and --environment-expired-keep-hours must be 0 or more"
        )
    if not 0 <= args.agent_temperature <= 2:
        raise UsageError("--agent-temperature must be between 0 and 2")
    if (
        args.webhook_attempts < 1
        or args.webhook_disable_after < 1
        or args.webhook_retry_seconds < 0
        or args.webhook_timeout <= 0
    ):
        raise UsageError("the --webhook-* numbers must be positive")
    if not args.inject_overload:
        return None
    try:
        return parse_overload(args.inject_overload)
    except FaultSpecError as exc:
        raise UsageError(f"--inject-overload: {exc}") from exc


def open_data_dir(path: Path) -> tuple[Path, str]:
    """Make the data directory (0700) and check its database.

    Returns the resolved directory and a notice for the user ("" when there is none: a
    damaged database moved aside is one). A database another engine holds is refused (1).
    """
    data_dir = path.expanduser().resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise UsageError(f"cannot create data directory {data_dir}: {exc}") from exc
    try:
        notice = check_database(data_dir)
    except DatabaseLocked as exc:
        raise UsageError(str(exc), 1) from exc
    if notice:
        log.warning("%s", notice)
    return data_dir, notice


def engine_config(args: argparse.Namespace, data_dir: Path) -> EngineConfig:
    """The ``EngineConfig`` of checked arguments (``check_args``) and a ready data directory."""
    # The app hands the token over in the environment so it never shows up in `ps`.
    token = args.token or os.environ.get("WORKBENCH_ENGINE_TOKEN") or secrets.token_urlsafe(32)
    try:
        extra = tuple(parse_alias(text) for text in args.model_alias)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    aliases = extra + (() if args.no_model_aliases else DEFAULT_ALIASES)
    return EngineConfig(
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


def build_backend(args: argparse.Namespace, data_dir: Path) -> Backend:
    """The backend ``--backend`` names, with its options (a backend that cannot load → 2)."""
    try:
        return create_backend(
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
        raise UsageError(str(exc)) from exc
