"""The environment sweeper (protocol.md §9.3) with an injected clock: nothing sleeps."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from workbench.engine.sandbox import EnvironmentStore, NotFound, materialize
from workbench.engine.sandbox.expiry import EnvironmentSweeper, last_activity, utc_now

INLINE = [{"type": "inline", "target": "workspace/a.txt", "content": "A"}]
DAY = timedelta(days=1)


class Clock:
    """A settable clock; starts at the real now so fresh records are fresh."""

    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now


def _sweeper(
    store: EnvironmentStore, clock: Clock, busy: set[str] | None = None, ttl: float = 7
) -> EnvironmentSweeper:
    in_use = busy if busy is not None else set()
    return EnvironmentSweeper(
        store, ttl_days=ttl, keep_hours=24, in_use=lambda: in_use, clock=clock
    )


async def _backdate(store: EnvironmentStore, env_id: str, days: float) -> None:
    """Make an environment look unused for ``days`` (its every timestamp moved back)."""
    record = await store.get_any(env_id)
    old = (utc_now() - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    record.created = record.updated = record.last_accessed = old
    async with store.lock(env_id):
        await store.save(record)


async def test_an_environment_expires_seven_days_after_its_last_activity(
    store: EnvironmentStore,
) -> None:
    env = await store.create(sources=INLINE)
    clock = Clock()
    sweeper = _sweeper(store, clock)
    clock.now += 7 * DAY - timedelta(minutes=1)
    assert (await sweeper.sweep()).expired == []
    assert (store.folder(env.id) / "root" / "workspace" / "a.txt").is_file()

    clock.now += timedelta(minutes=2)
    report = await sweeper.sweep()
    assert report.expired == [env.id] and report.emptied == [env.id]
    record = await store.get_any(env.id)
    assert record.status == "expired" and record.expired_at
    assert not (store.folder(env.id) / "root").exists()
    wire = await store.to_wire(record, counts=False)
    assert wire.status == "expired"
    with pytest.raises(NotFound, match="expired"):
        await store.get(env.id)
    with pytest.raises(NotFound, match="expired"):
        await materialize(store, env.id)  # an interaction naming it gets 404
    with pytest.raises(NotFound):
        await store.fork(env.id)


async def test_expired_metadata_is_deleted_after_the_grace(store: EnvironmentStore) -> None:
    env = await store.create()
    clock = Clock()
    sweeper = _sweeper(store, clock)
    clock.now += 8 * DAY
    assert (await sweeper.sweep()).expired == [env.id]
    clock.now += timedelta(hours=23)
    assert (await sweeper.sweep()).deleted == []
    assert (await store.get_any(env.id)).status == "expired"
    clock.now += timedelta(hours=2)
    assert (await sweeper.sweep()).deleted == [env.id]
    with pytest.raises(NotFound, match="not found"):
        await store.get_any(env.id)
    assert not store.folder(env.id).exists()
    assert await store.list() == ([], None)


async def test_an_environment_in_use_is_never_expired(store: EnvironmentStore) -> None:
    env = await store.create()
    clock = Clock()
    busy = {env.id}
    sweeper = _sweeper(store, clock, busy)
    clock.now += 30 * DAY
    assert (await sweeper.sweep()).expired == []
    assert (await store.get(env.id)).status == "active"
    busy.clear()
    assert (await sweeper.sweep()).expired == [env.id]


async def test_activity_restarts_the_clock(store: EnvironmentStore) -> None:
    used = await store.create()
    parent = await store.create()
    updated = await store.create()
    idle = await store.create()
    for env in (used, parent, updated, idle):
        await _backdate(store, env.id, 10)
    await materialize(store, used.id)  # an interaction naming it
    await store.touch(updated.id, modified=True)  # a file written through the files API
    await store.create(from_environment=parent.id)  # a fork (a saved agent's base) uses it
    report = await _sweeper(store, Clock()).sweep()
    assert report.expired == [idle.id]
    for env in (used, parent, updated):
        assert (await store.get(env.id)).status == "active"


async def test_reads_are_not_activity(store: EnvironmentStore) -> None:
    env = await store.create()
    await _backdate(store, env.id, 10)
    await store.get(env.id)
    await store.list()
    assert (await _sweeper(store, Clock()).sweep()).expired == [env.id]


async def test_ttl_zero_never_expires(store: EnvironmentStore) -> None:
    env = await store.create()
    await _backdate(store, env.id, 3650)
    assert (await _sweeper(store, Clock(), ttl=0).sweep()).expired == []
    assert (await store.get(env.id)).status == "active"


async def test_mark_writes_only_metadata_and_sweep_removes_the_files(
    store: EnvironmentStore,
) -> None:
    env = await store.create(sources=INLINE)
    clock = Clock()
    sweeper = _sweeper(store, clock)
    clock.now += 8 * DAY
    assert (await sweeper.mark()).expired == [env.id]
    assert (await store.get_any(env.id)).status == "expired"
    assert (store.folder(env.id) / "root").is_dir()  # the start does not wait for rmtree
    report = await sweeper.sweep()
    assert report.expired == [] and report.emptied == [env.id]
    assert not (store.folder(env.id) / "root").exists()


async def test_an_expired_record_without_a_time_gets_the_whole_grace(
    store: EnvironmentStore,
) -> None:
    env = await store.create()
    meta = store.folder(env.id) / "environment.json"
    data = json.loads(meta.read_text())
    data["status"] = "expired"  # as an older engine or a hand edit leaves it
    meta.write_text(json.dumps(data))
    clock = Clock()
    sweeper = _sweeper(store, clock)
    assert (await sweeper.sweep()).deleted == []
    assert (await store.get_any(env.id)).expired_at
    clock.now += timedelta(hours=25)
    assert (await sweeper.sweep()).deleted == [env.id]


async def test_unreadable_timestamps_never_expire(store: EnvironmentStore) -> None:
    env = await store.create()
    record = await store.get_any(env.id)
    record.created = record.updated = record.last_accessed = "yesterday"
    async with store.lock(env.id):
        await store.save(record)
    assert last_activity(record) is None
    clock = Clock()
    clock.now += 365 * DAY
    assert (await _sweeper(store, clock).sweep()).expired == []


def test_negative_settings_are_refused(store: EnvironmentStore) -> None:
    with pytest.raises(ValueError, match="environment_ttl_days"):
        EnvironmentSweeper(store, ttl_days=-1, keep_hours=24)
    with pytest.raises(ValueError, match="keep_hours"):
        EnvironmentSweeper(store, ttl_days=7, keep_hours=-1)
