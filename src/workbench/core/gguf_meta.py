"""What a GGUF file says about itself (read with the ``gguf`` package), and whether it fits in RAM.

``GGUFReader`` parses every key, including the tokenizer's ~150 000-entry arrays, which takes
seconds for a 0.5 GB model on a busy machine. So the facts are cached in a small JSON file
keyed by path, size and mtime: the Models page reads each file once, and a changed file is
read again. Call :func:`read_gguf_meta` from a worker thread.
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .atomic import write_atomic

RAM_HEADROOM = 1.2
"""A model needs about its file size in RAM plus room for the KV cache and buffers."""
RAM_EXTRA_BYTES = 300 * 1024 * 1024


@dataclass(frozen=True)
class GGUFMeta:
    """The facts the Models table shows; empty strings and ``None`` where the file is silent."""

    architecture: str = ""
    name: str = ""
    context_length: int | None = None
    quantization: str = ""
    chat_template: bool = False
    vision: bool = False
    vision_file: str = ""
    """The ``mmproj`` projector file next to the model that gives it eyes, or ""."""
    size: int = 0


class GGUFReadError(Exception):
    """The file is missing, unreadable or not a GGUF model; the message says which."""


def _file_type_name(value: int) -> str:
    from gguf.constants import LlamaFileType

    try:
        name = LlamaFileType(value).name
    except ValueError:
        return f"file type {value}"
    return name.removeprefix("MOSTLY_").removeprefix("ALL_")


def _scalar(reader: Any, key: str) -> Any:
    field = reader.get_field(key)
    if field is None:
        return None
    try:
        return field.contents()
    except (IndexError, ValueError, UnicodeDecodeError):
        return None


def find_projector(path: Path) -> Path | None:
    """A vision projector (``*mmproj*.gguf``) in the model's folder, if there is one."""
    try:
        siblings = sorted(path.parent.iterdir())
    except OSError:
        return None
    for sibling in siblings:
        name = sibling.name.lower()
        if "mmproj" in name and name.endswith(".gguf") and sibling != path:
            return sibling
    return None


def _read_uncached(path: Path) -> GGUFMeta:
    try:
        from gguf import GGUFReader
    except ImportError:
        raise GGUFReadError(
            "Reading GGUF files needs the 'gguf' package: pip install 'workbench[local]'."
        ) from None

    try:
        size = path.stat().st_size
        reader = GGUFReader(path, "r")
    except FileNotFoundError:
        raise GGUFReadError(f"The file {path} is missing (moved or deleted?).") from None
    except OSError as exc:
        raise GGUFReadError(f"The file {path} cannot be read: {exc.strerror}") from None
    except (ValueError, IndexError, KeyError) as exc:  # gguf raises ValueError on a bad magic
        raise GGUFReadError(f"The file {path} is not a readable GGUF model: {exc}") from None
    arch = str(_scalar(reader, "general.architecture") or "")
    ctx = _scalar(reader, f"{arch}.context_length") if arch else None
    file_type = _scalar(reader, "general.file_type")
    projector = find_projector(path)
    own_vision = arch == "clip" or reader.get_field("clip.has_vision_encoder") is not None
    return GGUFMeta(
        architecture=arch,
        name=str(_scalar(reader, "general.name") or ""),
        context_length=int(ctx) if isinstance(ctx, int) else None,
        quantization=_file_type_name(int(file_type)) if isinstance(file_type, int) else "",
        chat_template=reader.get_field("tokenizer.chat_template") is not None,
        vision=own_vision or projector is not None,
        vision_file=projector.name if projector is not None else "",
        size=size,
    )


class GGUFMetaCache:
    """Cached :func:`_read_uncached` results in ``cache_file`` (JSON), keyed by file identity."""

    def __init__(self, cache_file: Path | None) -> None:
        self.cache_file = cache_file
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] | None = None

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._entries is None:
            entries: dict[str, dict[str, Any]] = {}
            if self.cache_file is not None:
                with contextlib.suppress(OSError, ValueError):
                    raw = json.loads(self.cache_file.read_text(encoding="utf-8"))
                    if isinstance(raw, dict):
                        entries = {k: v for k, v in raw.items() if isinstance(v, dict)}
            self._entries = entries
        return self._entries

    def read(self, path: Path) -> GGUFMeta:
        """The metadata of ``path`` (cached while its size and mtime stay the same).

        Raises:
            GGUFReadError: missing, unreadable or not GGUF.
        """
        try:
            st = path.stat()
        except FileNotFoundError:
            raise GGUFReadError(f"The file {path} is missing (moved or deleted?).") from None
        except OSError as exc:
            raise GGUFReadError(f"The file {path} cannot be read: {exc.strerror}") from None
        key = str(path.resolve())
        stamp = [st.st_size, st.st_mtime_ns]
        with self._lock:
            hit = self._load().get(key)
        if hit is not None and hit.get("stamp") == stamp:
            with contextlib.suppress(TypeError):
                meta = GGUFMeta(**hit["meta"])
                projector = find_projector(path)  # a projector may have been added since
                return GGUFMeta(
                    **{
                        **asdict(meta),
                        "vision": meta.vision or projector is not None,
                        "vision_file": projector.name if projector else meta.vision_file,
                    }
                )
        meta = _read_uncached(path)
        with self._lock:
            entries = self._load()
            entries[key] = {"stamp": stamp, "meta": asdict(meta)}
            self._save(entries)
        return meta

    def _save(self, entries: dict[str, dict[str, Any]]) -> None:
        if self.cache_file is None:
            return
        with contextlib.suppress(OSError):
            write_atomic(self.cache_file, json.dumps(entries))


def read_gguf_meta(path: Path) -> GGUFMeta:
    """The metadata of one GGUF file, uncached (blocking)."""
    return _read_uncached(path)


def available_ram() -> int | None:
    """Bytes of RAM available to a new process now (psutil, else /proc/meminfo), or None."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        return int(psutil.virtual_memory().available)
    try:
        text = Path("/proc/meminfo").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return None


def ram_needed(size: int) -> int:
    """Bytes a model of ``size`` file bytes needs to run (weights, KV cache, buffers)."""
    return int(size * RAM_HEADROOM) + RAM_EXTRA_BYTES


def fits_in_ram(size: int, available: int | None = None) -> tuple[bool, str]:
    """Whether a model file of ``size`` bytes fits in the RAM available now, and why."""
    free = available_ram() if available is None else available
    need = ram_needed(size)
    if free is None:
        return True, "Free RAM is unknown on this system; the model may not fit."
    gib = 1024**3
    if need <= free:
        return True, f"Needs about {need / gib:.1f} GiB; {free / gib:.1f} GiB are free."
    return False, (
        f"This model needs about {need / gib:.1f} GiB of RAM but only {free / gib:.1f} GiB "
        "are free: it may not load, or the computer may slow to a crawl. Close other "
        "programs or choose a smaller quantization."
    )
