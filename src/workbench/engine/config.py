"""The engine's settings, filled from the command line (``cli.py``) or directly by tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .aliases import DEFAULT_ALIASES

DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024
"""Largest request body accepted (100 MiB, Gemini's inline limit); larger bodies get 413.
Larger media goes through the Files API (up to 2 GB, in chunks of 8 MiB)."""

DEFAULT_KEEPALIVE_SECONDS = 15.0
"""An idle SSE stream gets a ``: keep-alive`` comment at least this often (protocol.md §6.2)."""

DEFAULT_DETACH_SECONDS = 600.0
"""A foreground stream's interaction outlives its connection by up to ten minutes."""

DEFAULT_CHECKPOINT_EVENTS = 50
"""Events between ``continuation_token`` checkpoints on a stream."""

DEFAULT_PROMPT_CACHE_MB = 512
"""RAM the llama backend keeps saved prompt prefixes in: ~43 000 tokens of the 0.5B model
(12 KiB each), ~18 000 of the 1.5B (28 KiB each), i.e. many conversations' histories."""

DEFAULT_PROMPT_CACHE_DISK_MB = 1024
"""Disk the llama backend keeps saved prompt prefixes in (``<data dir>/prompt-cache``), so a
conversation reopened after a restart is not read again: twice the RAM budget."""

FAULTS = ("omit-usage", "stall", "delete-no-cancel", "cancel-ignored")
"""The names ``--inject-fault`` accepts."""

VERSION_PREFIXES: tuple[str, ...] = ("/v1", "/v1beta", "/v1alpha")
"""Plain version segments served identically (protocol.md §1.2)."""

VERTEX_PREFIX = "/v1beta1/projects/{project}/locations/{location}"
"""The Vertex-style version prefix, also served identically."""

DEFAULT_ENVIRONMENT_TTL_DAYS = 7.0
"""An environment unused this long loses its files and turns ``expired`` (protocol.md §9.3)."""

DEFAULT_ENVIRONMENT_EXPIRED_KEEP_HOURS = 24.0
"""How long an expired environment's metadata stays (GET shows ``expired``; then 404)."""


@dataclass
class EngineConfig:
    """Everything the engine needs to start.

    Attributes:
        data_dir: where ``engine.db`` and ``engine.json`` live.
        host: interface to bind; only loopback addresses are accepted by ``cli.py``.
        port: TCP port, 0 for a free one.
        token: the API key every request must carry, unless ``auth`` is off.
        auth: whether the token is checked.
        backend: ``llama``, ``openai`` or ``scripted``.
        model: the model id the backend should serve (backend-specific default when None).
        openai_base_url: base URL of the OpenAI-compatible server for the ``openai`` backend.
        max_body_bytes: request bodies above this size get 413.
        keepalive_seconds: interval of SSE keep-alive comments on idle streams.
        continuation_cap: when set, a foreground model call stops after this many output
            chunks with ``requires_continuation`` (protocol.md §6.7); off by default.
        max_background_runs: background runs allowed at once; later ones wait ``queued``.
        path_prefix: an extra path prefix the engine is mounted under (e.g. ``/gem``).
        shutdown_grace_seconds: how long a cancelled generation may take to stop before its
            task is cancelled outright.
        agent_max_steps: programs and tool calls one agent interaction may run before it ends
            ``incomplete`` (protocol.md has no limit; the engine needs one).
        agent_turn_tokens: output tokens of one model turn inside the agent loop.
        agent_result_chars: characters of one tool result shown to the agent's model.
        code_timeout_seconds: wall-clock limit of one ``code_execution`` run.
        environment_ttl_days: days after its last activity an environment (sandbox) is
            kept; past that its files are removed and it is ``expired`` (0: never).
        environment_expired_keep_hours: hours an expired environment's metadata is kept
            before it is deleted (``sandbox/expiry.py``).
        agent_temperature: sampling temperature of an agent's first attempt (0: greedy).
        agent_seed: sampling seed of an agent's first attempt (later attempts add one each).
        agent_votes: programs sampled for a second opinion on an agent's first passing
            program (0: off).
        model_aliases: ordered ``(name or pattern, served model id or "@default")`` rules that
            let Gemini model names run on the local model (``aliases.py``).
        detach_seconds: how long a stored foreground interaction keeps running after its
            stream's client disconnected (it stays resumable with ``last_event_id``); past
            that it is cancelled. 0 cancels at once (the old behaviour).
        checkpoint_events: a stream of a stored interaction carries a ``continuation_token``
            checkpoint (an ``interaction.status_update`` event) every this many events, so the
            SDK's drop recovery can resume it; 0 turns checkpoints off.
        stream_time_limit: fault injection (tests): a stream of a running interaction is cut
            this many seconds after it opened, right after a checkpoint, with a plain-text 503
            tail, like the real service's front end; off by default.
        faults: named faults of the real service to reproduce (tests): ``omit-usage`` ends
            interactions without ``usage``; ``stall`` keeps every interaction
            ``in_progress`` with nothing but keep-alives until it is cancelled;
            ``delete-no-cancel`` answers a DELETE of a running interaction with success
            while the run goes on; ``cancel-ignored`` answers a cancel with the interaction
            still running, and it goes on.
        perception_idle_seconds: the speech and OCR models are unloaded after this long
            unused (``perception/lazy.py``).
        webhook_allow: hosts besides loopback that webhooks may deliver to (``--webhook-allow``;
            ``*.example.com`` allows subdomains).
        webhook_attempts, webhook_retry_seconds, webhook_timeout_seconds,
        webhook_disable_after: delivery policy (``ops/delivery.py``): attempts per event, the
            first retry's delay (doubling), one attempt's time limit, and failed attempts in a
            row that disable a webhook.
        hold_start: while this file exists the start waits before loading the backend,
            reporting progress (``progress.hold``; tests of how the app shows a slow start).
    """

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    token: str = ""
    auth: bool = True
    backend: str = "llama"
    model: str | None = None
    openai_base_url: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    keepalive_seconds: float = DEFAULT_KEEPALIVE_SECONDS
    continuation_cap: int | None = None
    max_background_runs: int = 4
    path_prefix: str = ""
    shutdown_grace_seconds: float = 1.0
    agent_max_steps: int = 10
    agent_turn_tokens: int = 1024
    agent_result_chars: int = 2000
    code_timeout_seconds: float = 60.0
    environment_ttl_days: float = DEFAULT_ENVIRONMENT_TTL_DAYS
    environment_expired_keep_hours: float = DEFAULT_ENVIRONMENT_EXPIRED_KEEP_HOURS
    agent_temperature: float = 0.0
    agent_seed: int = 1
    agent_votes: int = 0
    model_aliases: tuple[tuple[str, str], ...] = field(default=DEFAULT_ALIASES)
    detach_seconds: float = DEFAULT_DETACH_SECONDS
    checkpoint_events: int = DEFAULT_CHECKPOINT_EVENTS
    stream_time_limit: float | None = None
    faults: frozenset[str] = frozenset()
    perception_idle_seconds: float = 300.0
    webhook_allow: tuple[str, ...] = ()
    webhook_attempts: int = 8
    webhook_retry_seconds: float = 5.0
    webhook_timeout_seconds: float = 10.0
    webhook_disable_after: int = 20
    hold_start: Path | None = None
