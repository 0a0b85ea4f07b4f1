"""Built-in tools on model interactions (model_tools.py), with the official SDK and raw HTTP.

The scripted backend plays the model: ``[[call NAME {json}]]`` calls a built-in (offered to
it as a function), the engine runs it server-side, and once the result is back the model
answers ``NAME returned RESULT``. Every response is checked by the OpenAPI oracle.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from engine_helpers import EngineProcess, create, sse_events
from google import genai
from mcp.server.mcpserver import MCPServer

from workbench.engine.convert import fold_events

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.filterwarnings("ignore:.*experimental.*:UserWarning"),
]

CODE = [{"type": "code_execution"}]


def _call(name: str, args: dict[str, Any]) -> str:
    return f"[[call {name} {json.dumps(args)}]]"


def _py(code: str) -> str:
    return _call("code_execution", {"language": "python", "code": code})


def _types(interaction: Any) -> list[str]:
    return [s.type for s in interaction.steps]


def test_code_execution_runs_in_an_environment_kept_across_turns(
    client: genai.Client, http: httpx.Client
) -> None:
    first = client.interactions.create(
        model="gemini-2.5-flash", tools=CODE,
        input=_py("open('n.txt', 'w').write('7')\nprint(6 * 7)"),
    )  # fmt: skip
    assert first.status == "completed", first
    assert _types(first) == [
        "user_input", "code_execution_call", "code_execution_result", "model_output",
    ]  # fmt: skip
    call, result = first.steps[1], first.steps[2]
    assert call.arguments.code.endswith("print(6 * 7)") and result.call_id == call.id
    assert result.result.strip() == "42" and not result.is_error
    assert first.output_text.strip() == "code_execution returned 42"
    env_id = first.environment_id
    assert env_id and http.get(f"/v1beta/environments/{env_id}").status_code == 200

    second = client.interactions.create(
        model="gemini-2.5-flash", tools=CODE, previous_interaction_id=first.id,
        input=_py("print(open('n.txt').read())"),
    )  # fmt: skip
    assert second.environment_id == env_id
    assert second.steps[-2].result.strip() == "7"


def test_a_failing_program_is_an_error_result_the_model_sees(client: genai.Client) -> None:
    done = client.interactions.create(
        model="scripted", tools=CODE, input=_py("raise SystemExit(3)")
    )
    assert done.status == "completed"
    assert done.steps[2].is_error is True and "exit status 3" in done.steps[2].result
    assert "exit status 3" in done.output_text


def test_streamed_tool_steps_fold_into_the_stored_steps(http: httpx.Client) -> None:
    body = {"model": "scripted", "tools": CODE, "stream": True, "input": _py("print('hi')")}
    with http.stream("POST", "/v1beta/interactions", json=body) as resp:
        assert resp.status_code == 200
        events = sse_events(resp.read().decode())
    starts = [e["step"] for e in events if e["event_type"] == "step.start"]
    assert starts[0] == {"type": "code_execution_call", "id": starts[0]["id"]}
    assert starts[1] == {"type": "code_execution_result", "call_id": starts[0]["id"]}
    deltas = [e["delta"]["type"] for e in events if e["event_type"] == "step.delta"]
    assert deltas[:2] == ["code_execution_call", "code_execution_result"]
    interaction_id = events[0]["interaction"]["id"]
    stored = http.get(f"/v1beta/interactions/{interaction_id}").json()
    folded, open_index = fold_events(events)
    assert open_index is None
    assert [folded[i] for i in sorted(folded)] == stored["steps"][1:]
    assert stored["environment_id"]


def test_cancel_stops_a_running_program(client: genai.Client) -> None:
    run = client.interactions.create(
        model="scripted", tools=CODE, background=True, input=_py("import time\ntime.sleep(60)")
    )
    deadline = time.monotonic() + 30
    while "code_execution_call" not in _types(client.interactions.get(run.id)):
        assert time.monotonic() < deadline, "the program never started"
        time.sleep(0.05)
    client.interactions.cancel(run.id)
    while (got := client.interactions.get(run.id)).status == "in_progress":
        assert time.monotonic() < deadline, "cancel did not stop the program"
        time.sleep(0.05)
    assert got.status == "cancelled"
    assert "code_execution_result" not in _types(got)


def test_google_search_says_it_is_unavailable_offline(client: genai.Client) -> None:
    done = client.interactions.create(
        model="scripted", tools=[{"type": "google_search"}],
        input=_call("google_search", {"queries": ["weather in Paris"]}),
    )  # fmt: skip
    assert _types(done)[1:3] == ["google_search_call", "google_search_result"]
    assert done.steps[1].arguments.queries == ["weather in Paris"]
    result = done.steps[2]
    assert result.is_error is True and len(result.result) == 1
    assert "unavailable offline" in result.result[0].search_suggestions
    assert "unavailable" in done.output_text
    assert done.environment_id is None  # no sandbox tool, no sandbox


def test_url_context_follows_the_environment_network(
    engine: EngineProcess, client: genai.Client
) -> None:
    url = f"{engine.url}/openapi.json"  # served without a key
    ask = _call("url_context", {"urls": [url]})
    closed = client.interactions.create(
        model="scripted", tools=[{"type": "url_context"}], input=ask
    )
    assert closed.steps[2].result[0].status == "error" and closed.steps[2].is_error
    assert "network access is disabled" in closed.output_text
    opened = client.interactions.create(
        model="scripted", tools=[{"type": "url_context"}], input=ask,
        environment={"type": "remote", "network": {"allowlist": [{"domain": "127.0.0.1"}]}},
    )  # fmt: skip
    assert _types(opened)[1:3] == ["url_context_call", "url_context_result"]
    assert opened.steps[2].result[0].status == "success", opened.output_text
    assert "Interactions" in opened.output_text


def test_a_client_function_beside_a_built_in_ends_the_turn(client: genai.Client) -> None:
    lookup = {"type": "function", "name": "lookup", "parameters": {"type": "object"}}
    first = client.interactions.create(
        model="scripted", tools=[*CODE, lookup],
        input=_py("print(1 + 1)") + ' [[call lookup {"q": "x"}]]',
    )  # fmt: skip
    assert first.status == "requires_action"
    assert _types(first)[1:] == ["function_call", "code_execution_call", "code_execution_result"]
    second = client.interactions.create(
        model="scripted", tools=[*CODE, lookup], previous_interaction_id=first.id,
        input=[{"type": "function_result", "call_id": first.steps[1].id, "name": "lookup",
                "result": "found"}],
    )  # fmt: skip
    assert second.status == "completed" and "lookup returned found" in second.output_text
    assert second.environment_id == first.environment_id


def test_a_repeated_call_is_not_run_again_and_the_model_answers(http: httpx.Client) -> None:
    body = {
        "model": "scripted", "tools": [{"type": "google_search"}],
        "input": "[[loop]] [[reply already made that call => Search is unavailable.]] "
        + _call("google_search", {"queries": ["again"]}),
    }  # fmt: skip
    done = create(http, body).json()
    assert done["status"] == "completed"
    kinds = [s["type"] for s in done["steps"]]
    assert kinds == ["user_input", "google_search_call", "google_search_result", "model_output"]
    assert done["steps"][-1]["content"][0]["text"] == "Search is unavailable."


def test_more_built_in_calls_than_the_step_limit_end_incomplete(http: httpx.Client) -> None:
    calls = " ".join(_call("google_search", {"queries": [f"q{i}"]}) for i in range(11))
    body = {"model": "scripted", "tools": [{"type": "google_search"}], "input": calls}
    done = create(http, body).json()
    assert done["status"] == "incomplete"
    assert sum(s["type"] == "google_search_result" for s in done["steps"]) == 10  # the default


def test_tool_choice_none_keeps_built_ins_uncalled(client: genai.Client) -> None:
    done = client.interactions.create(
        model="scripted", tools=CODE, input=_py("print(1)") + " [[text: no tools]]",
        generation_config={"tool_choice": "none"},
    )  # fmt: skip
    assert _types(done) == ["user_input", "model_output"]


@pytest.mark.parametrize(
    ("extra", "status", "words"),
    [
        ({"tools": [{"type": "file_search", "file_search_store_names": ["fileSearchStores/a"]}]},
         404, "fileSearchStores/a"),
        ({"tools": [{"type": "file_search"}]}, 400, "file_search_store_names"),
        ({"tools": [{"type": "computer_use"}]}, 400, "computer_use"),
        ({"tools": [{"type": "code_execution"}, {"type": "code_execution"}]}, 400, "twice"),
        ({"tools": [*CODE, {"type": "function", "name": "code_execution"}]}, 400,
         "name of a built-in"),
        ({"tools": [{"type": "google_search"}], "environment": "remote"}, 400, "environment"),
        ({"tools": CODE, "environment": "env_missing"}, 404, "env_missing"),
        ({"tools": [{"type": "mcp_server", "name": "Bad", "url": "http://x"}]}, 400, "a-z0-9"),
        ({"tools": CODE, "generation_config": {"tool_choice": {"allowed_tools": {
            "tools": ["nope"]}}}}, 400, "nope"),
    ],
)  # fmt: skip
def test_unusable_tool_requests_are_refused_by_name(
    http: httpx.Client, extra: dict[str, Any], status: int, words: str
) -> None:
    resp = create(http, {"model": "scripted", "input": "hi", **extra})
    assert resp.status_code == status, resp.text
    assert words in resp.json()["error"]["message"]


# -- mcp_server ---------------------------------------------------------------------------


@pytest.fixture
def mcp_url() -> Iterator[str]:
    srv = MCPServer("weather")

    @srv.tool()
    def forecast(city: str) -> str:
        """Weather forecast for a city."""
        return f"sunny in {city}"

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(srv.streamable_http_app(), log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_mcp_server_tools_are_called_server_side(client: genai.Client, mcp_url: str) -> None:
    done = client.interactions.create(
        model="scripted", tools=[{"type": "mcp_server", "name": "weather", "url": mcp_url}],
        input=_call("forecast", {"city": "Oslo"}),
    )  # fmt: skip
    assert done.status == "completed", done
    call, result = done.steps[1], done.steps[2]
    assert call.type == "mcp_server_tool_call" and call.server_name == "weather"
    assert call.name == "forecast" and call.arguments == {"city": "Oslo"}
    assert result.type == "mcp_server_tool_result" and result.result == "sunny in Oslo"
    assert done.output_text.strip() == "forecast returned sunny in Oslo"
