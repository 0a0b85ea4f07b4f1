"""The Models page's core: GGUF metadata (real files written with ``gguf``), imports by
reference, the RAM check, packaged-model rows, and server rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gguf.constants import LlamaFileType

from support.gguf_files import write_gguf
from workbench.client import ModelInfo
from workbench.core.gguf_meta import GGUFMetaCache, GGUFReadError, fits_in_ram, ram_needed
from workbench.core.models_service import ImportStore, ModelsService
from workbench.engine.backends.model_files import PackagedModel


def service(tmp_path: Path, packaged: tuple[PackagedModel, ...] = ()) -> ModelsService:
    return ModelsService(
        tmp_path / "models",
        ImportStore(tmp_path / "config" / "models.json"),
        GGUFMetaCache(tmp_path / "cache" / "gguf.json"),
        packaged=packaged,
    )


def test_metadata_is_read_from_the_file(tmp_path: Path) -> None:
    model = write_gguf(tmp_path / "tiny-q4.gguf", arch="qwen2", ctx=32768)
    meta = GGUFMetaCache(None).read(model)
    assert meta.architecture == "qwen2"
    assert meta.context_length == 32768
    assert meta.quantization == "Q4_K_M"
    assert meta.chat_template is True
    assert meta.vision is False
    assert meta.size == model.stat().st_size


def test_a_projector_next_to_the_model_means_vision(tmp_path: Path) -> None:
    model = write_gguf(tmp_path / "llava.gguf", template=False, file_type=LlamaFileType.MOSTLY_F16)
    cache = GGUFMetaCache(tmp_path / "cache.json")
    first = cache.read(model)
    assert (first.vision, first.chat_template, first.quantization) == (False, False, "F16")
    write_gguf(tmp_path / "mmproj-llava-f16.gguf", arch="clip")
    again = cache.read(model)  # cached, but the projector is looked for each time
    assert again.vision is True
    assert again.vision_file == "mmproj-llava-f16.gguf"


def test_the_cache_is_used_until_the_file_changes(tmp_path: Path) -> None:
    model = write_gguf(tmp_path / "m.gguf", ctx=2048)
    cache_file = tmp_path / "cache.json"
    GGUFMetaCache(cache_file).read(model)
    raw = json.loads(cache_file.read_text())
    (entry,) = raw.values()
    entry["meta"]["architecture"] = "from-cache"
    cache_file.write_text(json.dumps(raw))
    assert GGUFMetaCache(cache_file).read(model).architecture == "from-cache"
    write_gguf(model, ctx=8192)  # rewritten: size/mtime differ, read again
    fresh = GGUFMetaCache(cache_file).read(model)
    assert (fresh.architecture, fresh.context_length) == ("llama", 8192)


def test_bad_files_give_clear_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"NOPE" + b"\0" * 64)
    with pytest.raises(GGUFReadError, match="not a readable GGUF"):
        GGUFMetaCache(None).read(junk)
    with pytest.raises(GGUFReadError, match="missing"):
        GGUFMetaCache(None).read(tmp_path / "gone.gguf")


def test_import_by_reference_then_the_file_moves(tmp_path: Path) -> None:
    svc = service(tmp_path)
    (tmp_path / "downloads").mkdir()
    model = write_gguf(tmp_path / "downloads" / "My-Model-Q4_K_M.gguf")
    row, note = svc.import_gguf(model)
    assert row.kind == "imported" and row.id == "my-model-q4_k_m"
    assert row.path == str(model) and not row.missing
    assert note == ""  # a 1 kB model fits
    assert not (tmp_path / "models").exists()  # referenced, never copied
    with pytest.raises(ValueError, match="already imported"):
        svc.import_gguf(model)

    model.rename(tmp_path / "elsewhere.gguf")
    (row,) = svc.imported_rows()
    assert row.missing is True
    assert "missing" in row.problem
    svc.remove_import(row.path)
    assert svc.imported_rows() == []


def test_projectors_and_non_gguf_files_are_refused(tmp_path: Path) -> None:
    svc = service(tmp_path)
    with pytest.raises(ValueError, match="vision projector"):
        svc.import_gguf(write_gguf(tmp_path / "mmproj-x.gguf", arch="clip"))
    text = tmp_path / "notes.gguf"
    text.write_text("hello")
    with pytest.raises(GGUFReadError):
        svc.import_gguf(text)
    assert svc.store.imported() == []


def test_ram_check_says_when_a_model_does_not_fit() -> None:
    gib = 1024**3
    ok, why = fits_in_ram(1 * gib, available=8 * gib)
    assert ok and "GiB are free" in why
    ok, why = fits_in_ram(6 * gib, available=4 * gib)
    assert not ok
    assert "needs about 7.5 GiB" in why and "only 4.0 GiB" in why
    assert ram_needed(0) > 0


def test_packaged_rows_show_installed_and_verified(tmp_path: Path) -> None:
    absent = PackagedModel(
        id="absent-model", display_name="Absent", description="", file_name="absent.gguf",
        packages=("workbench-test-no-such-package",), version="1.0", sha256="0" * 64,
        size=123, extra="none",
    )  # fmt: skip
    svc = service(tmp_path, packaged=(absent,))
    (row,) = svc.packaged_rows()
    assert (row.installed, row.verified, row.size, row.path) == (False, False, 123, "")


def test_server_and_engine_rows(tmp_path: Path) -> None:
    served = [
        ModelInfo.model_validate({"name": "models/m1", "displayName": "M1", "inputTokenLimit": 4096,
                                  "baseModelId": "m1"}),
        ModelInfo.model_validate({"name": "models/gemini-x", "baseModelId": "m1"}),
    ]  # fmt: skip
    rows = service(tmp_path).local_rows(served)
    # the alias gemini-x -> m1 is not a model of its own
    assert [(r.id, r.kind, r.served, r.context_length) for r in rows] == [
        ("m1", "server", True, 4096)
    ]
    assert [r.id for r in ModelsService.server_rows(served)] == ["m1", "gemini-x"]


def test_user_server_urls_are_normalized_and_checked(tmp_path: Path) -> None:
    store = ImportStore(tmp_path / "models.json")
    assert store.add_server("127.0.0.1:9999") == "http://127.0.0.1:9999/v1"
    assert store.add_server("http://127.0.0.1:9999/v1/") == "http://127.0.0.1:9999/v1"
    assert store.servers() == ["http://127.0.0.1:9999/v1"]
    with pytest.raises(ValueError, match="must not contain"):
        store.add_server("http://h/v1?key=secret")
    with pytest.raises(ValueError, match="not an http"):
        store.add_server("ftp://h")
