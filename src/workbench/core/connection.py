"""Connect a profile: start (or find) the local engine, build the one long-lived client.

The local profile needs no key and no network: it runs ``workbench-engine`` as a child on a
free loopback port with a per-launch token, data under the app's data dir. Other profiles
read their key from the keyring (``SecretStore``) and fail with plain words when it is missing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field

from workbench.client import Client, ModelInfo

from .engine_process import (
    EngineInfo,
    EngineProcess,
    EngineProgress,
    EngineStartError,
    read_engine_file,
    wait_for_exit,
)
from .models_service import ImportStore, existing_imports
from .paths import Paths
from .profiles import GEMINI_URL, Profile
from .secrets import SecretStore

log = logging.getLogger(__name__)

KNOWN_AGENTS = (
    "deep-research-preview-04-2026",
    "deep-research-pro-preview-12-2025",
    "antigravity-preview-05-2026",
)
"""Built-in Gemini agent ids offered in the target picker (the set is open)."""


RECONNECT_HINT = "File → Reconnect (F5)"
"""Where the app starts a connection again (named in the words below)."""


class ConnectionProblem(Exception):
    """The profile cannot be used yet; the message says what failed and what to do.

    Attributes:
        details: the longer story (the engine's last output lines), or "".
        profile_fault: whether changing the profile is the fix (a missing key, a bad URL);
            an engine that failed to start is not the profile's fault.
    """

    def __init__(self, message: str, *, details: str = "", profile_fault: bool = False) -> None:
        super().__init__(message)
        self.details = details
        self.profile_fault = profile_fault


@dataclass
class Connection:
    """A usable server: the client, and the engine process when we started one."""

    profile: Profile
    client: Client
    engine: EngineProcess | None = None
    engine_info: EngineInfo | None = None
    models: list[ModelInfo] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.engine_info is not None:
            return f"{self.profile.name} · 127.0.0.1:{self.engine_info.port}"
        return f"{self.profile.name} · {self.client.base_url}"

    def model_ids(self) -> list[str]:
        return [m.model_id for m in self.models if m.model_id]

    async def refresh_models(self) -> list[ModelInfo]:
        self.models = await self.client.models.list()
        return self.models

    async def close(self, *, stop_engine: bool = True) -> None:
        await self.client.aclose()
        if not stop_engine:
            return
        if self.engine is not None:
            await self.engine.stop()
        elif self.engine_info is not None:
            # An engine left running by an earlier app session: ask it to stop.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.engine_info.pid, signal.SIGTERM)
            await wait_for_exit(self.engine_info.pid)  # a restart must not find it alive


async def connect(
    profile: Profile,
    secrets: SecretStore,
    paths: Paths,
    *,
    reuse_engine: bool = True,
    on_progress: Callable[[EngineProgress], None] | None = None,
) -> Connection:
    """Open ``profile``; raise ConnectionProblem (plain words) if it cannot be used.

    ``on_progress`` is told what a local engine that has to be started is doing meanwhile.
    """
    if profile.is_local:
        return await _connect_local(profile, paths, reuse_engine, on_progress)
    key = secrets.get(profile.id)
    if not key:
        raise ConnectionProblem(
            f"No API key is set for “{profile.name}”. Open Settings (Ctrl+,) and enter one, "
            f"or switch to the Local engine profile.",
            profile_fault=True,
        )
    base = profile.base_url or (GEMINI_URL if profile.kind == "gemini" else "")
    try:
        client = Client(base, api_version=profile.api_version, api_key=key)
    except ValueError as exc:
        raise ConnectionProblem(
            f"“{profile.name}” has an unusable server URL: {exc}. Correct it in Settings (Ctrl+,).",
            profile_fault=True,
        ) from None
    agents = list(KNOWN_AGENTS) if profile.kind == "gemini" else []
    return Connection(profile, client, agents=agents)


async def _connect_local(
    profile: Profile,
    paths: Paths,
    reuse: bool,
    on_progress: Callable[[EngineProgress], None] | None,
) -> Connection:
    engine_dir = paths.engine_dir
    info = read_engine_file(engine_dir) if reuse else None
    engine: EngineProcess | None = None
    if info is None:
        engine = EngineProcess(
            engine_dir,
            backend=profile.local_backend,
            model=profile.local_model,
            extra_args=local_engine_args(profile, paths),
            on_progress=on_progress,
        )
        try:
            info = await engine.start()
        except EngineStartError as exc:
            raise ConnectionProblem(start_failure(exc), details=str(exc)) from exc
        except OSError as exc:  # the engine's program itself could not be run
            raise ConnectionProblem(
                f"The local engine could not be run: {exc.strerror or exc}. Reinstall Workbench, "
                f"then choose {RECONNECT_HINT}."
            ) from exc
    client = Client(info.url, api_version=profile.api_version, api_key=info.token)
    return Connection(profile, client, engine=engine, engine_info=info)


def local_engine_args(profile: Profile, paths: Paths) -> tuple[str, ...]:
    """The engine's backend options for a local profile: the OpenAI-compatible server it runs
    on, or (llama) the user's imported GGUF files that still exist."""
    if profile.local_backend == "openai":
        return ("--openai-base-url", profile.local_openai_url)
    if profile.local_backend != "llama":
        return ()
    args: list[str] = []
    for path in existing_imports(ImportStore(paths.config_dir / "models.json")):
        args += ["--model-path", str(path)]
    return tuple(args)


def start_failure(exc: EngineStartError) -> str:
    """One paragraph on a failed engine start: what happened, its last words, what to do."""
    said = f" Its last message: “{exc.last_line}”." if exc.last_line else ""
    if exc.exited:
        return (
            f"The local engine stopped while starting.{said} Fix what it says if you can, "
            f"then choose {RECONNECT_HINT}."
        )
    return (
        f"The local engine did not finish starting.{said} Choose {RECONNECT_HINT} to start "
        f"it again; if it keeps failing, the details below have its last output."
    )
