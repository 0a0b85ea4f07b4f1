"""Agents, environments and files over raw HTTP: the rules of protocol.md §8, §9 and §11."""

from __future__ import annotations

import io
import tarfile
import time
from typing import Any

import httpx
import pytest
from engine_helpers import EngineProcess, create, sse_events

pytestmark = pytest.mark.timeout(60)

AGENT = "antigravity-preview-05-2026"


def _agent(http: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return http.post("/v1beta/agents", json=body)


def _run(http: httpx.Client, text: str, **extra: Any) -> dict[str, Any]:
    response = create(http, {"agent": AGENT, "input": text, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# -- Agents API (§8, §11.30, §11.31) -------------------------------------------------------


@pytest.mark.parametrize(
    ("agent_id", "status"),
    [
        ("antigravity-mine", 400),
        ("Gemini-x", 400),
        ("google-helper", 400),
        ("UPPER", 400),
        ("-lead", 400),
        ("has space", 400),
        ("a" * 129, 400),
        ("ok_id-1", 200),
    ],
)
def test_agent_ids(http: httpx.Client, agent_id: str, status: int) -> None:
    response = _agent(http, {"id": agent_id})
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json() == {"id": agent_id, "base_agent": AGENT}
        assert _agent(http, {"id": agent_id}).status_code == 409
        assert _agent(http, {"id": agent_id}).json()["error"]["code"] == "already_exists"
        assert http.delete(f"/v1beta/agents/{agent_id}").json() == {}
        assert http.delete(f"/v1beta/agents/{agent_id}").status_code == 404


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"tools": [{"type": "file_search"}]}, "do not support 'file_search'"),
        ({"tools": [{"type": "computer_use"}]}, "computer_use"),
        ({"tools": [{"type": "google_maps"}]}, "google_maps"),
        ({"tools": [{"type": "retrieval"}]}, "not available for agents"),
        ({"tools": [{"type": "mcp_server", "name": "Bad", "url": "http://x"}]}, "a-z0-9"),
        ({"agent_config": {"type": "deep-research"}}, "antigravity"),
        ({"agent_config": {"type": "antigravity", "max_total_tokens": "-5"}}, "positive"),
        ({"base_agent": "deep-research-preview-04-2026"}, "base_agent"),
        ({"base_environment": {"sources": [{"type": "inline", "target": "/", "content": ""}]}},
         "must not be '/'"),
        ({"base_environment": {"sources": [{"type": "gcs", "source": "gs://b/", "target": "d"}]}},
         "gcs"),
    ],
)  # fmt: skip
def test_agent_create_validation(http: httpx.Client, body: dict[str, Any], needle: str) -> None:
    response = _agent(http, {"id": "validation-agent", **body})
    assert response.status_code == 400, response.text
    assert needle in response.json()["error"]["message"]


def test_agent_list_get_and_builtin(http: httpx.Client) -> None:
    for i in range(3):
        body = {"id": f"pager-{i}", "agent_config": {"type": "antigravity",
                                                     "max_total_tokens": 5000}}  # fmt: skip
        assert _agent(http, body).status_code == 200
    got = http.get("/v1beta/agents/pager-1").json()
    assert got["agent_config"]["max_total_tokens"] == "5000"  # int64 as a string
    seen: list[str] = []
    token = None
    while True:
        params = {"pageSize": 2, **({"pageToken": token} if token else {})}
        page = http.get("/v1beta/agents", params=params).json()
        seen += [a["id"] for a in page["agents"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert [s for s in seen if s.startswith("pager-")] == ["pager-0", "pager-1", "pager-2"]
    assert AGENT not in seen
    assert http.get(f"/v1beta/agents/{AGENT}").status_code == 404
    assert http.get("/v1/agents/pager-2").json()["id"] == "pager-2"  # every version prefix
    for i in range(3):
        http.delete(f"/v1beta/agents/pager-{i}")


def test_custom_agent_invocation_rules(http: httpx.Client) -> None:
    body = {
        "id": "ruled",
        "system_instruction": "saved instruction",
        "tools": [{"type": "function", "name": "saved_fn"}],
        "base_environment": {
            "type": "remote",
            "sources": [{"type": "inline", "target": "base.txt", "content": "base"}],
        },
    }
    assert _agent(http, body).status_code == 200
    bad = create(http, {"agent": "ruled", "input": "x", "agent_config": {"type": "antigravity"}})
    assert bad.status_code == 400 and "agent_config" in bad.json()["error"]["message"]
    # The saved function tool is offered; a per-call tools list replaces it.
    first = create(http, {"agent": "ruled", "input": "[[call saved_fn]]"}).json()
    assert first["status"] == "requires_action"
    replaced = create(
        http,
        {"agent": "ruled", "input": "[[call saved_fn]]", "tools": [{"type": "code_execution"}]},
    ).json()
    assert replaced["status"] == "completed"
    assert replaced["steps"][2]["is_error"] is True  # saved_fn no longer exists
    # Each run forks the base environment; network overrides per call keep the sources.
    env_a, env_b = first["environment_id"], replaced["environment_id"]
    assert env_a != env_b
    override = create(
        http,
        {
            "agent": "ruled",
            "input": '[[call read_file {"path": "base.txt"}]]',
            "environment": {"type": "remote", "network": "disabled"},
        },
    ).json()
    assert override["steps"][2]["result"] == "base"
    env = http.get(f"/v1beta/environments/{override['environment_id']}").json()
    assert env["network"] == "disabled"
    http.delete("/v1beta/agents/ruled")


async def test_more_than_1000_agents_is_refused(tmp_path: Any) -> None:
    from workbench.engine.agent.definitions import AgentDefinitions
    from workbench.engine.errors import ApiError
    from workbench.engine.sandbox import EnvironmentStore
    from workbench.engine.store import Store

    store = Store(tmp_path / "engine.db")
    await store.open()
    try:
        for i in range(1000):
            assert await store.insert_agent(f"a{i}", f"2026-01-01T00:00:{i:04d}", {"id": f"a{i}"})
        defs = AgentDefinitions(store, EnvironmentStore(tmp_path))
        with pytest.raises(ApiError) as info:
            await defs.create({"id": "one-too-many"})
        assert info.value.http_status == 400 and "1000" in info.value.message
        page = await defs.list(1000, None)
        assert len(page["agents"]) == 1000 and "next_page_token" not in page
    finally:
        await store.close()


# -- built-in agent validation (§11.9) -----------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "status", "needle"),
    [
        ({"generation_config": {"temperature": 0.1}}, 400, "generation_config"),
        ({"generation_config": {}}, 400, "generation_config"),
        ({"model": "scripted"}, 400, "not both"),
        ({"tools": [{"type": "file_search"}]}, 400, "file_search"),
        ({"tools": [{"type": "mcp_server", "name": "Up", "url": "http://x"}]}, 400, "a-z0-9"),
        ({"response_format": {"type": "text", "mime_type": "application/json"}}, 400,
         "structured output"),
        ({"response_mime_type": "application/json"}, 400, "structured output"),
        ({"background": True, "store": False}, 400, "stored"),
        ({"agent_config": {"type": "deep-research"}}, 400, "antigravity"),
        ({"agent_config": {"type": "antigravity", "max_total_tokens": "abc"}}, 400, "integer"),
        ({"input": [{"type": "audio", "mime_type": "audio/wav"}]}, 400, "needs 'data'"),
        ({"input": [{"type": "hologram", "data": "AAAA"}]}, 400, "'hologram'"),
        ({"input": [{"type": "image", "uri": "https://x/y.png"}]}, 400, "cannot fetch"),
        ({"agent": "deep-research-preview-04-2026"}, 400, "only in the background"),
        ({"agent": "no-such-agent"}, 404, "not found"),
        ({"environment": "env_doesnotexist"}, 404, "not found"),
        ({"environment": {"type": "remote", "sources": [{"type": "inline", "target": "/",
                                                         "content": "x"}]}}, 400, "'/'"),
    ],
)  # fmt: skip
def test_builtin_agent_validation(
    http: httpx.Client, extra: dict[str, Any], status: int, needle: str
) -> None:
    response = create(http, {"agent": AGENT, "input": "hi", **extra})
    assert response.status_code == status, response.text
    assert needle in response.json()["error"]["message"]


def test_agent_interaction_resource(http: httpx.Client) -> None:
    body = _run(http, "hello", agent_config={"type": "antigravity", "model": "gemini-3.7-flash",
                                            "max_total_tokens": 100000})  # fmt: skip
    assert body["agent"] == AGENT and "model" not in body
    assert body["status"] == "completed"
    assert body["environment_id"].startswith("env_")
    assert body["agent_config"]["max_total_tokens"] == "100000"
    assert body["steps"][-1]["content"][0]["text"] == "hello"
    got = http.get(f"/v1beta/interactions/{body['id']}").json()
    assert got == body
    assert http.get(f"/v1beta/environments/{body['environment_id']}").status_code == 200


# -- environments and files (§9, §11.32–37) ------------------------------------------------


def _env(http: httpx.Client, sources: list[dict[str, Any]], **extra: Any) -> str:
    response = http.post("/v1beta/environments", json={"sources": sources, **extra})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == body["environment_id"] and body["type"] == "remote"
    assert isinstance(body["file_count"], str) and isinstance(body["size_bytes"], str)
    return str(body["id"])


def test_files_api_paths_and_paging(http: httpx.Client) -> None:
    sources = [
        {"type": "inline", "target": f"/workspace/src/f{i}.txt", "content": str(i)}
        for i in range(5)
    ] + [{"type": "inline", "target": ".agents/AGENTS.md", "content": "x"}]
    env_id = _env(http, sources)
    base = f"/v1alpha/environments/{env_id}/files"
    for root in (base, f"{base}/.", f"{base}/"):
        names = [f["name"] for f in http.get(root).json()["files"]]
        assert names == [".agents", "workspace"], root
    one = http.get(f"{base}/workspace/src/f3.txt").json()["files"]
    assert one == [dict(one[0], name="f3.txt", path="workspace/src/f3.txt", type="file",
                        size_bytes="1")]  # fmt: skip
    assert http.get(f"{base}/workspace/src/f3.txt", params={"alt": "media"}).content == b"3"
    assert http.get(f"{base}/workspace", params={"alt": "media"}).status_code == 400
    assert http.get(f"{base}/nope.txt", params={"alt": "media"}).status_code == 404
    assert http.get(f"{base}/../x").status_code in (400, 404)
    assert http.get(f"{base}/%2e%2e/x").status_code == 400
    paths: list[str] = []
    token = None
    while True:
        params: dict[str, Any] = {"recursive": "true", "page_size": 2}
        if token:
            params["page_token"] = token
        page = http.get(base, params=params).json()
        paths += [f["path"] for f in page["files"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert len(paths) == len(set(paths)) == 9
    assert "workspace/src/f4.txt" in paths and ".agents/AGENTS.md" in paths
    tar = http.get(f"/v1beta/files/environment-{env_id}:download", params={"alt": "media"})
    assert tar.status_code == 200
    assert tar.headers["content-type"] == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(tar.content), mode="r:") as archive:
        names = archive.getnames()
    assert "workspace/src/f0.txt" in names and "workspace" in names
    assert not any(n.startswith("/") for n in names)
    missing = http.get("/v1beta/files/environment-env_nope:download", params={"alt": "media"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_environment_list_paging(http: httpx.Client) -> None:
    made = {_env(http, []) for _ in range(3)}
    seen: list[str] = []
    token = None
    while True:
        params: dict[str, Any] = {"pageSize": 2}
        if token:
            params["pageToken"] = token
        page = http.get("/v1beta/environments", params=params).json()
        assert len(page["environments"]) <= 2
        seen += [e["id"] for e in page["environments"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert made <= set(seen) and len(seen) == len(set(seen))
    fork = http.post(
        "/v1beta/environments",
        json={
            "from_environment": sorted(made)[0],
            "sources": [{"type": "inline", "target": "a", "content": ""}],
        },
    )
    assert fork.status_code == 400  # from_environment takes no sources  # fmt: skip


def test_upload_protocol_headers(engine_factory: Any) -> None:
    eng: EngineProcess = engine_factory("--path-prefix", "/gem")
    with eng.http() as http:
        env_id = _env(http, [])
        start = http.put(
            f"/upload/v1beta/environments/{env_id}/files/dir/a.txt",
            headers={
                "X-Goog-Upload-Protocol": "resumable",
                "X-Goog-Upload-Command": "start",
                "X-Goog-Upload-Header-Content-Length": "6",
                "X-Goog-Upload-Header-Content-Type": "text/plain",
            },
        )
        assert start.status_code == 200, start.text
        assert start.headers["x-goog-upload-status"] == "active"
        session = start.headers["x-goog-upload-url"]
        assert session.startswith(eng.url + "/upload/v1beta/environments/")  # keeps /gem
        first = http.post(
            session,
            content=b"abc",
            headers={"X-Goog-Upload-Command": "upload", "X-Goog-Upload-Offset": "0"},
        )
        assert first.headers["x-goog-upload-status"] == "active"  # fmt: skip
        wrong = http.post(
            session,
            content=b"def",
            headers={"X-Goog-Upload-Command": "upload", "X-Goog-Upload-Offset": "1"},
        )
        assert wrong.status_code == 400  # fmt: skip
        assert wrong.headers["x-goog-upload-status"] == "final"
        assert wrong.json()["error"]["code"] == "invalid_request"
        gone = http.post(
            session,
            content=b"def",
            headers={"X-Goog-Upload-Command": "upload", "X-Goog-Upload-Offset": "3"},
        )
        assert gone.status_code == 404 and gone.headers["x-goog-upload-status"] == "final"
        # A complete upload in one finalize chunk.
        start = http.put(
            f"/upload/v1/environments/{env_id}/files/dir/a.txt",
            headers={"X-Goog-Upload-Command": "start",
                     "X-Goog-Upload-Header-Content-Length": "3"},
        )  # fmt: skip
        done = http.post(
            start.headers["x-goog-upload-url"],
            content=b"xyz",
            headers={"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "0"},
        )
        assert done.headers["x-goog-upload-status"] == "final"
        assert done.json()["files"][0]["path"] == "dir/a.txt"
        conflict = http.put(
            f"/upload/v1beta/environments/{env_id}/files/dir/a.txt",
            headers={"X-Goog-Upload-Command": "start"},
        )
        assert conflict.status_code == 409
        assert conflict.headers["x-goog-upload-status"] == "final"


# -- the loop: budget, step limit, repeats, cancel -----------------------------------------


def test_budget_exceeded(http: httpx.Client) -> None:
    body = _run(http, "[[tokens: 400]]",
                agent_config={"type": "antigravity", "max_total_tokens": 200})  # fmt: skip
    assert body["status"] == "budget_exceeded"
    # It stops at the first token past the budget (the prompt counts too).
    assert 200 < body["usage"]["total_tokens"] <= 201
    assert len(body["steps"][-1]["content"][0]["text"].split()) < 200
    streamed = create(
        http,
        {"agent": AGENT, "input": "[[tokens: 400]]", "stream": True,
         "agent_config": {"type": "antigravity", "max_total_tokens": "200"}},
    )  # fmt: skip
    events = sse_events(streamed.text)
    assert events[-1]["event_type"] == "interaction.completed"
    assert events[-1]["interaction"]["status"] == "budget_exceeded"
    assert events[-2] == {**events[-2], "status": "budget_exceeded"}


def test_repeated_call_is_not_run_again(http: httpx.Client) -> None:
    body = _run(http, '[[loop]] [[call list_files {"path": "."}]]')
    types = [s["type"] for s in body["steps"]]
    assert types == ["user_input", "function_call", "function_result", "model_output"]
    # The harness told the (scripted) model that it already has the result.
    assert body["status"] == "completed"
    assert "already called list_files" in body["steps"][-1]["content"][0]["text"]


def test_step_limit(engine_factory: Any) -> None:
    eng: EngineProcess = engine_factory("--agent-max-steps", "2")
    calls = " ".join(f'[[call list_files {{"path": "d{i}"}}]]' for i in range(4))
    with eng.http() as http:
        body = _run(http, f"[[loop]] {calls}")
    # A run that cannot finish says so plainly: incomplete, never a made-up success.
    assert body["status"] == "incomplete"
    types = [s["type"] for s in body["steps"]]
    assert types.count("function_call") == 4 and types[-1] == "model_output"
    text = body["steps"][-1]["content"][0]["text"]
    assert text.startswith("I could not finish the task: the step limit was reached")
    assert "list_files" in text


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    import os

    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def test_cancel_stops_running_code_at_once(engine: EngineProcess, http: httpx.Client) -> None:
    code = '{"language": "python", "code": "import time\\ntime.sleep(60)"}'
    body = _run(http, f"[[call code_execution {code}]]", background=True)
    deadline = time.monotonic() + 20
    while True:
        got = http.get(f"/v1beta/interactions/{body['id']}").json()
        if any(s["type"] == "code_execution_call" for s in got["steps"]):
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)
    assert _descendants(engine.pid), "the sandbox should be running"
    started = time.monotonic()
    cancelled = http.post(f"/v1beta/interactions/{body['id']}/cancel").json()
    elapsed = time.monotonic() - started
    assert cancelled["status"] == "cancelled"
    assert elapsed < 2.0, elapsed
    assert [s["type"] for s in cancelled["steps"]] == ["user_input", "code_execution_call"]
    deadline = time.monotonic() + 3
    while _descendants(engine.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _descendants(engine.pid), "the sandbox must be gone"
    assert _run(http, "still here")["status"] == "completed"


def test_agent_interaction_names_the_model_that_did_the_work(http: httpx.Client) -> None:
    body = _run(http, "[[text: hi]]", agent_config={"type": "antigravity", "model": "nope"})
    # An unknown model falls back to the backend's default, and the response says which.
    assert body["agent_config"] == {"type": "antigravity", "model": "scripted"}
    got = http.get(f"/v1beta/interactions/{body['id']}").json()
    assert got["agent_config"]["model"] == "scripted"
