"""Build the backend named on the command line.

The llama.cpp and OpenAI-compatible backends are imported lazily, by module and class name,
so the engine starts without their dependencies when another backend is chosen, and a
missing or broken backend gives one clear startup error instead of a traceback.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

from .base import Backend

BACKENDS: dict[str, tuple[str, str]] = {
    "llama": ("workbench.engine.backends.llama", "LlamaBackend"),
    "openai": ("workbench.engine.backends.openai_compat", "OpenAICompatBackend"),
    "scripted": ("workbench.engine.backends.scripted", "ScriptedBackend"),
}


class BackendLoadError(RuntimeError):
    """The chosen backend cannot be constructed; the message says why in plain words."""


def create_backend(
    name: str,
    *,
    model: str | None = None,
    openai_base_url: str | None = None,
    data_dir: Path | None = None,
    api_key: str | None = None,
    model_paths: tuple[Path, ...] = (),
    prompt_cache_mb: int | None = None,
    prompt_cache_disk_mb: int | None = None,
    preempt: bool | None = None,
) -> Backend:
    """Construct backend ``name`` with the options that its constructor accepts.

    ``data_dir`` is the engine's data folder (the llama backend assembles packaged models
    under it); ``api_key`` is sent to an OpenAI-compatible server; ``model_paths`` are more GGUF
    files or folders the llama backend serves (the app's imported models);
    ``prompt_cache_mb``, ``prompt_cache_disk_mb`` and ``preempt`` are the llama backend's
    scheduling options (the others have no queue of their own and ignore them).
    """
    if name not in BACKENDS:
        known = ", ".join(sorted(BACKENDS))
        raise BackendLoadError(f"unknown backend {name!r}; choose one of: {known}")
    module_name, class_name = BACKENDS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or module_name
        raise BackendLoadError(
            f"the {name!r} backend is not available: module {missing!r} is not installed"
            + (
                " (install the 'local' extra: pip install 'workbench[local]')"
                if name == "llama" and missing != module_name
                else ""
            )
        ) from exc
    except Exception as exc:
        raise BackendLoadError(
            f"the {name!r} backend failed to load: {type(exc).__name__}: {exc}"
        ) from exc
    cls = getattr(module, class_name, None)
    if cls is None:
        raise BackendLoadError(f"module {module_name!r} has no class {class_name!r}")
    options: dict[str, Any] = {
        "model": model,
        "base_url": openai_base_url,
        "data_dir": data_dir,
        "api_key": api_key,
        "model_paths": model_paths or None,
        "prompt_cache_mb": prompt_cache_mb,
        "prompt_cache_disk_mb": prompt_cache_disk_mb,
        "preempt": preempt,
    }
    try:
        params = inspect.signature(cls).parameters
        accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        kwargs = {
            key: value
            for key, value in options.items()
            if value is not None and (accepts_any or key in params)
        }
        if name == "openai" and openai_base_url is None and "base_url" in params:
            param = params["base_url"]
            if param.default is inspect.Parameter.empty:
                raise BackendLoadError("the 'openai' backend needs --openai-base-url")
        backend: Backend = cls(**kwargs)
    except BackendLoadError:
        raise
    except Exception as exc:
        raise BackendLoadError(
            f"the {name!r} backend could not start: {type(exc).__name__}: {exc}"
        ) from exc
    return backend
