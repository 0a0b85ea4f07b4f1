"""Assembly and verification of packaged GGUF models, with small fake chunk packages."""

from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import os
from dataclasses import replace
from pathlib import Path

import pytest

from workbench.engine.backends import model_files as mf
from workbench.engine.backends import packaged_models
from workbench.engine.backends.base import BackendError


def _make_dist(site: Path, name: str, version: str, chunk_name: str, data: bytes) -> None:
    """A minimal installed distribution (dist-info + RECORD) holding one data chunk."""
    pkg = name.replace("-", "_")
    (site / pkg / "data").mkdir(parents=True)
    (site / pkg / "data" / chunk_name).write_bytes(data)
    info = site / f"{pkg}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "RECORD").write_text(
        f"{pkg}/data/{chunk_name},,{len(data)}\n{pkg}-{version}.dist-info/METADATA,,\n"
        f"{pkg}-{version}.dist-info/RECORD,,\n"
    )


@pytest.fixture
def fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[mf.PackagedModel, bytes]:
    """A three-chunk packaged model installed into a fresh sys.path entry."""
    site = tmp_path / "site"
    site.mkdir()
    chunks = [b"GGUF" + os.urandom(3000), os.urandom(5000), os.urandom(123)]
    names = [f"wbtest-fakemodel-part{i}" for i in range(1, 4)]
    for i, (name, data) in enumerate(zip(names, chunks, strict=True), start=1):
        _make_dist(site, name, "0.2.0", f"part{i:02d}.bin", data)
    monkeypatch.syspath_prepend(str(site))
    joined = b"".join(chunks)
    model = replace(
        mf.LARGE_MODEL,
        id="fake-1.5b",
        file_name="fake.gguf",
        packages=tuple(names),
        sha256=hashlib.sha256(joined).hexdigest(),
        size=len(joined),
    )
    return model, joined


def test_assembles_verifies_and_marks(fake_model: tuple[mf.PackagedModel, bytes], tmp_path: Path):
    model, joined = fake_model
    models_dir = tmp_path / "data" / "models"
    path = mf.ensure_model_file(model, models_dir)
    assert path == models_dir / "fake.gguf"
    assert path.read_bytes() == joined
    assert (models_dir / "fake.gguf.verified").is_file()
    assert sorted(p.name for p in models_dir.iterdir()) == ["fake.gguf", "fake.gguf.verified"]


def test_later_start_trusts_marker_without_hashing(
    fake_model: tuple[mf.PackagedModel, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    model, _ = fake_model
    models_dir = tmp_path / "models"
    mf.ensure_model_file(model, models_dir)

    def no_hashing(_path: Path) -> str:
        raise AssertionError("a verified file must not be hashed again")

    monkeypatch.setattr(packaged_models, "sha256_file", no_hashing)
    monkeypatch.setattr(packaged_models, "find_chunk_files", no_hashing)
    assert mf.ensure_model_file(model, models_dir).is_file()


def test_changed_file_is_rehashed_and_rebuilt(
    fake_model: tuple[mf.PackagedModel, bytes], tmp_path: Path
):
    model, joined = fake_model
    models_dir = tmp_path / "models"
    path = mf.ensure_model_file(model, models_dir)
    damaged = bytearray(joined)
    damaged[100] ^= 0xFF
    path.write_bytes(bytes(damaged))  # same size, new mtime: the marker no longer matches
    assert mf.ensure_model_file(model, models_dir).read_bytes() == joined


def test_file_without_marker_is_hashed_once(
    fake_model: tuple[mf.PackagedModel, bytes], tmp_path: Path
):
    model, joined = fake_model
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    (models_dir / "fake.gguf").write_bytes(joined)  # e.g. copied by hand
    assert mf.ensure_model_file(model, models_dir).read_bytes() == joined
    assert (models_dir / "fake.gguf.verified").is_file()


def test_hash_mismatch_is_refused_and_leaves_nothing(
    fake_model: tuple[mf.PackagedModel, bytes], tmp_path: Path
):
    model, joined = fake_model
    bad = replace(model, sha256="0" * 64)
    models_dir = tmp_path / "models"
    with pytest.raises(BackendError) as info:
        mf.ensure_model_file(bad, models_dir)
    message = str(info.value)
    assert "0" * 64 in message
    assert hashlib.sha256(joined).hexdigest() in message
    assert "Refusing" in message
    assert info.value.code == "unavailable"
    assert list(models_dir.iterdir()) == []  # no model, no temp file


def test_size_mismatch_is_refused_before_joining(
    fake_model: tuple[mf.PackagedModel, bytes], tmp_path: Path
):
    model, _ = fake_model
    with pytest.raises(BackendError, match="bytes"):
        mf.ensure_model_file(replace(model, size=7), tmp_path / "models")


def test_missing_package_names_the_extra(
    fake_model: tuple[mf.PackagedModel, bytes], tmp_path: Path
):
    model, _ = fake_model
    missing = replace(model, packages=(*model.packages, "wbtest-fakemodel-part99"))
    with pytest.raises(BackendError) as info:
        mf.ensure_model_file(missing, tmp_path / "models")
    assert "wbtest-fakemodel-part99" in str(info.value)
    assert "pip install 'workbench[local-large]'" in str(info.value)


def test_default_model_missing_says_install_local(tmp_path: Path):
    model = replace(mf.DEFAULT_MODEL, packages=("wbtest-not-installed-part1",))
    with pytest.raises(BackendError, match=r"pip install 'workbench\[local\]'"):
        mf.find_chunk_files(model)


def test_wrong_version_is_refused(fake_model: tuple[mf.PackagedModel, bytes], tmp_path: Path):
    model, _ = fake_model
    with pytest.raises(BackendError, match=r"0\.2\.1"):
        mf.find_chunk_files(replace(model, version="0.2.1"))


def test_chunks_are_found_in_package_order(fake_model: tuple[mf.PackagedModel, bytes]):
    model, _ = fake_model
    names = [p.name for p in mf.find_chunk_files(model)]
    assert names == ["part01.bin", "part02.bin", "part03.bin"]


def test_real_default_packages_are_located_without_import():
    try:
        metadata.distribution(mf.DEFAULT_MODEL.packages[0])
    except metadata.PackageNotFoundError:
        pytest.skip("the default model packages are not installed")
    chunks = mf.find_chunk_files(mf.DEFAULT_MODEL)
    assert len(chunks) == 6
    assert sum(c.stat().st_size for c in chunks) == mf.DEFAULT_MODEL.size


# --------------------------------------------------------------------------- user GGUF files


def _gguf(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"GGUF\x03\x00\x00\x00")
    return path


def test_user_models_from_files_and_folders(tmp_path: Path):
    single = _gguf(tmp_path / "one" / "My Model-Q4_K_M.gguf")
    folder = tmp_path / "lib"
    _gguf(folder / "a" / "Big-00001-of-00002.gguf")
    _gguf(folder / "a" / "Big-00002-of-00002.gguf")
    _gguf(folder / "b" / "mmproj-vision.gguf")
    _gguf(folder / "b" / "qwen2.5-coder-0.5b.gguf")  # clashes with the packaged id
    (folder / "notes.txt").write_text("x")
    models = mf.user_models([single, folder, tmp_path / "missing"], taken=["qwen2.5-coder-0.5b"])
    assert [m.id for m in models] == ["my-model-q4_k_m", "big", "qwen2.5-coder-0.5b-2"]
    assert models[1].path is not None
    assert models[1].path.name == "Big-00001-of-00002.gguf"


def test_check_gguf(tmp_path: Path):
    good = _gguf(tmp_path / "m.gguf")
    assert mf.check_gguf(good) == good
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model")
    with pytest.raises(BackendError, match="not a GGUF"):
        mf.check_gguf(bad)
    with pytest.raises(BackendError, match="does not exist") as info:
        mf.check_gguf(tmp_path / "nope.gguf")
    assert info.value.code == "not_found"


def test_catalog_lists_default_first_and_large_only_when_installed(tmp_path: Path):
    user = _gguf(tmp_path / "extra.gguf")
    models = mf.catalog(tmp_path / "models", [user])
    ids = [m.id for m in models]
    assert ids[0] == "qwen2.5-coder-0.5b"
    assert ids[-1] == "extra"
    large_installed = mf.is_installed(mf.LARGE_MODEL, tmp_path / "models")
    assert ("qwen2.5-coder-1.5b" in ids) == large_installed
