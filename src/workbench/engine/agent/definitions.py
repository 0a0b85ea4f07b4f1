"""Saved custom agents (protocol.md §8, §11.30): validation and create / list / get / delete.

Rules:

* ids match ``[a-z0-9][a-z0-9_-]*`` (at most 128 characters, §13 Q26) and start with none of
  the reserved prefixes (``antigravity-``, ``gemini-``, …): 400 otherwise; an existing id is
  409 ``already_exists``; a create past ``MAX_AGENTS`` agents is 400;
* ``base_agent`` is ``antigravity-preview-05-2026`` (the default when omitted);
* ``agent_config`` is only the ``antigravity`` variant; ``tools`` only the five agent tool
  types (``validation``);
* ``base_environment`` is ``"remote"``, an existing environment id, or a config whose
  sources and network are checked now (the sandbox is made per run, by forking it).

Built-in agent ids are not resources: they are not listed and GET answers 404. Agents live
in the ``agents`` table of the engine database.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from pydantic import ValidationError

from workbench.protocol import EnvironmentConfig, has_reserved_prefix

from ..errors import ApiError, bad_request, not_found
from ..sandbox import EnvironmentStore, SandboxError, check_env_vars
from ..sandbox import sources as srcmod
from ..sandbox.network import parse_network, validate_network
from ..status import now
from ..store import Store
from .validation import check_agent_config, check_agent_tools

DEFAULT_AGENT = "antigravity-preview-05-2026"
BUILTIN_AGENTS = frozenset({DEFAULT_AGENT, "antigravity-preview-09-2026"})
"""Built-in agent ids the engine runs (the Antigravity harness with the local model)."""

AGENT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
MAX_AGENT_ID = 128
MAX_AGENTS = 1000
PAGE_DEFAULT = 50
PAGE_MAX = 1000
FIELDS = (
    "id",
    "base_agent",
    "description",
    "system_instruction",
    "agent_config",
    "tools",
    "base_environment",
)


def bare_agent_id(value: str) -> str:
    """``agents/{id}`` or ``{id}`` → ``{id}``."""
    return value.strip().removeprefix("agents/")


def _check_string(body: dict[str, Any], key: str) -> None:
    if body.get(key) is not None and not isinstance(body[key], str):
        raise bad_request(f"{key} must be a string")


class AgentDefinitions:
    """The saved agents of one engine."""

    def __init__(self, store: Store, envs: EnvironmentStore) -> None:
        self.store = store
        self.envs = envs

    async def create(self, body: Any) -> dict[str, Any]:
        """Validate and save an agent; returns the stored Agent resource."""
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object (an Agent)")
        agent_id = body.get("id")
        if not isinstance(agent_id, str) or not agent_id:
            raise bad_request("an agent needs a string 'id'")
        if has_reserved_prefix(agent_id):
            raise bad_request(
                f"agent id {agent_id!r} starts with a reserved prefix (antigravity-, gemini-, "
                "google-, …); choose another id"
            )
        if len(agent_id) > MAX_AGENT_ID or not AGENT_ID.match(agent_id):
            raise bad_request(
                f"agent id {agent_id!r} is not valid: use lower-case letters, digits, '_' and "
                f"'-', starting with a letter or digit, at most {MAX_AGENT_ID} characters"
            )
        for key in ("base_agent", "description", "system_instruction"):
            _check_string(body, key)
        base_agent = body.get("base_agent") or DEFAULT_AGENT
        if base_agent != DEFAULT_AGENT:
            raise bad_request(f"base_agent must be {DEFAULT_AGENT!r} (the only one supported)")
        resource: dict[str, Any] = {"id": agent_id, "base_agent": base_agent}
        for key in ("description", "system_instruction"):
            if body.get(key) is not None:
                resource[key] = body[key]
        if body.get("agent_config") is not None:
            config = check_agent_config(body["agent_config"])
            if config["type"] != "antigravity":
                raise bad_request("agent_config must be of type 'antigravity' for saved agents")
            resource["agent_config"] = config
        if body.get("tools") is not None:
            resource["tools"] = check_agent_tools(body["tools"])
        if body.get("base_environment") is not None:
            resource["base_environment"] = await self._check_base(body["base_environment"])
        if await self.store.count_agents() >= MAX_AGENTS:
            raise bad_request(
                f"there are already {MAX_AGENTS} agents, the most one engine keeps; delete some"
            )
        if not await self.store.insert_agent(agent_id, now(), resource):
            raise ApiError(409, f"agent {agent_id!r} already exists", "already_exists")
        return resource

    async def _check_base(self, spec: Any) -> Any:
        if isinstance(spec, str):
            if spec.strip().lower() == "remote":
                return "remote"
            try:
                return (await self.envs.get(spec)).id
            except SandboxError as exc:
                raise ApiError(exc.http_status, f"base_environment: {exc.message}") from exc
        if not isinstance(spec, dict):
            raise bad_request("base_environment must be 'remote', an environment id or a config")
        try:
            config = EnvironmentConfig.model_validate(spec)
            prepared = srcmod.prepare(config.sources)
            if config.network is not None:
                validate_network(config.network)
            policy = parse_network(config.network, default_when_omitted=self.envs.default_network)
            srcmod.check_reachable(prepared, policy)  # a run would refuse to clone it
            check_env_vars(config.env)  # the object form, credentials: as a run would
            if config.environment_id:
                await self.envs.get(config.environment_id)
        except ValidationError as exc:
            raise bad_request(f"base_environment is not valid: {exc.errors()[0]['msg']}") from exc
        except SandboxError as exc:
            raise ApiError(exc.http_status, f"base_environment: {exc.message}") from exc
        return spec

    async def get(self, agent_id: str) -> dict[str, Any]:
        """A saved agent (404 for unknown and built-in ids)."""
        agent_id = bare_agent_id(agent_id)
        found = await self.store.get_agent(agent_id)
        if found is None:
            if agent_id in BUILTIN_AGENTS:
                raise not_found(
                    f"{agent_id!r} is a built-in agent; only saved agents can be fetched"
                )
            raise not_found(f"agent {agent_id!r} not found")
        return found

    async def delete(self, agent_id: str) -> None:
        """Delete a saved agent (its environments and interactions stay)."""
        agent_id = bare_agent_id(agent_id)
        if not await self.store.delete_agent(agent_id):
            raise not_found(f"agent {agent_id!r} not found")

    async def list(self, page_size: int | None, page_token: str | None) -> dict[str, Any]:
        """One page of saved agents, oldest first, and the next page's token."""
        size = page_size or PAGE_DEFAULT
        if size < 0:
            raise bad_request("page_size must not be negative")
        size = min(size, PAGE_MAX)
        after = _decode(page_token) if page_token else None
        rows = await self.store.list_agents(size + 1, after)
        page = rows[:size]
        out: dict[str, Any] = {"agents": [resource for _, _, resource in page]}
        if len(rows) > size and page:
            created, last_id, _ = page[-1]
            out["next_page_token"] = _encode(created, last_id)
        return out


def _encode(created: str, agent_id: str) -> str:
    raw = json.dumps([created, agent_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        created, agent_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise bad_request("page_token is not valid") from exc
    if not isinstance(created, str) or not isinstance(agent_id, str):
        raise bad_request("page_token is not valid")
    return created, agent_id
