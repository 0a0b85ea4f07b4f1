"""The app's atomic write and the engine's: old or new file, never half, nothing left over."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from workbench.core.atomic import write_atomic
from workbench.engine.atomic import write_atomic as engine_write_atomic
from workbench.engine.atomic import write_json_atomic


class Boom(Exception):
    pass


def test_core_write_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "settings.json"
    write_atomic(target, "one")
    write_atomic(target, "twø")
    assert target.read_text(encoding="utf-8") == "twø"
    assert sorted(p.name for p in target.parent.iterdir()) == ["settings.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "d" / "x.json"
    write_atomic(target, "old")

    def fail(*_args: object) -> None:
        raise Boom("disk gone")

    monkeypatch.setattr("os.replace", fail)
    with pytest.raises(Boom):
        write_atomic(target, "new")
    with pytest.raises(Boom):
        engine_write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]


def test_engine_write_modes_bytes_and_json(tmp_path: Path) -> None:
    target = tmp_path / "engine.json"
    engine_write_atomic(target, b"\x00\x01", mode=0o640)
    assert target.read_bytes() == b"\x00\x01"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    write_json_atomic(target, {"a": "é"}, durable=False, ensure_ascii=False)
    assert target.read_text(encoding="utf-8") == '{"a": "é"}'
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # private unless told otherwise
