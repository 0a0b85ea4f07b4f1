"""Managed agents end to end with the official SDK (sync and async) against the real engine.

The scripted backend plays the model: ``[[call NAME {json}]]`` directives make it call tools
deterministically, and once tool results come back it answers ``NAME returned RESULT``.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from typing import Any

import pytest
from engine_helpers import EngineProcess
from google import genai
from google.genai._gaos.lib import compat_errors

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.filterwarnings("ignore:.*experimental.*:UserWarning"),
]

SKILL = "---\nname: report\ndescription: Writes short reports\n---\n# Report\nWrite REPORT.md.\n"


def _agent_body(agent_id: str) -> dict[str, Any]:
    return {
        "id": agent_id,
        "base_agent": "antigravity-preview-05-2026",
        "description": "test agent",
        "system_instruction": "You write reports.",
        "tools": [{"type": "code_execution"}],
        "base_environment": {
            "type": "remote",
            "sources": [
                {"type": "inline", "target": ".agents/AGENTS.md", "content": "Be brief."},
                {"type": "inline", "target": ".agents/skills/report/SKILL.md", "content": SKILL},
            ],
        },
    }


PROMPT = (
    '[[call load_skill {"name": "report"}]] '
    '[[call read_file {"path": "data/sales.csv"}]] '
    '[[call write_file {"path": "out/report.md", "content": "total 30"}]]'
)
DATA = {
    "type": "remote",
    "sources": [{"type": "inline", "target": "data/sales.csv", "content": "m,t\na,10\nb,20\n"}],
}


def _wait(client: genai.Client, interaction_id: str, limit: float = 30.0) -> Any:
    deadline = time.monotonic() + limit
    while True:
        got = client.interactions.get(interaction_id)
        if got.status not in ("queued", "in_progress"):
            return got
        assert time.monotonic() < deadline, got.status
        time.sleep(0.1)


def _tar_names(data: bytes) -> dict[str, bytes]:
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        assert tar.format == tarfile.USTAR_FORMAT or all(m.name.isascii() for m in tar)
        for member in tar:
            assert not member.name.startswith("/")
            if member.isfile():
                fh = tar.extractfile(member)
                assert fh is not None
                out[member.name] = fh.read()
            else:
                out[member.name + "/"] = b""
    return out


def test_agent_lifecycle_with_sdk(engine: EngineProcess) -> None:
    client = engine.client()
    agent = client.agents.create(**_agent_body("reporter-sync"))
    assert agent.id == "reporter-sync"
    assert any(a.id == "reporter-sync" for a in client.agents.list().agents or [])
    assert client.agents.get("reporter-sync").system_instruction == "You write reports."

    # Run it in the background with an inline data source, and stream its steps.
    started = client.interactions.create(
        agent="reporter-sync", input=PROMPT, background=True, environment=DATA
    )
    assert started.status in ("queued", "in_progress")
    events = list(client.interactions.get(started.id, stream=True))
    kinds = [e.event_type for e in events]
    assert kinds[0] == "interaction.created" and kinds[-1] == "interaction.completed"
    assert events[-1].interaction.status == "completed"
    started_steps = [e.step.type for e in events if e.event_type == "step.start"]
    assert started_steps == ["function_call", "function_result"] * 3 + ["model_output"]

    done = _wait(client, started.id)
    assert done.status == "completed"
    env_id = done.environment_id
    assert env_id and env_id.startswith("env_")
    types = [s.type for s in done.steps]
    assert types == ["user_input"] + ["function_call", "function_result"] * 3 + ["model_output"]
    skill_result = done.steps[2].result
    assert "Write REPORT.md" in str(skill_result)
    assert "a,10" in str(done.steps[4].result)
    assert "report.md" in done.output_text

    # The file it wrote: list, download, and the whole sandbox as a tar.
    listing = client.environments.files.list(environment=env_id, path="out")
    assert [(f.name, f.type) for f in listing.files] == [("report.md", "file")]
    assert client.environments.files.download(environment=env_id, path="out/report.md") == (
        b"total 30"
    )
    names = _tar_names(client.files.download(file=f"environment-{env_id}"))
    assert names["out/report.md"] == b"total 30"
    assert names[".agents/AGENTS.md"] == b"Be brief."
    assert "data/sales.csv" in names

    # Reuse the sandbox in a second interaction: the file is there.
    again = client.interactions.create(
        agent="reporter-sync",
        input='[[call read_file {"path": "out/report.md"}]]',
        environment=env_id,
    )
    assert again.status == "completed" and again.environment_id == env_id
    assert again.steps[2].result == "total 30"
    # Without an environment id, a fresh fork of the base environment: no report there.
    fresh = client.interactions.create(
        agent="reporter-sync", input='[[call read_file {"path": "out/report.md"}]]'
    )
    assert fresh.environment_id != env_id
    assert fresh.steps[2].is_error

    client.agents.delete("reporter-sync")
    with pytest.raises(compat_errors.APIError) as info:
        client.agents.get("reporter-sync")
    assert info.value.status_code == 404
    with pytest.raises(compat_errors.APIError) as info:
        client.interactions.create(agent="reporter-sync", input="hi")
    assert info.value.status_code == 404
    # The environment outlives the agent.
    assert client.environments.get(env_id).id == env_id


async def test_agent_lifecycle_with_async_sdk(engine: EngineProcess) -> None:
    client = engine.client().aio
    await client.agents.create(**_agent_body("reporter-async"))
    stream = await client.interactions.create(
        agent="reporter-async", input=PROMPT, environment=DATA, stream=True
    )
    events = [event async for event in stream]
    assert events[-1].interaction.status == "completed"
    interaction_id = events[0].interaction.id
    done = await client.interactions.get(interaction_id)
    env_id = done.environment_id
    assert env_id
    # Folding the stream gives the stored steps.
    starts = {e.index: e.step.type for e in events if e.event_type == "step.start"}
    assert [starts[i] for i in sorted(starts)] == [s.type for s in done.steps[1:]]
    data = await client.environments.files.download(environment=env_id, path="out/report.md")
    assert data == b"total 30"
    tar = await client.files.download(file=f"environment-{env_id}")
    assert _tar_names(tar)["out/report.md"] == b"total 30"
    again = await client.interactions.create(
        agent="reporter-async",
        input='[[call list_files {"path": "out"}]]',
        environment=env_id,
    )
    assert "out/report.md" in again.steps[2].result
    await client.agents.delete("reporter-async")
    with pytest.raises(compat_errors.APIError) as info:
        await client.agents.get("reporter-async")
    assert info.value.status_code == 404


def test_environments_files_upload_and_tar(engine: EngineProcess, tmp_path: Any) -> None:
    client = engine.client()
    env = client.environments.create(
        sources=[{"type": "inline", "target": "/workspace/a.txt", "content": "A"}]
    )
    assert env.id and env.status == "active"
    assert client.environments.get(env.id).file_count == 1
    uploaded = client.environments.files.upload(
        environment=env.id, path="workspace/b.bin", file=b"\x00\x01\x02", mime_type="x/y"
    )
    assert [f.path for f in uploaded.files] == ["workspace/b.bin"]
    no_retry = engine.client(retry_options={"attempts": 1})
    with pytest.raises(compat_errors.APIError) as info:
        no_retry.environments.files.upload(environment=env.id, path="workspace/b.bin", file=b"x")
    assert info.value.status_code == 409
    client.environments.files.upload(
        environment=env.id, path="workspace/b.bin", file=b"new", overwrite=True
    )
    assert client.environments.files.download(environment=env.id, path="workspace/b.bin") == (
        b"new"
    )
    # An archive unpacked into a folder.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info_ = tarfile.TarInfo("pkg/mod.py")
        body = b"print(1)\n"
        info_.size = len(body)
        tar.addfile(info_, io.BytesIO(body))
    extracted = client.environments.files.upload(
        environment=env.id, path="src", file=buf.getvalue(), extract=True,
        mime_type="application/gzip",
    )  # fmt: skip
    assert "src/pkg/mod.py" in [f.path for f in extracted.files]
    listing = client.environments.files.list(environment=env.id, path=".", recursive=True)
    paths = [f.path for f in listing.files]
    assert {"workspace/a.txt", "workspace/b.bin", "src/pkg/mod.py"} <= set(paths)
    names = _tar_names(client.files.download(file=f"environment-{env.id}"))
    assert names["src/pkg/mod.py"] == b"print(1)\n"
    # Fork: a copy with the same files, independent afterwards.
    fork = client.environments.create(from_environment=f"environments/{env.id}")
    assert fork.id != env.id
    assert client.environments.files.download(environment=fork.id, path="workspace/a.txt") == (b"A")
    listed = {e.id for e in client.environments.list(page_size=1000).environments or []}
    assert {env.id, fork.id} <= listed
    client.environments.delete(env.id)
    with pytest.raises(compat_errors.APIError) as info:
        client.environments.get(env.id)
    assert info.value.status_code == 404
    with pytest.raises(compat_errors.APIError) as info:
        client.interactions.create(
            agent="antigravity-preview-05-2026", input="hi", environment=env.id
        )
    assert info.value.status_code == 404
    assert client.environments.get(fork.id).id == fork.id


def test_requires_action_round_trip(engine: EngineProcess) -> None:
    client = engine.client()
    tools = [
        {"type": "function", "name": "get_weather", "parameters": {"type": "object"}},
    ]
    first = client.interactions.create(
        agent="antigravity-preview-05-2026",
        input='[[call write_file {"path": "w.txt", "content": "x"}]] '
        '[[call get_weather {"city": "Oslo"}]]',
        tools=tools,
    )
    assert first.status == "requires_action"
    assert [s.type for s in first.steps[1:]] == [
        "function_call",
        "function_result",
        "function_call",
    ]
    call = first.steps[3]
    assert call.name == "get_weather" and call.arguments == {"city": "Oslo"}
    env_id = first.environment_id
    second = client.interactions.create(
        agent="antigravity-preview-05-2026",
        previous_interaction_id=first.id,
        input=[{"type": "function_result", "call_id": call.id, "name": "get_weather",
                "result": "sunny"}],
        tools=tools,
        environment=env_id,
    )  # fmt: skip
    assert second.status == "completed"
    assert second.environment_id == env_id
    assert second.output_text == "get_weather returned sunny"
    with pytest.raises(compat_errors.APIError) as info:
        client.interactions.create(
            agent="antigravity-preview-05-2026",
            previous_interaction_id=first.id,
            input=[{"type": "function_result", "call_id": "call_nope", "result": "x"}],
            environment=env_id,
        )
    assert info.value.status_code == 400


def test_code_execution_steps_and_stream_fold(engine: EngineProcess) -> None:
    client = engine.client()
    code = {"language": "python", "code": "print(6 * 7)"}
    events = list(
        client.interactions.create(
            agent="antigravity-preview-05-2026",
            input=f"[[thought: compute]] [[call code_execution {json.dumps(code)}]]",
            stream=True,
        )
    )
    done = client.interactions.get(events[0].interaction.id)
    types = [s.type for s in done.steps]
    assert types == ["user_input", "thought", "code_execution_call", "code_execution_result",
                     "model_output"]  # fmt: skip
    assert done.steps[2].arguments.code == "print(6 * 7)"
    assert done.steps[3].result.strip() == "42"
    assert done.steps[3].call_id == done.steps[2].id
    deltas = [e.delta.type for e in events if e.event_type == "step.delta"]
    assert "code_execution_call" in deltas and "code_execution_result" in deltas
    assert done.usage.total_tokens > 0
