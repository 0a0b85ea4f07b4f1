"""The on-disk prompt cache: files survive a restart, damaged ones are never restored, the
budget holds across model keys (no model needed; the real model's side is in
``test_llama_sharing.py``)."""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np
import pytest

from workbench.engine.backends.prompt_cache import RESTORE_MIN_TOKENS, PromptCache, Snapshot
from workbench.engine.backends.prompt_disk import DiskPromptCache, attach, detach


def snapshot(tokens: list[int], size: int, fill: int = 7) -> Snapshot:
    data = (ctypes.c_uint8 * size)()
    ctypes.memset(data, fill, size)
    return Snapshot(tokens=np.array(tokens, dtype=np.intc), data=data)


def written(disk: DiskPromptCache, *snapshots: Snapshot) -> None:
    for s in snapshots:
        disk.put(s)
    disk.flush()


def test_a_snapshot_written_is_found_and_read_back_by_the_next_process(tmp_path: Path) -> None:
    first = DiskPromptCache(tmp_path, "key", 1 << 20)
    written(first, snapshot(list(range(100)), 4096, fill=3))
    first.close()

    again = DiskPromptCache(tmp_path, "key", 1 << 20)
    entry, shared = again.best([*range(90), 999, 998])
    assert entry is not None and shared == 90
    loaded = again.load(entry)
    assert loaded is not None
    assert list(loaded.tokens) == list(range(100))
    assert bytes(loaded.data) == bytes([3]) * 4096
    assert again.hits == 1
    assert again.best([5, 6, 7])[0] is None
    assert DiskPromptCache(tmp_path, "other-model", 1 << 20).best(range(100))[0] is None


def test_short_prefixes_are_not_written(tmp_path: Path) -> None:
    disk = DiskPromptCache(tmp_path, "key", 1 << 20)
    written(disk, snapshot(list(range(10)), 100))
    assert len(disk) == 0 and disk.writes == 0


def test_the_same_conversation_a_turn_later_replaces_its_file(tmp_path: Path) -> None:
    disk = DiskPromptCache(tmp_path, "key", 1 << 20)
    written(disk, snapshot(list(range(100)), 1000))
    written(disk, snapshot(list(range(150)), 1500))
    written(disk, snapshot(list(range(100)) + [5] * 80, 1000))  # a branch: both stay
    files = sorted(p.stat().st_size for p in (tmp_path / "key").iterdir())
    assert len(disk) == 2 and len(files) == 2
    entry, shared = disk.best(range(150))
    assert entry is not None and shared == 150


def test_the_budget_drops_the_least_recently_used_files_of_any_model(tmp_path: Path) -> None:
    old_model = DiskPromptCache(tmp_path, "old", 1 << 20)
    written(old_model, snapshot([1] * 100, 3000))
    old_model.close()
    budget = 8000  # room for two 3 000-byte cells plus headers, not three
    disk = DiskPromptCache(tmp_path, "new", budget)
    written(disk, snapshot([2] * 100, 3000))
    written(disk, snapshot([3] * 100, 3000))
    assert not (tmp_path / "old").exists()  # the other model's file went first, then its folder
    assert disk.nbytes <= budget and len(disk) == 2
    written(disk, snapshot([4] * 100, 3000))
    assert disk.best([2] * 100)[0] is None  # the oldest of this model went next
    assert disk.best([4] * 100)[1] == 100


def test_a_damaged_file_is_deleted_instead_of_restored(tmp_path: Path) -> None:
    disk = DiskPromptCache(tmp_path, "key", 1 << 20)
    written(disk, snapshot(list(range(100)), 4096))
    (path,) = (tmp_path / "key").iterdir()
    raw = bytearray(path.read_bytes())
    raw[-10] ^= 0xFF  # one flipped byte in the KV cells
    path.write_bytes(bytes(raw))
    entry, _ = disk.best(range(100))
    assert entry is not None
    assert disk.load(entry) is None
    assert not path.exists() and len(disk) == 0


def test_truncated_files_and_leftover_temporaries_are_cleared_at_start(tmp_path: Path) -> None:
    disk = DiskPromptCache(tmp_path, "key", 1 << 20)
    written(disk, snapshot(list(range(100)), 4096))
    disk.close()
    (path,) = (tmp_path / "key").iterdir()
    path.write_bytes(path.read_bytes()[:-100])
    (tmp_path / "key" / "cut-short.tmp").write_bytes(b"partial")
    again = DiskPromptCache(tmp_path, "key", 1 << 20)
    assert len(again) == 0 and list((tmp_path / "key").iterdir()) == []


def test_a_budget_of_zero_turns_it_off_and_deletes_the_folder(tmp_path: Path) -> None:
    disk = DiskPromptCache(tmp_path / "prompt-cache", "key", 1 << 20)
    written(disk, snapshot(list(range(100)), 100))
    disk.close()
    off = DiskPromptCache(tmp_path / "prompt-cache", "key", 0)
    assert not off.enabled
    assert not (tmp_path / "prompt-cache").exists()
    written(off, snapshot(list(range(100)), 100))
    assert not (tmp_path / "prompt-cache").exists()


def test_an_unusable_folder_turns_it_off_with_the_reason(tmp_path: Path) -> None:
    blocker = tmp_path / "prompt-cache"
    blocker.write_text("a file where the folder should be")
    disk = DiskPromptCache(blocker, "key", 1 << 20)
    assert not disk.enabled and "cannot use" in disk.failed
    written(disk, snapshot(list(range(100)), 100))  # nothing raised, nothing written
    assert disk.stats()["writes"] == 0


def test_the_ram_cache_reads_a_longer_prefix_from_disk_and_keeps_it(tmp_path: Path) -> None:
    disk = DiskPromptCache(tmp_path, "key", 1 << 20)
    written(disk, snapshot(list(range(200)), 2000))
    cache = PromptCache(1 << 20)
    cache.disk = disk
    cache._keep(snapshot(list(range(50)), 500))  # RAM holds a shorter prefix only
    found, shared = cache.find([*range(200), 1], live=0)
    assert found is not None and shared == 200 and disk.hits == 1
    assert cache.best(range(200))[1] == 200  # now in RAM too

    cache.clear()
    found, shared = cache.find(list(range(200)), live=200 - RESTORE_MIN_TOKENS + 1)
    assert disk.hits == 1  # the live KV cache was nearly as long: the file was not read
    assert found is None and shared == 0


def test_put_writes_through_and_attach_detach_follow_the_budget(tmp_path: Path) -> None:
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF" + bytes(1000))
    cache = PromptCache(1 << 20)
    attach(cache, tmp_path / "prompt-cache", model, 4096, 1 << 20)
    assert isinstance(cache.disk, DiskPromptCache)
    cache.put(snapshot(list(range(100)), 1000))
    detach(cache)  # flushes the pending write
    assert cache.disk is None
    attach(cache, tmp_path / "prompt-cache", model, 4096, 1 << 20)
    assert isinstance(cache.disk, DiskPromptCache) and len(cache.disk) == 1
    attach(cache, tmp_path / "prompt-cache", model, 8192, 1 << 20)  # another context size
    assert isinstance(cache.disk, DiskPromptCache) and len(cache.disk) == 0
    attach(cache, tmp_path / "prompt-cache", model, 4096, 0)
    assert not (tmp_path / "prompt-cache").exists()


def test_a_disk_that_falls_behind_drops_the_oldest_waiting_snapshots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from workbench.engine.backends import prompt_disk

    disk = DiskPromptCache(tmp_path, "key", 1 << 24)
    gate = threading.Event()
    real_write = DiskPromptCache._write

    def slow_write(self: DiskPromptCache, snap: Snapshot) -> None:
        gate.wait(10)
        real_write(self, snap)

    monkeypatch.setattr(DiskPromptCache, "_write", slow_write)
    total = prompt_disk.MAX_PENDING + 4
    for i in range(total):  # different conversations: none extends another
        disk.put(snapshot([i] * 100, 1000))
    gate.set()
    disk.flush()
    assert disk.dropped >= 3  # one may have been taken by the writer before the gate
    assert disk.writes == total - disk.dropped
    assert disk.best([total - 1] * 100)[1] == 100  # the newest were kept
