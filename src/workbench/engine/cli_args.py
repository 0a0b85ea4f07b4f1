"""The argument parser of ``workbench-engine``: every option, its default and its help text.

Split from ``cli.py`` so the command line can be read (and tested, ``build_parser``) on its own;
checking the values and building the engine from them is ``cli_config.py``. ``--help`` text is
part of the interface (docs/engine.md has the same options in its table).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .backends.registry import BACKENDS
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
from .progress import HOLD_ENV


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
        type=non_negative_int,
        default=DEFAULT_PROMPT_CACHE_MB,
        help="RAM for each conversation's evaluated prompt prefix (llama backend; 0: off)",
    )
    p.add_argument(
        "--prompt-cache-disk-mb",
        type=non_negative_int,
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


def non_negative_int(text: str) -> int:
    """An option value that must be a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value
