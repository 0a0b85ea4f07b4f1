"""The FastAPI application: lifespan (store, backend, runner, recovery) and version mounting.

Every route is served identically under ``/v1``, ``/v1beta``, ``/v1alpha`` and
``/v1beta1/projects/{project}/locations/{location}`` (protocol.md §1.2, §11.1); anything else
is a 404 with the protocol's error body. The OpenAPI document (``/openapi.json``) lists the
``/v1beta`` copies only, so schema-driven fuzzing covers each operation once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI

from . import progress
from .agent.definitions import AgentDefinitions
from .agent.runs import AgentRuns
from .backends.base import Backend
from .config import VERSION_PREFIXES, VERTEX_PREFIX, EngineConfig
from .errors import install_error_handlers
from .eventlog import EventLog
from .files import FileStore
from .files.resolve import content_resolver
from .inputs import set_file_resolver
from .ops import Ops
from .ops import start as start_ops
from .perception import install as install_perception
from .routes import agents, credentials, environments, files, interactions, models, triggers
from .routes import webhooks as webhook_routes
from .runner import Runner
from .sandbox import CodeRunner, EnvironmentStore, ExecLimits, UploadManager
from .sandbox.expiry import EnvironmentSweeper
from .security import SecurityMiddleware
from .store import DB_NAME, Store

log = logging.getLogger("workbench.engine")

SCHEMA_PREFIX = "/v1beta"
SWEEP_SECONDS = 600.0
"""How often expired files and idle upload sessions are removed."""


@dataclass
class StartupState:
    """Filled by the lifespan: the runner once ready, or the error that stopped startup."""

    runner: Runner | None = None
    error: BaseException | None = None
    recovered: int = 0
    extra: dict[str, object] = field(default_factory=dict)


def create_app(config: EngineConfig, backend: Backend) -> FastAPI:
    """Build the engine application around an (unloaded) backend."""
    state = StartupState()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(config.data_dir / DB_NAME)
        file_store = FileStore(config.data_dir / "files")
        sweeper: asyncio.Task[None] | None = None
        env_sweeper: asyncio.Task[None] | None = None
        ops: Ops | None = None
        try:
            progress.report("database", "Opening the engine's database")
            await store.open()
            await file_store.open()
            app.state.files = file_store
            set_file_resolver(content_resolver(file_store))
            install_perception(config.data_dir, idle_seconds=config.perception_idle_seconds)
            sweeper = asyncio.create_task(_sweep(file_store))
            if config.hold_start is not None:
                await progress.hold(config.hold_start)
            await backend.load()
            runner = Runner(config, store, EventLog(store), backend)
            envs = EnvironmentStore(config.data_dir)
            definitions = AgentDefinitions(store, envs)
            timeout = config.code_timeout_seconds
            code_runner = CodeRunner(
                limits=ExecLimits(wall_seconds=timeout, cpu_seconds=max(1, int(timeout)))
            )
            runner.agents = AgentRuns(config, backend, envs, definitions, code_runner)
            app.state.environments = envs
            uploads = UploadManager(envs)
            app.state.uploads = uploads
            app.state.agents = definitions
            state.recovered = await runner.recover()
            expiry = EnvironmentSweeper(
                envs,
                ttl_days=config.environment_ttl_days,
                keep_hours=config.environment_expired_keep_hours,
                in_use=lambda: runner.index.environment_ids() | uploads.environment_ids(),
            )
            app.state.environment_sweeper = expiry
            # Before serving, so nothing uses an environment past its TTL; the files go on
            # the sweeper's task (removing big trees must not hold up the start).
            try:
                await expiry.mark()
            except Exception:
                log.exception("environment expiry at startup failed; the sweeper retries")
            env_sweeper = asyncio.create_task(expiry.run())
            ops = await start_ops(config, store, runner)
            app.state.webhooks = ops.webhooks
            app.state.credentials = ops.credentials
            app.state.triggers = ops.triggers
        except BaseException as exc:
            state.error = exc
            if ops is not None:
                await ops.stop()
            for task in (sweeper, env_sweeper):
                if task is not None:
                    task.cancel()
            await file_store.close()
            await store.close()
            raise
        app.state.runner = runner
        state.runner = runner
        try:
            yield
        finally:
            for task in (sweeper, env_sweeper):
                if task is not None:
                    task.cancel()
            await ops.scheduler.stop()  # no new executions while the runs are stopped
            await runner.shutdown()
            await ops.stop()
            await file_store.close()
            set_file_resolver(None)
            await store.close()
            try:
                await backend.close()
            except Exception:
                log.exception("backend close failed")

    app = FastAPI(
        title="Workbench engine",
        version="0.1.0",
        description="A local server speaking the Gemini Interactions API.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.config = config
    app.state.backend = backend
    app.state.startup = state
    install_error_handlers(app)
    for prefix in (*VERSION_PREFIXES, VERTEX_PREFIX):
        in_schema = prefix == SCHEMA_PREFIX
        app.include_router(interactions.router, prefix=prefix, include_in_schema=in_schema)
        app.include_router(models.router, prefix=prefix, include_in_schema=in_schema)
        # Agents and environments stay out of the OpenAPI document (and so out of the
        # schemathesis fuzz run): their creates have lasting effects and 409 answers.
        app.include_router(agents.router, prefix=prefix, include_in_schema=False)
        # Files before environments: /files/{name} serves both (environment tars included).
        app.include_router(files.router, prefix=prefix, include_in_schema=False)
        app.include_router(files.upload_router, prefix="/upload" + prefix, include_in_schema=False)
        app.include_router(environments.router, prefix=prefix, include_in_schema=False)
        app.include_router(
            environments.upload_router, prefix="/upload" + prefix, include_in_schema=False
        )
        # Webhooks, triggers and credentials: lasting effects too (engine/ops/).
        for ops_router in (webhook_routes.router, triggers.router, credentials.router):
            app.include_router(ops_router, prefix=prefix, include_in_schema=False)
    app.add_middleware(
        SecurityMiddleware,
        token=config.token,
        auth=config.auth,
        max_body_bytes=config.max_body_bytes,
        path_prefix=config.path_prefix,
    )
    return app


async def _sweep(file_store: FileStore) -> None:
    """Remove expired files every ``SWEEP_SECONDS`` (the first sweep ran at startup)."""
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        with contextlib.suppress(Exception):
            await file_store.sweep()
