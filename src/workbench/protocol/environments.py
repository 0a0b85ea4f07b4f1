"""Sandboxes: the ``environment`` config (protocol.md §3.7), the Environment resource (§9.2),
sources and network rules (§9.4) and environment files (§9.6, §9.7).

Source ``type`` tags are matched case-insensitively (an SDK fixture has ``"INLINE"``, §13 Q21)
and written back exactly as received.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Discriminator, Tag

from ._base import (
    UNKNOWN_TAG,
    CodeDefaults,
    Int64,
    Tagged,
    Timestamp,
    WireModel,
    fallback_to,
    register_tags,
)
from .errors import parse

# --- sources -----------------------------------------------------------------------------

SOURCE_TAGS = register_tags({"inline", "repository", "gcs", "skill_registry"})


def _source_tag(value: Any) -> str:
    tag = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if isinstance(tag, str) and tag.lower() in SOURCE_TAGS:
        return tag.lower()
    return UNKNOWN_TAG


class InlineSource(Tagged):
    """A file written from ``content`` (text, or base64 when ``encoding`` is ``"base64"``)."""

    type: str = "inline"
    target: str | None = None
    content: str | None = None
    encoding: str | None = None


class RepositorySource(Tagged):
    """A git repository cloned into ``target``."""

    type: str = "repository"
    source: str | None = None
    target: str | None = None


class GcsSource(Tagged):
    """A ``gs://bucket/prefix/`` copied into ``target``."""

    type: str = "gcs"
    source: str | None = None
    target: str | None = None


class SkillRegistrySource(Tagged):
    """A skill revision from the Vertex skill registry."""

    type: str = "skill_registry"
    source: str | None = None
    target: str | None = None


class UnknownSource(WireModel):
    """A source of an unknown type; every field is kept."""

    type: str | None = None


Source = Annotated[
    Annotated[InlineSource, Tag("inline")]
    | Annotated[RepositorySource, Tag("repository")]
    | Annotated[GcsSource, Tag("gcs")]
    | Annotated[SkillRegistrySource, Tag("skill_registry")]
    | Annotated[UnknownSource, Tag(UNKNOWN_TAG)],
    Discriminator(_source_tag),
    fallback_to(UnknownSource),
]
"""Where a sandbox file or directory comes from, tagged by ``type`` (any letter case)."""

# --- network and env ----------------------------------------------------------------------


class AllowlistEntry(WireModel):
    """An egress rule: a host (``*.example.com``, ``*``), an optional credential and headers."""

    domain: str | None = None
    credential: str | None = None
    transform: dict[str, str] | list[dict[str, str]] | None = None


class NetworkAllowlist(WireModel):
    """``{"allowlist": [...]}``; the allowlist may also be the string ``"disabled"``."""

    allowlist: list[AllowlistEntry] | str | None = None


Network = str | NetworkAllowlist
"""``"disabled"`` or an allowlist object (omitted means unrestricted)."""


class EnvVar(WireModel):
    """An environment variable given by value or by credential id."""

    value: str | None = None
    credential: str | None = None


EnvValue = str | EnvVar

# --- config and resource ------------------------------------------------------------------


class EnvironmentConfig(CodeDefaults):
    """The object form of ``environment`` in a create body (``type`` is always ``"remote"``).

    With ``environment_id`` it updates that existing sandbox instead of creating one.
    """

    _code_defaults: ClassVar[tuple[str, ...]] = ("type",)

    type: str | None = "remote"
    environment_id: str | None = None
    sources: list[Source] | None = None
    env: dict[str, EnvValue] | None = None
    network: Network | None = None


EnvironmentSpec = str | EnvironmentConfig
"""``environment``: ``"remote"``, an environment id, or a config object."""


class Environment(WireModel):
    """A sandbox. The engine fills both ``id`` and ``environment_id`` (§13 Q8)."""

    id: str | None = None
    environment_id: str | None = None
    type: str | None = None
    status: str | None = None
    created: Timestamp | None = None
    updated: Timestamp | None = None
    last_accessed: Timestamp | None = None
    file_count: Int64 | None = None
    size_bytes: Int64 | None = None
    sources: list[Source] | None = None
    env: dict[str, EnvValue] | None = None
    network: Network | None = None

    @property
    def effective_id(self) -> str | None:
        """``id``, falling back to ``environment_id`` (what clients should read)."""
        return self.id or self.environment_id


ENVIRONMENT_STATUSES = frozenset({"active", "expired"})


class CreateEnvironmentRequest(WireModel):
    """Body of ``POST /{v}/environments``; ``from_environment`` forks an existing one."""

    sources: list[Source] | None = None
    network: Network | None = None
    from_environment: str | None = None


class ListEnvironmentsResponse(WireModel):
    """One page of ``GET /{v}/environments``."""

    environments: list[Environment] | None = None
    next_page_token: str | None = None


# --- files --------------------------------------------------------------------------------


class EnvironmentFile(WireModel):
    """A file or directory in a sandbox; ``path`` is relative to the root, no leading slash."""

    name: str | None = None
    path: str | None = None
    type: str | None = None
    size_bytes: Int64 | None = None
    mime_type: str | None = None
    created: Timestamp | None = None
    modified: Timestamp | None = None


class EnvironmentFilesResponse(WireModel):
    """A page of a file listing, or the final upload response (``files`` or ``file``)."""

    files: list[EnvironmentFile] | None = None
    file: EnvironmentFile | None = None
    next_page_token: str | None = None


def upload_result_files(data: Any) -> list[EnvironmentFile]:
    """The files of a final upload response in any of its three shapes (§9.7).

    ``{"files": [...]}``, ``{"file": {...}}`` or a bare EnvironmentFile. Raises
    ``ProtocolError`` when the body is none of these.
    """
    if isinstance(data, dict) and ("files" in data or "file" in data):
        body = parse(EnvironmentFilesResponse, data)
        return list(body.files or []) + ([body.file] if body.file is not None else [])
    return [parse(EnvironmentFile, data)]
