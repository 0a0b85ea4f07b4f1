"""``--model-path``: the engine serves the app's imported GGUF files next to its packaged
models, and the app passes only the imports that still exist."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from support.gguf_files import write_gguf
from workbench.core.connection import local_engine_args
from workbench.core.models_service import ImportStore
from workbench.core.paths import Paths
from workbench.core.profiles import Profile, check_profile
from workbench.engine.backends.registry import create_backend
from workbench.engine.cli_args import build_parser


def test_the_cli_takes_repeated_model_paths() -> None:
    args = build_parser().parse_args(
        ["--data-dir", "d", "--model-path", "a.gguf", "--model-path", "models/"]
    )
    assert args.model_path == [Path("a.gguf"), Path("models/")]


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="needs llama-cpp-python")
def test_the_llama_backend_lists_imported_files(tmp_path: Path) -> None:
    model = write_gguf(tmp_path / "Imported-Model-Q4_K_M.gguf")
    backend = create_backend("llama", data_dir=tmp_path / "engine", model_paths=(model,))
    ids = [m.id for m in backend.models()]
    assert "imported-model-q4_k_m" in ids


def test_the_app_passes_existing_imports_and_the_server_url(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "data", tmp_path / "config", tmp_path / "cache", tmp_path / "logs")
    store = ImportStore(paths.config_dir / "models.json")
    kept = write_gguf(tmp_path / "kept.gguf")
    store.add_import(kept)
    store.add_import(tmp_path / "deleted.gguf")
    local = Profile(id="local", name="Local", kind="local")
    assert local_engine_args(local, paths) == ("--model-path", str(kept))
    on_server = local.model_copy(
        update={"local_backend": "openai", "local_openai_url": "http://127.0.0.1:11434/v1"}
    )
    assert local_engine_args(on_server, paths) == (
        "--openai-base-url", "http://127.0.0.1:11434/v1",
    )  # fmt: skip
    assert check_profile(on_server) == []
    no_url = local.model_copy(update={"local_backend": "openai"})
    assert check_profile(no_url) == [
        "Choose the OpenAI-compatible server the engine should run on."
    ]
