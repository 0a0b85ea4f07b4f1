"""The sandbox files service on an expired or deleted sandbox, against the real engine.

The engine expires a sandbox unused for 7 days (its sweep runs at startup): the test moves
the sandbox's timestamps back on disk and restarts the engine instead of waiting.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from workbench.client import Client, NotFoundError
from workbench.core.engine_process import EngineProcess
from workbench.core.errors import explain
from workbench.core.sandbox_files import SandboxFiles, SandboxGone

pytestmark = pytest.mark.timeout(120)


def _ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _edit(data_dir: Path, env_id: str, **fields: str) -> None:
    meta = data_dir / "environments" / env_id / "environment.json"
    data = json.loads(meta.read_text())
    data.update(fields)
    meta.write_text(json.dumps(data))


async def test_an_expired_then_removed_sandbox_is_named_as_such(tmp_path: Path) -> None:
    data_dir = tmp_path / "engine"
    engine = EngineProcess(data_dir, backend="scripted")
    info = await engine.start()
    try:
        async with Client(info.url, api_key=info.token) as client:
            env = await client.environments.create(
                {"sources": [{"type": "inline", "target": "workspace/a.txt", "content": "A"}]}
            )
            files = SandboxFiles(client)
            assert [e.name for e in await files.list_dir(env.id)] == ["workspace"]
            with pytest.raises(NotFoundError):  # a missing path in a live sandbox stays a 404
                await files.list_dir(env.id, "nowhere")
            assert await files.gone(env.id) is None
        await engine.stop()
        stamp = _ago(days=8)
        _edit(data_dir, env.id, created=stamp, updated=stamp, last_accessed=stamp)
        info = await engine.start()
        async with Client(info.url, api_key=info.token) as client:
            files = SandboxFiles(client)
            with pytest.raises(SandboxGone) as expired:
                await files.list_dir(env.id)
            assert "expired" in str(expired.value) and env.id in str(expired.value)
            assert explain(expired.value).startswith(f"This sandbox ({env.id}) expired")
            with pytest.raises(SandboxGone, match="expired"):
                await files.download_all(env.id, tmp_path / "all.tar")
        await engine.stop()
        _edit(data_dir, env.id, expired_at=_ago(hours=25))
        info = await engine.start()
        async with Client(info.url, api_key=info.token) as client:
            with pytest.raises(SandboxGone, match="no longer has this sandbox"):
                await SandboxFiles(client).list_dir(env.id)
    finally:
        await engine.stop()
