"""Bring your own server, end to end: llama-cpp-python's own OpenAI-compatible server with the
default model on loopback is found by the Models service, the app's engine is started on it
the way "Use this server" does, and the official SDK gets an answer through the engine."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from google import genai

from workbench.core.connection import connect
from workbench.core.gguf_meta import GGUFMetaCache
from workbench.core.models_service import ImportStore, ModelsService
from workbench.core.paths import Paths
from workbench.core.profiles import Profile
from workbench.core.secrets import SecretStore
from workbench.engine.backends import model_files

pytestmark = pytest.mark.model


async def test_discovered_server_runs_the_engine_for_the_sdk(
    openai_server: str, default_model_file: Path, tmp_path: Path
) -> None:
    paths = Paths(tmp_path / "data", tmp_path / "config", tmp_path / "cache", tmp_path / "logs")
    store = ImportStore(paths.config_dir / "models.json")
    service = ModelsService(
        paths.engine_dir / "models", store, GGUFMetaCache(paths.cache_dir / "gguf.json")
    )
    # The user adds the server's URL (its port is not one of the well-known ones here).
    store.add_server(openai_server.removesuffix("/v1"))
    found = [s for s in await service.discover(seconds=2.0) if s.base_url == openai_server]
    assert len(found) == 1 and found[0].ok, found
    (model,) = found[0].models
    assert model.id == model_files.DEFAULT_MODEL.id

    profile = Profile(
        id="local", name="Local engine", kind="local",
        local_backend="openai", local_openai_url=found[0].base_url, local_model=model.id,
    )  # fmt: skip
    conn = await connect(profile, SecretStore(), paths, reuse_engine=False)
    try:
        assert conn.engine is not None and conn.engine_info is not None
        listed = await conn.refresh_models()
        assert model.id in [m.model_id for m in listed]
        info = conn.engine_info
        sdk = genai.Client(
            api_key=info.token, http_options={"base_url": info.url, "api_version": "v1beta"}
        )

        def ask() -> object:
            return sdk.interactions.create(
                model=model.id,
                input="What is the capital of France? Answer with one word.",
                generation_config={"max_output_tokens": 6, "temperature": 0.0},
            )

        result = await asyncio.to_thread(ask)
        assert "paris" in result.output_text.lower()  # type: ignore[attr-defined]
        assert result.model == model.id  # type: ignore[attr-defined]
    finally:
        await conn.close()
