"""Fixtures that run the real engine as a subprocess on loopback (scripted backend)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from engine_helpers import TOKEN, EngineProcess
from google import genai

from support.openapi_oracle import ORACLE


@pytest.fixture(autouse=True)
def _openapi_oracle() -> Iterator[None]:
    """Every engine response a test saw must conform to Google's OpenAPI document."""
    ORACLE.problems.clear()
    yield
    problems, ORACLE.problems[:] = list(ORACLE.problems), []
    assert not problems, "responses that break the OpenAPI document:\n" + "\n".join(
        str(p) for p in problems[:10]
    )


@pytest.fixture(scope="session", autouse=True)
def _shared_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Engines of this session assemble the speech model once, in one shared folder."""
    old = os.environ.get("WORKBENCH_MODELS_DIR")
    os.environ["WORKBENCH_MODELS_DIR"] = str(tmp_path_factory.mktemp("shared-models"))
    yield
    if old is None:
        os.environ.pop("WORKBENCH_MODELS_DIR", None)
    else:
        os.environ["WORKBENCH_MODELS_DIR"] = old


@pytest.fixture
def engine_factory(tmp_path: Path) -> Iterator[Any]:
    """Start engines with extra options; every one is stopped at the end of the test."""
    started: list[EngineProcess] = []

    def start(*extra: str, data_dir: Path | None = None, token: str = TOKEN) -> EngineProcess:
        eng = EngineProcess(data_dir or tmp_path / f"engine{len(started)}", *extra, token=token)
        started.append(eng)
        return eng.start()

    yield start
    for eng in started:
        eng.stop()


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    """One shared engine for the tests that don't restart or reconfigure it."""
    eng = EngineProcess(tmp_path_factory.mktemp("engine") / "data", "--keepalive-seconds", "0.3")
    eng.start()
    try:
        yield eng
    finally:
        eng.stop()


@pytest.fixture
def client(engine: EngineProcess) -> genai.Client:
    return engine.client()


@pytest.fixture
def http(engine: EngineProcess) -> Iterator[httpx.Client]:
    with engine.http() as h:
        yield h
