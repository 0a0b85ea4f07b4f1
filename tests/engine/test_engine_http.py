"""Raw HTTP tests: SSE framing, replay, versions, validation errors and exposure rules."""

from __future__ import annotations

import base64
import json
import socket
import time
from typing import Any

import httpx
import pytest
from engine_helpers import EngineProcess, create, sse_blocks, sse_events

# -- SSE framing ---------------------------------------------------------------------------


def test_stream_framing(http: httpx.Client) -> None:
    resp = create(http, {"model": "scripted", "input": "[[text: one two]]", "stream": True})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert resp.headers["cache-control"] == "no-cache"
    blocks = sse_blocks(resp.text)
    assert blocks[-1] == ["event: done", "data: [DONE]"]
    for block in blocks[:-1]:
        if block[0].startswith(":"):
            continue
        assert len(block) == 3
        event_line, id_line, data_line = block
        data = json.loads(data_line.removeprefix("data: "))
        assert event_line == f"event: {data['event_type']}"
        assert id_line == f"id: {data['event_id']}"
        assert data_line == "data: " + json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    events = sse_events(resp.text)
    assert list(events[0])[:2] == ["event_type", "event_id"]


def _fold(events: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    steps: dict[int, dict[str, Any]] = {}
    args: dict[int, str] = {}
    for e in events:
        if e["event_type"] == "step.start":
            steps[e["index"]] = json.loads(json.dumps(e["step"]))
        elif e["event_type"] == "step.delta":
            step, d = steps[e["index"]], e["delta"]
            assert "call_id" not in d
            if d["type"] == "text":
                content = step.setdefault("content", [])
                if content and content[-1]["type"] == "text":
                    content[-1]["text"] += d["text"]
                else:
                    content.append({"type": "text", "text": d["text"]})
            elif d["type"] == "thought_summary":
                step.setdefault("summary", []).append(d["content"])
            elif d["type"] == "arguments_delta":
                args[e["index"]] = args.get(e["index"], "") + d["arguments"]
        elif e["event_type"] == "step.stop" and e["index"] in args:
            steps[e["index"]]["arguments"] = json.loads(args.pop(e["index"]))
    return steps


def test_fold_of_stream_equals_get_steps(http: httpx.Client) -> None:
    body = {
        "model": "scripted",
        "stream": True,
        "tools": [{"type": "function", "name": "f"}],
        "input": '[[thought: think hard]] [[text: Hello there]] [[call f {"a": [1, 2, 3]}]]',
    }
    events = sse_events(create(http, body).text)
    iid = events[0]["interaction"]["id"]
    got = http.get(f"/v1beta/interactions/{iid}").json()
    folded = _fold(events)
    assert sorted(folded) == [1, 2, 3]
    for index, step in folded.items():
        assert got["steps"][index] == step
    assert got["steps"][0]["type"] == "user_input"
    # indices never interleave: start/delta*/stop per step
    order = [(e["event_type"], e.get("index")) for e in events if "index" in e]
    current = None
    for kind, index in order:
        if kind == "step.start":
            assert current is None
            current = index
        else:
            assert index == current
            if kind == "step.stop":
                current = None


def test_keepalive_comments_on_idle_stream(http: httpx.Client) -> None:
    resp = create(http, {"model": "scripted", "input": "[[delay: 1]] [[text: x]]", "stream": True})
    blocks = sse_blocks(resp.text)
    assert [": keep-alive"] in blocks
    assert blocks[-1] == ["event: done", "data: [DONE]"]


def test_replay_is_byte_identical(http: httpx.Client) -> None:
    resp = create(
        http, {"model": "scripted", "input": "[[thought: a b]] [[text: c d é]]", "stream": True}
    )
    original = [b for b in sse_blocks(resp.text) if not b[0].startswith(":")]
    iid = sse_events(resp.text)[0]["interaction"]["id"]
    full = http.get(f"/v1beta/interactions/{iid}", params={"stream": "true"})
    replay = [b for b in sse_blocks(full.text) if not b[0].startswith(":")]
    assert replay == original
    after3 = http.get(
        f"/v1beta/interactions/{iid}", params={"stream": "true", "last_event_id": "3"}
    )
    assert [b for b in sse_blocks(after3.text) if not b[0].startswith(":")] == original[3:]
    # Vertex spelling and the standard header work too
    alt = http.get(f"/v1beta/interactions/{iid}", params={"stream": "true", "lastEventId": "5"})
    assert [b for b in sse_blocks(alt.text) if not b[0].startswith(":")] == original[5:]
    hdr = http.get(
        f"/v1beta/interactions/{iid}", params={"stream": "true"}, headers={"Last-Event-ID": "6"}
    )
    assert [b for b in sse_blocks(hdr.text) if not b[0].startswith(":")] == original[6:]
    for bad in ("999", "0", "abc"):
        r = http.get(f"/v1beta/interactions/{iid}", params={"stream": "true", "last_event_id": bad})
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_request"
    # last_event_id without stream is ignored
    assert (
        http.get(
            f"/v1beta/interactions/{iid}", params={"stream": "false", "last_event_id": "bad"}
        ).status_code
        == 200
    )


def test_reattach_tails_live_run(http: httpx.Client) -> None:
    body = {"model": "scripted", "input": "[[tokens: 10, 0.05]]", "background": True}
    started = create(http, body).json()
    assert started["status"] == "in_progress"
    with http.stream(
        "GET", f"/v1beta/interactions/{started['id']}", params={"stream": "true"}
    ) as resp:
        text = "".join(resp.iter_text())
    events = sse_events(text)
    assert events[-1]["event_type"] == "interaction.completed"
    assert events[-1]["interaction"]["status"] == "completed"
    assert [e["event_id"] for e in events] == [str(i) for i in range(1, len(events) + 1)]
    assert text.endswith("event: done\ndata: [DONE]\n\n")


def test_foreground_stream_disconnect_cancels_without_grace(engine_factory: Any) -> None:
    """``--detach-seconds 0`` keeps the old rule: a dropped foreground stream is cancelled."""
    with engine_factory("--detach-seconds", "0").http() as http:
        _disconnect_cancels(http)


def _disconnect_cancels(http: httpx.Client) -> None:
    body = {"model": "scripted", "input": "[[tokens: 400, 0.02]]", "stream": True}
    with http.stream("POST", "/v1beta/interactions", json=body) as resp:
        lines = resp.iter_lines()
        first = ""
        for line in lines:
            if line.startswith("data: "):
                first = line
                break
        iid = json.loads(first[6:])["interaction"]["id"]
        for _ in range(6):
            next(lines)
    deadline = time.monotonic() + 5
    while True:
        got = http.get(f"/v1beta/interactions/{iid}").json()
        if got["status"] != "in_progress" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert got["status"] == "cancelled"
    assert got["errors"] == [{"code": "cancelled", "message": "client disconnected"}]
    replay = sse_events(http.get(f"/v1beta/interactions/{iid}", params={"stream": "true"}).text)
    assert replay[-1]["event_type"] == "interaction.completed"
    assert replay[-1]["interaction"]["status"] == "cancelled"


def test_background_stream_disconnect_keeps_running(http: httpx.Client) -> None:
    body = {"model": "scripted", "input": "[[tokens: 8, 0.05]]", "stream": True, "background": True}
    with http.stream("POST", "/v1beta/interactions", json=body) as resp:
        for line in resp.iter_lines():
            if line.startswith("data: "):
                iid = json.loads(line[6:])["interaction"]["id"]
                break
    deadline = time.monotonic() + 5
    while http.get(f"/v1beta/interactions/{iid}").json()["status"] == "in_progress":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert http.get(f"/v1beta/interactions/{iid}").json()["status"] == "completed"


# -- statuses and transitions --------------------------------------------------------------


def test_status_updates_and_updated_changes(http: httpx.Client) -> None:
    events = sse_events(create(http, {"model": "scripted", "input": "x", "stream": True}).text)
    created = events[0]["interaction"]
    done = events[-1]["interaction"]
    assert created["status"] == "in_progress"
    assert done["updated"] > created["updated"]
    assert done["created"] == created["created"]
    assert done["usage"]["total_tokens"] >= 1


def test_queued_background_runs(engine_factory: Any) -> None:
    eng: EngineProcess = engine_factory("--max-background-runs", "1")
    with eng.http() as http:
        first = create(
            http, {"model": "scripted", "input": "[[delay: 0.5]]", "background": True}
        ).json()
        second = create(
            http, {"model": "scripted", "input": "[[delay: 0.1]]", "background": True}
        ).json()
        third = create(
            http, {"model": "scripted", "input": "[[delay: 0.1]]", "background": True}
        ).json()
        assert first["status"] == "in_progress"
        assert second["status"] == "queued"
        cancelled = http.post(f"/v1beta/interactions/{third['id']}:cancel").json()
        assert cancelled["status"] == "cancelled"
        events = sse_events(
            http.get(f"/v1beta/interactions/{second['id']}", params={"stream": "true"}).text
        )
        statuses = [e["status"] for e in events if e["event_type"] == "interaction.status_update"]
        assert events[0]["interaction"]["status"] == "queued"
        assert statuses == ["in_progress", "completed"]


def test_max_output_tokens_gives_incomplete(http: httpx.Client) -> None:
    r = create(
        http,
        {
            "model": "scripted",
            "input": "[[tokens: 20]]",
            "generation_config": {"max_output_tokens": 3},
        },
    ).json()
    assert r["status"] == "incomplete"
    assert r["steps"][1]["content"][0]["text"] == "t0 t1 t2 "


def test_stop_sequences(http: httpx.Client) -> None:
    r = create(
        http,
        {
            "model": "scripted",
            "input": "alpha beta STOP gamma",
            "generation_config": {"stop_sequences": ["STOP"]},
        },
    ).json()
    assert r["status"] == "completed"
    assert r["steps"][1]["content"][0]["text"] == "alpha beta "


def test_json_response_format(http: httpx.Client) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "n": {"type": "integer"}},
    }
    r = create(
        http,
        {
            "model": "scripted",
            "input": "give json",
            "response_format": {"type": "text", "mime_type": "application/json", "schema": schema},
        },
    ).json()
    assert json.loads(r["steps"][1]["content"][0]["text"]) == {"name": "text", "n": 0}
    assert r["response_format"]["schema"] == schema


def test_tool_choice_mapping(http: httpx.Client) -> None:
    tools = [
        {"type": "function", "name": "a"},
        {"type": "function", "name": "b", "parameters": {"type": "object"}},
    ]
    none = create(
        http,
        {
            "model": "scripted",
            "input": "[[call a {}]] [[text: ok]]",
            "tools": tools,
            "generation_config": {"tool_choice": "none"},
        },
    ).json()
    assert none["status"] == "completed"
    forced = create(
        http,
        {
            "model": "scripted",
            "input": "hi",
            "tools": tools,
            "generation_config": {
                "tool_choice": {"allowed_tools": {"mode": "any", "tools": ["b"]}}
            },
        },
    ).json()
    assert forced["status"] == "requires_action"
    assert forced["steps"][-1]["name"] == "b"
    bad = create(
        http,
        {
            "model": "scripted",
            "input": "hi",
            "tools": tools,
            "generation_config": {"tool_choice": "sometimes"},
        },
    )
    assert bad.status_code == 400


def test_stateless_history_with_function_result(http: httpx.Client) -> None:
    body = {
        "model": "scripted",
        "store": False,
        "input": [
            {"type": "user_input", "content": [{"type": "text", "text": "weather?"}]},
            {"type": "thought", "signature": "c2ln"},
            {"type": "function_call", "id": "call_1", "name": "w", "arguments": {}},
            {"type": "function_result", "call_id": "call_1", "name": "w", "result": "Sunny"},
        ],
    }
    r = create(http, body)
    assert r.status_code == 200
    data = r.json()
    assert data["steps"][-1]["content"][0]["text"] == "w returned Sunny"
    assert data["steps"][1]["signature"] == "c2ln"
    assert http.get(f"/v1beta/interactions/{data['id']}").status_code == 404
    assert http.post(f"/v1beta/interactions/{data['id']}/cancel").status_code == 404


def test_include_input(http: httpx.Client) -> None:
    raw = [{"type": "text", "text": "as sent"}]
    iid = create(http, {"model": "scripted", "input": raw}).json()["id"]
    plain = http.get(f"/v1beta/interactions/{iid}").json()
    assert "input" not in plain
    full = http.get(f"/v1beta/interactions/{iid}", params={"include_input": "true"}).json()
    assert full["input"] == raw


# -- versions, paths and success codes ---------------------------------------------------------


@pytest.mark.parametrize(
    "prefix", ["/v1", "/v1beta", "/v1alpha", "/v1beta1/projects/p1/locations/us-central1"]
)
def test_every_version_prefix(http: httpx.Client, prefix: str) -> None:
    r = http.post(f"{prefix}/interactions", json={"model": "scripted", "input": "v"})
    assert r.status_code == 200
    iid = r.json()["id"]
    assert http.get(f"{prefix}/interactions/{iid}").json()["status"] == "completed"
    assert http.post(f"{prefix}/interactions/{iid}/cancel").status_code == 200
    assert http.get(f"{prefix}/models").status_code == 200
    d = http.delete(f"{prefix}/interactions/{iid}", headers={"content-type": "application/json"})
    assert d.status_code == 200 and d.json() == {}


def test_unknown_version_is_404_json(http: httpx.Client) -> None:
    r = http.get("/v2/interactions/abc")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"]["code"] == "not_found"
    assert http.get("/").status_code == 404


def test_get_with_json_content_type_and_empty_cancel_body(http: httpx.Client) -> None:
    iid = create(http, {"model": "scripted", "input": "x"}).json()["id"]
    r = http.get(f"/v1beta/interactions/{iid}", headers={"content-type": "application/json"})
    assert r.status_code == 200
    r = http.post(
        f"/v1beta/interactions/{iid}/cancel",
        content=b"",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 200 and r.json()["status"] == "completed"


def test_models_listing(http: httpx.Client) -> None:
    models = http.get("/v1beta/models").json()["models"]
    names = [m["name"] for m in models]
    assert "models/scripted" in names
    one = http.get("/v1beta/models/scripted").json()
    assert one["displayName"] and one["inputTokenLimit"] > 0
    assert "supportedGenerationMethods" in one
    assert http.get("/v1beta/models/nope").status_code == 404


def test_models_via_sdk(engine: EngineProcess) -> None:
    client = engine.client()
    names = [m.name for m in client.models.list()]
    assert "models/scripted" in names
    model = client.models.get(model="scripted")
    assert model.display_name == "Scripted (test)"
    assert model.input_token_limit == 32768


def test_openapi_document(engine: EngineProcess) -> None:
    doc = httpx.get(engine.url + "/openapi.json").json()
    assert "/v1beta/interactions" in doc["paths"]
    assert "/v1beta/interactions/{interaction_id}/cancel" in doc["paths"]


# -- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"model": "scripted", "agent": "x", "input": "a"}, 400),
        (
            {"agent": "deep-research-pro-preview-12-2025", "generation_config": {}, "input": "a"},
            400,
        ),
        ({"model": "scripted", "agent_config": {"type": "dynamic"}, "input": "a"}, 400),
        ({"agent": "deep-research-pro-preview-12-2025", "input": "a"}, 400),  # background only
        ({"model": "unknown-model", "input": "a"}, 404),
        ({"input": "a"}, 400),
        ({"model": "scripted"}, 400),
        ({"model": "scripted", "input": [{"role": "user", "content": [{"text": "hi"}]}]}, 400),
        ({"model": "scripted", "input": {"role": "user", "parts": [{"text": "hi"}]}}, 400),
        ({"model": "scripted", "input": []}, 400),
        ({"model": "scripted", "input": 5}, 400),
        ({"model": 5, "input": "a"}, 400),
        ({"model": "scripted", "input": "a", "stream": "yes"}, 400),
        ({"model": "scripted", "input": "a", "tools": "x"}, 400),
        ({"model": "scripted", "input": "a", "tools": [{"type": "google_maps"}]}, 400),
        ({"model": "scripted", "input": "a", "generation_config": {"max_output_tokens": "x"}}, 400),
        ({"model": "scripted", "input": "a", "generation_config": {"temperature": 9}}, 400),
        (
            {
                "model": "scripted",
                "input": [{"type": "text", "text": "a"}, {"type": "user_input", "content": []}],
            },
            400,
        ),
        ({"model": "scripted", "input": [{"type": "file", "uri": "x"}]}, 400),
        ({"model": "scripted", "input": "a", "previous_interaction_id": "v1_none"}, 404),
        ({"model": "scripted", "input": "a", "continuation_token": "tok"}, 400),
        (
            {
                "model": "scripted",
                "input": [{"type": "function_result", "call_id": "c9", "result": "x"}],
            },
            400,
        ),
        ({"model": "scripted", "input": "a", "response_modalities": ["audio"]}, 400),
        ({"model": "scripted", "input": "a", "background": True, "store": False}, 400),
        ([1, 2, 3], 400),
    ],
)
def test_bad_requests(http: httpx.Client, body: Any, status: int) -> None:
    r = create(http, body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    error = r.json()["error"]
    assert isinstance(error["code"], str) and error["message"] and error["status"]


def test_malformed_json_and_nulls(http: httpx.Client) -> None:
    r = http.post(
        "/v1beta/interactions", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_request"
    ok = create(
        http,
        {
            "model": "scripted",
            "input": "nulls",
            "tools": None,
            "stream": None,
            "system_instruction": None,
            "unknown_field": {"x": 1},
        },
    )
    assert ok.status_code == 200 and ok.json()["status"] == "completed"


def test_model_prefix_and_all_input_forms(http: httpx.Client) -> None:
    forms: list[Any] = [
        "plain",
        {"type": "text", "text": "plain"},
        [{"type": "text", "text": "plain"}],
        [{"text": "plain"}],
        [{"type": "user_input", "content": [{"type": "text", "text": "plain"}]}],
    ]
    for form in forms:
        r = create(http, {"model": "models/scripted", "input": form}).json()
        assert r["steps"][-1]["content"][0]["text"] == "plain", form


# -- multimodal ------------------------------------------------------------------------------

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()


def _minimal_pdf(text: str) -> bytes:
    stream = f"BT /F1 12 Tf 72 712 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    out += trailer.encode()
    return out


def test_images_go_as_images_or_as_ocr_text(http: httpx.Client) -> None:
    content = [
        {"type": "text", "text": "see"},
        {"type": "image", "data": PNG, "mime_type": "image/png"},
    ]
    ok = create(http, {"model": "scripted", "input": content}).json()
    assert ok["steps"][-1]["content"][0]["text"] == "see [image: 24 bytes]"
    # a text-only model gets the image read by OCR; this one is not a decodable PNG
    refused = create(http, {"model": "scripted-text", "input": content})
    assert refused.status_code == 400
    assert "not in an image format" in refused.json()["error"]["message"]
    remote = create(
        http,
        {"model": "scripted", "input": [{"type": "image", "uri": "https://example.com/cat.png"}]},
    )
    assert remote.status_code == 400 and "base64" in remote.json()["error"]["message"]
    bad64 = create(http, {"model": "scripted", "input": [{"type": "image", "data": "%%%"}]})
    assert bad64.status_code == 400


def test_documents_become_text(http: httpx.Client) -> None:
    md = base64.b64encode(b"# Title\nbody").decode()
    r = create(
        http,
        {
            "model": "scripted-text",
            "input": [{"type": "document", "data": md, "mime_type": "text/markdown"}],
        },
    ).json()
    assert "# Title" in r["steps"][-1]["content"][0]["text"]
    pdf = base64.b64encode(_minimal_pdf("Hello PDF world")).decode()
    r = create(
        http,
        {
            "model": "scripted-text",
            "input": [{"type": "document", "data": pdf, "mime_type": "application/pdf"}],
        },
    ).json()
    assert "Hello PDF world" in r["steps"][-1]["content"][0]["text"]
    word = create(
        http,
        {
            "model": "scripted",
            "input": [{"type": "document", "data": md, "mime_type": "application/msword"}],
        },
    )
    assert word.status_code == 400 and "application/msword" in word.json()["error"]["message"]
    broken = create(
        http,
        {
            "model": "scripted",
            "input": [{"type": "document", "data": md, "mime_type": "application/pdf"}],
        },
    )
    assert broken.status_code == 400


@pytest.mark.parametrize("kind", ["audio", "video"])
def test_undecodable_audio_and_video_are_refused_clearly(http: httpx.Client, kind: str) -> None:
    data = base64.b64encode(b"not a media file at all " * 8).decode()
    r = create(http, {"model": "scripted", "input": [{"type": kind, "data": data}]})
    assert r.status_code == 400
    assert "could not be opened as audio or video" in r.json()["error"]["message"]


# -- exposure ------------------------------------------------------------------------------


def test_auth_forms(engine: EngineProcess) -> None:
    url = engine.url + "/v1beta/models"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url).json()["error"]["code"] == "unauthenticated"
    assert httpx.get(url, headers={"x-goog-api-key": "nope"}).status_code == 401
    assert httpx.get(url, headers={"x-goog-api-key": engine.token}).status_code == 200
    assert httpx.get(url, headers={"authorization": f"Bearer {engine.token}"}).status_code == 200
    assert httpx.get(url, params={"key": engine.token}).status_code == 200


def test_no_auth_mode(engine_factory: Any) -> None:
    eng: EngineProcess = engine_factory("--no-auth")
    assert httpx.get(eng.url + "/v1beta/models").status_code == 200
    assert httpx.get(eng.url + "/v1beta/models", headers={"x-goog-api-key": "x"}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "10.0.0.1:80", "localhost.evil.com"])
def test_non_loopback_host_refused(http: httpx.Client, host: str) -> None:
    r = http.get("/v1beta/models", headers={"host": host})
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:9", "127.9.9.9", "[::1]:1"])
def test_loopback_hosts_allowed(http: httpx.Client, host: str) -> None:
    assert http.get("/v1beta/models", headers={"host": host}).status_code == 200


def test_origin_rules_and_cors(http: httpx.Client) -> None:
    bad = http.get("/v1beta/models", headers={"origin": "https://evil.example"})
    assert bad.status_code == 403
    assert http.get("/v1beta/models", headers={"origin": "null"}).status_code == 403
    good = http.get("/v1beta/models", headers={"origin": "http://localhost:3000"})
    assert good.status_code == 200
    assert good.headers["access-control-allow-origin"] == "http://localhost:3000"
    pre = httpx.options(
        str(http.base_url) + "/v1beta/interactions",
        headers={
            "origin": "http://127.0.0.1:5173",
            "access-control-request-method": "POST",
            "access-control-request-headers": "x-goog-api-key, content-type",
        },
    )
    assert pre.status_code == 200
    allowed = pre.headers["access-control-allow-headers"]
    for name in ("x-goog-api-key", "content-type", "api-revision", "x-goog-upload-command"):
        assert name in allowed
    assert "x-goog-upload-url" in pre.headers["access-control-expose-headers"]


def test_body_limit(engine_factory: Any) -> None:
    eng: EngineProcess = engine_factory("--max-body-bytes", "2000")
    with eng.http() as http:
        big = {"model": "scripted", "input": "x" * 3000}
        r = create(http, big)
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "payload_too_large"

        def chunks() -> Any:
            data = json.dumps(big).encode()
            for i in range(0, len(data), 500):
                yield data[i : i + 500]

        r = http.post(
            "/v1beta/interactions", content=chunks(), headers={"content-type": "application/json"}
        )
        assert r.status_code == 413
        assert create(http, {"model": "scripted", "input": "small"}).status_code == 200


def test_raw_socket_chunked_body_over_limit(engine_factory: Any) -> None:
    eng: EngineProcess = engine_factory("--max-body-bytes", "100")
    port = int(eng.info["port"])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        head = (
            "POST /v1beta/interactions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"x-goog-api-key: {eng.token}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        )
        sock.sendall(head.encode())
        payload = b"x" * 150
        sock.sendall(f"{len(payload):x}\r\n".encode() + payload + b"\r\n0\r\n\r\n")
        reply = sock.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 413")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"model": "scripted", "input": NaN}',
        b'{"model": "scripted", "input": "x", "generation_config": {"temperature": Infinity}}',
        b'{"model": "scripted", "input": "bad \\ud800 surrogate"}',
        b'{"model": "scripted", "input": "x", "labels": {"\\udfff": "v"}}',
        b"\xff\xfe not utf8",
    ],
)
def test_json_that_cannot_round_trip_is_refused(http: httpx.Client, raw: bytes) -> None:
    r = http.post("/v1beta/interactions", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text


@pytest.mark.parametrize(
    "path", ["%ED%A0%80", "%00", "x" * 5000, "..%2F..%2Fetc", "%F0%9F%98%80", "a%20b"]
)
def test_odd_interaction_ids_are_404(http: httpx.Client, path: str) -> None:
    for method in ("GET", "DELETE"):
        r = http.request(method, f"/v1beta/interactions/{path}")
        assert r.status_code == 404, (method, r.text)
    assert http.post(f"/v1beta/interactions/{path}/cancel").status_code == 404
    r = http.get(f"/v1beta/interactions/{path}", params={"stream": "true", "last_event_id": "%ED"})
    assert r.status_code == 404


def test_alt_sse_and_ignored_headers(http: httpx.Client) -> None:
    headers = {
        "api-revision": "2026-05-20",
        "x-server-timeout": "30000",
        "x-goog-user-project": "p",
        "x-goog-api-client": "google-genai-sdk/3.3.0 gl-python/3.11",
    }
    r = http.post(
        "/v1beta/interactions",
        params={"alt": "sse"},
        json={"model": "scripted", "input": "sse please"},
        headers=headers,
    )
    assert r.headers["content-type"].startswith("text/event-stream")
    iid = sse_events(r.text)[0]["interaction"]["id"]
    g = http.get(f"/v1beta/interactions/{iid}", params={"alt": "sse"}, headers=headers)
    assert g.headers["content-type"].startswith("text/event-stream")
    assert sse_events(g.text) == sse_events(r.text)


def test_thinking_summaries_none_hides_thoughts(http: httpx.Client) -> None:
    body = {"model": "scripted", "input": "[[thought: secret]] [[text: shown]]"}
    shown = create(http, body).json()
    assert [s["type"] for s in shown["steps"]] == ["user_input", "thought", "model_output"]
    hidden = create(http, {**body, "generation_config": {"thinking_summaries": "none"}}).json()
    assert [s["type"] for s in hidden["steps"]] == ["user_input", "model_output"]
    assert hidden["usage"]["total_thought_tokens"] == 1
