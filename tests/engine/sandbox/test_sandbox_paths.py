"""The wire path model (protocol.md §9.4): every spelling of a path stays inside the root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.engine.sandbox import NotFound, SandboxPathError, paths


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("", ""),
        (".", ""),
        ("/", ""),
        ("./", ""),
        ("workspace/src/main.py", "workspace/src/main.py"),
        ("/workspace/src/main.py", "workspace/src/main.py"),
        ("//workspace//src/./main.py", "workspace/src/main.py"),
        (".agents/AGENTS.md", ".agents/AGENTS.md"),
        ("/.agents/AGENTS.md", ".agents/AGENTS.md"),
        ("a%2Fb", "a/b"),
        ("my%20file.txt", "my file.txt"),
        (None, ""),
    ],
)
def test_normalize(wire: str | None, expected: str) -> None:
    assert paths.normalize(wire) == expected


@pytest.mark.parametrize(
    "wire",
    [
        "..",
        "../x",
        "a/../../x",
        "/../etc/passwd",
        "a/..",
        "%2e%2e/x",
        "a%2F..%2Fb",
        "a\x00b",
        "x" * 300,
        "%ff",
    ],
)
def test_normalize_refuses(wire: str) -> None:
    with pytest.raises(SandboxPathError):
        paths.normalize(wire)


def test_absolute_paths_stay_in_the_root(root: Path) -> None:
    assert paths.resolve(root, "/etc/passwd") == Path(os.path.realpath(root)) / "etc/passwd"


def test_symlink_out_is_refused(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("s")
    (root / "link").symlink_to(outside)
    (root / "abs").symlink_to("/etc/passwd")
    (root / "rel").symlink_to("../outside/secret")
    for wire in ("link", "link/secret", "abs", "rel", "link/new-file"):
        with pytest.raises(SandboxPathError):
            paths.resolve(root, wire)


def test_symlink_inside_is_followed(root: Path) -> None:
    (root / "real").mkdir()
    (root / "real" / "f").write_text("x")
    (root / "alias").symlink_to("real")
    assert paths.resolve(root, "alias/f") == Path(os.path.realpath(root)) / "real/f"


def test_dangling_symlink_out_refused(root: Path) -> None:
    (root / "d").symlink_to("/nonexistent/somewhere")
    with pytest.raises(SandboxPathError):
        paths.resolve(root, "d")


def test_resolve_existing_404(root: Path) -> None:
    with pytest.raises(NotFound):
        paths.resolve_existing(root, "missing.txt")


def test_open_file_refuses_final_symlink_and_fifo(root: Path) -> None:
    (root / "f").write_text("x")
    (root / "l").symlink_to("f")
    os.mkfifo(root / "fifo")
    real_root = Path(os.path.realpath(root))
    with pytest.raises(SandboxPathError):
        paths.open_file(root, real_root / "l", os.O_RDONLY)
    with pytest.raises(SandboxPathError):
        paths.open_file(root, real_root / "fifo", os.O_RDONLY)
    fd = paths.open_file(root, real_root / "f", os.O_RDONLY)
    os.close(fd)


def test_open_dir_checks_the_opened_directory(root: Path, tmp_path: Path) -> None:
    with pytest.raises(SandboxPathError), paths.open_dir(root, tmp_path):
        pass


_segment = st.one_of(
    st.sampled_from(
        ["..", ".", "", "a", "etc", "passwd", "link", "%2e%2e", "%2F", "~", "\\..", "..."]
    ),
    st.text(min_size=1, max_size=8),
)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=st.lists(_segment, max_size=8), leading=st.booleans())
def test_fuzz_never_escapes(root: Path, tmp_path: Path, parts: list[str], leading: bool) -> None:
    if not (root / "link").exists():
        (tmp_path / "outside").mkdir(exist_ok=True)
        (root / "link").symlink_to(tmp_path / "outside")
    wire = ("/" if leading else "") + "/".join(parts)
    real_root = os.path.realpath(root)
    try:
        real = paths.resolve(root, wire)
    except SandboxPathError:
        return
    assert paths.is_inside(real_root, str(real))
    assert os.path.realpath(real) == str(real)
