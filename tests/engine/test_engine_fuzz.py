"""Fuzzing: schemathesis with the engine's own and Google's OpenAPI documents; hypothesis on the parser."""

from __future__ import annotations

import copy
import json
from collections import Counter
from typing import Any

import pytest
import schemathesis
from engine_helpers import EngineProcess
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation.modes import GenerationMode

from support.openapi_oracle import Oracle
from support.openapi_oracle import spec as openapi_spec
from workbench.engine.create_request import CreateRequest
from workbench.engine.errors import ApiError
from workbench.engine.parsing import parse_create

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(
    [
        "model",
        "agent",
        "agent_config",
        "input",
        "tools",
        "generation_config",
        "stream",
        "background",
        "store",
        "system_instruction",
        "previous_interaction_id",
        "continuation_token",
        "response_format",
        "response_mime_type",
        "response_modalities",
        "labels",
        "environment",
        "safety_settings",
        "webhook_config",
        "cached_content",
    ]
)
TAGS = st.sampled_from(
    [
        "user_input",
        "model_output",
        "function_call",
        "function_result",
        "thought",
        "text",
        "image",
        "audio",
        "document",
        "weird",
    ]
)
CONTENTISH = st.fixed_dictionaries(
    {"type": TAGS | JSON},
    optional={
        "text": JSON,
        "data": JSON | st.just("aGVsbG8="),
        "uri": JSON,
        "mime_type": st.sampled_from(["text/plain", "application/pdf", "x/y"]) | JSON,
    },
)
STEPISH = st.fixed_dictionaries(
    {"type": TAGS | JSON},
    optional={
        "content": JSON | st.lists(CONTENTISH, max_size=3),
        "text": JSON,
        "data": JSON,
        "id": JSON,
        "name": JSON,
        "arguments": JSON,
        "call_id": JSON,
        "result": JSON,
        "role": JSON,
        "signature": JSON,
    },
)
BODIES = st.one_of(
    JSON,
    st.dictionaries(KEYS, JSON, max_size=6),
    st.fixed_dictionaries(
        {
            "model": st.sampled_from(["scripted", "x", ""]),
            "input": st.one_of(st.text(), STEPISH, st.lists(STEPISH, max_size=3)),
        },
        optional={
            "tools": st.lists(
                st.dictionaries(
                    st.sampled_from(["type", "name", "parameters", "description"]), JSON
                ),
                max_size=2,
            ),
            "generation_config": st.dictionaries(
                st.sampled_from(
                    [
                        "max_output_tokens",
                        "temperature",
                        "top_p",
                        "seed",
                        "stop_sequences",
                        "tool_choice",
                        "thinking_level",
                    ]
                ),
                JSON,
            ),
            "response_format": JSON,
        },
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BODIES)
def test_parser_raises_only_api_errors(body: Any) -> None:
    error: ApiError | None = None
    try:
        req = parse_create(body)
    except ApiError as exc:
        error = exc
    if error is not None:
        assert error.http_status in (400, 404)
        assert error.message
        return
    assert isinstance(req, CreateRequest)
    json.dumps(req.input_steps)  # always serializable


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis_against_live_engine(engine: EngineProcess, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(engine.url + "/openapi.json")
    headers = {"x-goog-api-key": engine.token}
    failures: list[str] = []

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=schema.as_strategy(generation_mode=mode), steer=st.booleans())
    def check(case: Any, steer: bool) -> None:
        if isinstance(case.body, dict):
            # No long-running background work piling up during the fuzz run.
            case.body.pop("background", None)
            if steer:
                # Half the bodies get a served model and no dangling references, so the
                # run gets past validation and into generation.
                case.body["model"] = "scripted"
                for key in (
                    "agent",
                    "agent_config",
                    "previous_interaction_id",
                    "continuation_token",
                ):
                    case.body.pop(key, None)
        response = case.call(base_url=engine.url, headers=headers, timeout=20)
        if response.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}"
            )
        ctype = (response.headers.get("content-type") or [""])[0]
        assert ctype.startswith(("application/json", "text/event-stream")), ctype
        assert response.status_code in (200, 400, 401, 404, 405, 413), response.text[:300]

    check()
    assert not failures, failures


STEER_KEEP = ("system_instruction", "labels", "stream", "store", "service_tier", "safety_settings")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis_with_the_official_document(
    engine: EngineProcess, mode: GenerationMode
) -> None:
    """Google's own document drives the fuzzing: no 5xx, only documented answers, conforming.

    Only the interactions operations are run (the others have lasting effects or are not
    served); ``api_version`` is pinned to ``v1beta``. Every response goes through the oracle.
    """
    doc = copy.deepcopy(openapi_spec())
    whole = schemathesis.openapi.from_dict(doc)
    creates = whole.include(operation_id="CreateInteraction")
    others = whole.include(path_regex=r"^/\{api_version\}/interactions/").exclude(
        operation_id="CreateInteraction"
    )
    headers = {"x-goog-api-key": engine.token}
    oracle = Oracle()
    failures: list[str] = []
    seen: list[str] = []

    def check(case: Any, steer: bool) -> None:
        case.path_parameters = {**(case.path_parameters or {}), "api_version": "v1beta"}
        if isinstance(case.body, dict):
            case.body.pop("background", None)
            if steer:
                # Half the bodies are a served model and a plain input plus the drawn hints,
                # so the run gets past validation and into generation.
                kept = {k: v for k, v in case.body.items() if k in STEER_KEEP}
                case.body.clear()
                case.body.update(kept, model="gemini-2.5-flash", input="[[text: ok]]")
        response = case.call(base_url=engine.url, headers=headers, timeout=20)
        status = response.status_code
        where = f"{case.method} {case.formatted_path}: {status} {response.text[:200]}"
        if status >= 500 or status not in (200, 400, 404):
            failures.append(where)
        media = (response.headers.get("content-type") or [""])[0].split(";")[0]
        oracle.check(case.method, case.formatted_path, status, media, response.content)
        seen.append(f"{case.method} {status}")

    for operations, examples in ((creates, 50), (others, 30)):
        run = settings(
            max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck)
        )(given(case=operations.as_strategy(generation_mode=mode), steer=st.booleans())(check))
        run()
    assert not failures, failures[:10]
    assert not oracle.problems, [str(p) for p in oracle.problems[:10]]
    if mode == GenerationMode.POSITIVE:  # some bodies got past validation into generation
        assert Counter(seen)["POST 200"] > 0, sorted(Counter(seen).items())


RESOURCE_PATHS = (
    r"^/(upload/)?\{api_version\}/(agents|environments|credentials|triggers|webhooks)(/|$)"
)
RESOURCE_STATUSES = (200, 400, 404, 409)
"""What the resource paths may answer: the document lists no errors for them, so the
interactions error set plus 409 (a taken id on create, as protocol.md §8 and the spec's prose
say)."""


@pytest.mark.parametrize(
    ("mode", "examples"), [(GenerationMode.POSITIVE, 80), (GenerationMode.NEGATIVE, 40)]
)
def test_schemathesis_resource_paths_with_the_official_document(
    keyring_env: Any, engine_factory: Any, mode: GenerationMode, examples: int
) -> None:
    """Agents, environments (and their files), credentials, triggers and webhooks, driven by
    Google's document against an engine of their own (creates have lasting effects): no 5xx,
    only the statuses above, and every answer conforms to the document."""
    eng: EngineProcess = engine_factory()
    doc = copy.deepcopy(openapi_spec())
    operations = schemathesis.openapi.from_dict(doc).include(path_regex=RESOURCE_PATHS)
    headers = {"x-goog-api-key": eng.token}
    oracle = Oracle()
    failures: list[str] = []
    seen: list[str] = []

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=operations.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        case.path_parameters = {**(case.path_parameters or {}), "api_version": "v1beta"}
        response = case.call(base_url=eng.url, headers=headers, timeout=20)
        status = response.status_code
        where = f"{case.method} {case.formatted_path} {case.body!r:.300}: {status} {response.text[:200]}"
        if status not in RESOURCE_STATUSES:
            failures.append(where)
        media = (response.headers.get("content-type") or [""])[0].split(";")[0]
        oracle.check(case.method, case.formatted_path, status, media, response.content)
        seen.append(f"{case.method} {case.formatted_path.split('/')[2]} {status}")

    check()
    assert not failures, failures[:10]
    assert not oracle.problems, [str(p) for p in oracle.problems[:10]]
    if mode == GenerationMode.POSITIVE:
        assert Counter(s.rsplit(" ", 1)[1] for s in seen)["200"] > 0, sorted(Counter(seen).items())
