"""The speech model is joined from its two data packages and checked against pinned hashes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from workbench.engine.backends import verified_files
from workbench.engine.perception import PerceptionUnavailable
from workbench.engine.perception.whisper_files import WHISPER_BASE, ensure_whisper_model


def test_joined_once_verified_then_reused(tmp_path: Path) -> None:
    folder = ensure_whisper_model(tmp_path)
    model = folder / "model.bin"
    assert model.stat().st_size == WHISPER_BASE.model_size
    assert verified_files.is_verified(model, WHISPER_BASE.model_sha256)
    assert {p.name for p in folder.iterdir()} >= {"config.json", "tokenizer.json", "vocabulary.txt"}
    stamp = model.stat().st_mtime_ns
    assert ensure_whisper_model(tmp_path) == folder
    assert model.stat().st_mtime_ns == stamp  # not joined again


def test_a_damaged_model_is_rebuilt(tmp_path: Path) -> None:
    folder = ensure_whisper_model(tmp_path)
    with (folder / "model.bin").open("r+b") as fh:
        fh.write(b"garbage")
    assert ensure_whisper_model(tmp_path) == folder
    assert verified_files.sha256_file(folder / "model.bin") == WHISPER_BASE.model_sha256


def test_hash_mismatch_and_missing_packages_are_refused(tmp_path: Path) -> None:
    wrong = dataclasses.replace(WHISPER_BASE, model_sha256="0" * 64, folder="wrong")
    with pytest.raises(PerceptionUnavailable, match="sha256"):
        ensure_whisper_model(tmp_path, wrong)
    assert not (tmp_path / "wrong" / "model.bin").exists()
    missing = dataclasses.replace(WHISPER_BASE, packages=("no-such-package-xyz",), folder="m")
    with pytest.raises(PerceptionUnavailable, match="no-such-package-xyz"):
        ensure_whisper_model(tmp_path, missing)
