"""The FastAPI application: lifespan (store, backend, runner, recovery) and version mounting.

Every route is served identically under ``/v1``, ``/v1beta``, ``/v1alpha`` and
``/v1beta1/projects/{project}/locations/{location}`` (protocol.md §1.2, §11.1); anything else
is a 404 with the protocol's error body. The OpenAPI document (``/openapi.json``) lists the
``/v1beta`` copies only, so schema-driven fuzzing covers each operation once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI

from .agent.definitions import AgentDefinitions
from .agent.runs import AgentRuns
from .backends.base import Backend
from .config import VERSION_PREFIXES, VERTEX_PREFIX, EngineConfig
from .errors import install_error_handlers
from .eventlog import EventLog
from .routes import agents, environments, interactions, models
from .runner import Runner
from .sandbox import CodeRunner, EnvironmentStore, ExecLimits, UploadManager
from .security import SecurityMiddleware
from .store import DB_NAME, Store

log = logging.getLogger("workbench.engine")

SCHEMA_PREFIX = "/v1beta"


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
        try:
            await store.open()
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
            app.state.uploads = UploadManager(envs)
            app.state.agents = definitions
            state.recovered = await runner.recover()
        except BaseException as exc:
            state.error = exc
            await store.close()
            raise
        app.state.runner = runner
        state.runner = runner
        try:
            yield
        finally:
            await runner.shutdown()
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
        app.include_router(environments.router, prefix=prefix, include_in_schema=False)
        app.include_router(
            environments.upload_router, prefix="/upload" + prefix, include_in_schema=False
        )
    app.add_middleware(
        SecurityMiddleware,
        token=config.token,
        auth=config.auth,
        max_body_bytes=config.max_body_bytes,
        path_prefix=config.path_prefix,
    )
    return app
