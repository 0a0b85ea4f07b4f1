"""Whole-folder disk operations on environments: make, copy (a fork) and remove.

Split from ``store.py`` because the sweeper (``expiry.py``) removes an expired environment's
files with the same read-only-tolerant removal the store uses for a delete, and neither should
import the other's internals for it. All functions block: call them in a worker thread.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import Any


def make_folder(folder: Path, *, with_root: bool = True) -> None:
    """A new environment folder (mode 0700), with an empty workspace ``root/`` unless told."""
    folder.mkdir(mode=0o700)
    if with_root:
        (folder / "root").mkdir()


def copy_tree(src: Path, dst: Path) -> None:
    """Copy a workspace: symlinks stay links, sockets/FIFOs/devices are left out."""

    def skip_special(directory: str, names: list[str]) -> list[str]:
        skipped = []
        for name in names:
            try:
                mode = os.lstat(os.path.join(directory, name)).st_mode
            except OSError:
                skipped.append(name)
                continue
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
                skipped.append(name)
        return skipped

    shutil.copytree(src, dst, symlinks=True, ignore=skip_special)


def remove_tree(folder: Path) -> None:
    """Remove a tree, also where the sandboxed code made folders read-only."""

    def make_writable(func: Any, path: str, _exc: Any) -> None:
        try:
            os.chmod(os.path.dirname(path), 0o700)
            func(path)
        except OSError:
            pass

    shutil.rmtree(folder, onerror=make_writable)
