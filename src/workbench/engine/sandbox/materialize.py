"""The environment an interaction runs in (protocol.md §3.7, §8): a request's spec resolved.

Split from ``store.py``: the store is the disk model of environments (§9), this is what the
``environment`` field of an interaction and a saved agent's ``base_environment`` mean in terms
of it — reuse, fork, create or update — and it only uses the store's public operations.
"""

from __future__ import annotations

from typing import Any

from workbench.protocol import EnvironmentConfig

from .errors import InvalidRequest
from .records import EnvironmentRecord
from .store import UNSET, EnvironmentStore


def environment_config(spec: Any) -> EnvironmentConfig | None:
    """A request's ``environment`` as a config; None for None, ``"remote"`` or an id."""
    if spec is None or isinstance(spec, str):
        return None
    if isinstance(spec, EnvironmentConfig):
        return spec
    if isinstance(spec, dict):
        return EnvironmentConfig.model_validate(spec)
    raise InvalidRequest("environment must be 'remote', an environment id or a config object.")


async def materialize(store: EnvironmentStore, spec: Any, *, base: Any = None) -> EnvironmentRecord:
    """The environment an interaction runs in.

    Args:
        store: the engine's environments.
        spec: the request's ``environment``: None or ``"remote"`` (a fresh sandbox, or a
            fresh fork of ``base``), an id / ``environments/{id}`` (reuse, files kept), or
            a config (object or ``EnvironmentConfig``): with ``environment_id`` it updates
            that environment, otherwise it makes a new one from ``base`` plus its own
            sources, and its ``network`` replaces the saved rules.
        base: a custom agent's ``base_environment`` (same three forms), or None.

    Raises:
        NotFound: an id that does not exist (or has expired).
        InvalidRequest: bad sources, network or env.
    """
    if isinstance(spec, str) and spec.strip().lower() != "remote":
        return await store.touch(spec)
    config = environment_config(spec)
    if config is not None and config.environment_id:
        return await store.update(
            config.environment_id,
            sources=config.sources,
            network=config.network if config.network is not None else UNSET,
            env=config.env if config.env is not None else UNSET,
        )
    base_config = environment_config(base)
    if isinstance(base, str) and base.strip().lower() != "remote":
        record = await store.fork(base)
    elif base_config is not None and base_config.environment_id:
        record = await store.fork(base_config.environment_id, network=base_config.network)
    elif base_config is not None:
        record = await store.create(
            sources=base_config.sources, network=base_config.network, env=base_config.env
        )
    else:
        record = await store.create()
    if config is not None and (config.sources or config.network is not None or config.env):
        try:
            record = await store.update(
                record.id,
                sources=config.sources,
                network=config.network if config.network is not None else UNSET,
                env=config.env if config.env is not None else UNSET,
            )
        except BaseException:
            await store.delete(record.id)
            raise
    return record
