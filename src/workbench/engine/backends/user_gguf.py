"""The user's own GGUF files: found in configured files and folders, named, checked.

Apart from the packaged models (``packaged_models``) because nothing here is known ahead:
the model id comes from the file name and only the GGUF magic is checked (there is no known
hash to compare with). ``model_files.user_models`` turns what is found into catalog entries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from workbench.engine.backends.base import BackendError

_SPLIT_RE = re.compile(r"-(\d{5})-of-(\d{5})$")
GGUF_MAGIC = b"GGUF"


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
