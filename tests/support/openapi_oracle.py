"""Google's OpenAPI description of the Interactions API as a test oracle for engine responses.

``tests/openapi/interactions.openapi.json`` is an exact copy of the official document
(provenance in ``tests/openapi/README.md``). ``Oracle.check`` validates one HTTP response of
the engine (JSON body or every SSE event) against the schema the spec gives for that path,
method and status, with ``jsonschema`` (draft 2020-12 understands the document's ``const``
and ``oneOf``; ``discriminator`` and ``format`` are annotations only).

Patches, each a documented divergence (docs/engine.md, "Where the engine differs"):

* the four schemas the document references but never defines are empty (anything goes);
* ``ModelOption`` and ``AgentOption`` are open strings: the engine serves local models
  (``scripted``, a GGUF id) and saved agents whose ids are not in Google's lists;
* the three ``status`` enums get the whole status set of protocol.md §7.1: the document
  lists ``requires_continuation`` nowhere (yet describes it, and the SDK acts on it) and
  leaves ``queued`` and ``budget_exceeded`` out of the streamed partial interaction;
* ``DocumentContent.mime_type`` is an open string: the engine also reads text-like documents
  (``text/markdown``, ``application/json``, …) and echoes the input it was given;
* ``code_execution`` ``language`` is an open string: the engine's sandbox runs ``bash`` too;
* ``step.start`` steps need only ``type``: a stream opens a step with its identity and first
  state and sends the rest as deltas (protocol.md §6.5), so ``result`` and ``arguments``
  are not there yet;
* ``network`` is ``anyOf``: ``"disabled"`` matches both of its ``oneOf`` branches; so is
  ``EnvironmentConfig.env`` (a map of variables is also a valid, open ``EnvVar`` object);
* ``ResponseFormat`` is ``anyOf``: its last branch, a bare JSON Schema object, matches every
  typed branch too, so as ``oneOf`` no valid value could pass;
* ``Trigger.interaction`` is the create body the trigger runs (``TriggerCreateParams``'
  schema for it), not an ``Interaction``: a template has no ``status``.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi" / "interactions.openapi.json"

OPEN_STRINGS = ("ModelOption", "AgentOption")
DANGLING: dict[str, str | None] = {
    "CodeMenderAgentConfig": "code-mender",
    "RetrievalCallStep": "retrieval_call",
    "RetrievalResultStep": "retrieval_result",
    "SafetySetting": None,
}
ALL_STATUSES = (
    "queued",
    "in_progress",
    "requires_action",
    "requires_continuation",
    "completed",
    "incomplete",
    "budget_exceeded",
    "failed",
    "cancelled",
)
STATUS_HOLDERS = ("Interaction", "InteractionSseEventInteraction", "InteractionStatusUpdate")

# (method, path regex after the version prefix) -> operation key in the document
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"^interactions$"), "/{api_version}/interactions"),
    ("GET", re.compile(r"^interactions/[^/:]+$"), "/{api_version}/interactions/{id}"),
    ("DELETE", re.compile(r"^interactions/[^/:]+$"), "/{api_version}/interactions/{id}"),
    (
        "POST",
        re.compile(r"^interactions/[^/:]+(/cancel|:cancel)$"),
        "/{api_version}/interactions/{id}/cancel",
    ),
    ("GET", re.compile(r"^agents$"), "/{api_version}/agents"),
    ("POST", re.compile(r"^agents$"), "/{api_version}/agents"),
    ("GET", re.compile(r"^agents/[^/]+$"), "/{api_version}/agents/{id}"),
    ("DELETE", re.compile(r"^agents/[^/]+$"), "/{api_version}/agents/{id}"),
    ("GET", re.compile(r"^environments$"), "/{api_version}/environments"),
    ("POST", re.compile(r"^environments$"), "/{api_version}/environments"),
    ("GET", re.compile(r"^environments/[^/]+$"), "/{api_version}/environments/{id}"),
    ("DELETE", re.compile(r"^environments/[^/]+$"), "/{api_version}/environments/{id}"),
    (
        "GET",
        re.compile(r"^environments/[^/]+/files(/.*)?$"),
        "/{api_version}/environments/{environment}/files/{path}",
    ),
    ("GET", re.compile(r"^webhooks$"), "/{api_version}/webhooks"),
    ("POST", re.compile(r"^webhooks$"), "/{api_version}/webhooks"),
    ("GET", re.compile(r"^webhooks/[^/:]+$"), "/{api_version}/webhooks/{id}"),
    ("PATCH", re.compile(r"^webhooks/[^/:]+$"), "/{api_version}/webhooks/{id}"),
    ("DELETE", re.compile(r"^webhooks/[^/:]+$"), "/{api_version}/webhooks/{id}"),
    ("POST", re.compile(r"^webhooks/[^/:]+:ping$"), "/{api_version}/webhooks/{id}:ping"),
    (
        "POST",
        re.compile(r"^webhooks/[^/:]+:rotateSigningSecret$"),
        "/{api_version}/webhooks/{id}:rotateSigningSecret",
    ),
    ("GET", re.compile(r"^triggers$"), "/{api_version}/triggers"),
    ("POST", re.compile(r"^triggers$"), "/{api_version}/triggers"),
    ("GET", re.compile(r"^triggers/[^/]+$"), "/{api_version}/triggers/{id}"),
    ("PATCH", re.compile(r"^triggers/[^/]+$"), "/{api_version}/triggers/{id}"),
    ("DELETE", re.compile(r"^triggers/[^/]+$"), "/{api_version}/triggers/{id}"),
    (
        "GET",
        re.compile(r"^triggers/[^/]+/executions$"),
        "/{api_version}/triggers/{trigger_id}/executions",
    ),
    (
        "POST",
        re.compile(r"^triggers/[^/]+/executions$"),
        "/{api_version}/triggers/{trigger_id}/executions",
    ),
    ("GET", re.compile(r"^credentials$"), "/{api_version}/credentials"),
    ("POST", re.compile(r"^credentials$"), "/{api_version}/credentials"),
    ("GET", re.compile(r"^credentials/[^/]+$"), "/{api_version}/credentials/{id}"),
    ("PATCH", re.compile(r"^credentials/[^/]+$"), "/{api_version}/credentials/{id}"),
    ("DELETE", re.compile(r"^credentials/[^/]+$"), "/{api_version}/credentials/{id}"),
]
_VERSION = re.compile(r"^/(?:v1|v1beta|v1alpha|v1beta1/projects/[^/]+/locations/[^/]+)/(.*)$")


@cache
def spec() -> dict[str, Any]:
    """The document, patched as the module docstring says."""
    doc: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    schemas = doc["components"]["schemas"]
    for name, tag in DANGLING.items():
        if tag is None:
            schemas.setdefault(name, {"type": "object"})
        else:  # a tagged member: open, but only for its own tag (so oneOf stays exclusive)
            schemas.setdefault(
                name,
                {"type": "object", "properties": {"type": {"const": tag}}, "required": ["type"]},
            )
    for name in OPEN_STRINGS:
        schemas[name] = {"type": "string", "description": schemas[name].get("description", "")}
    for name in STATUS_HOLDERS:
        status = schemas[name]["properties"]["status"]
        status["enum"] = sorted({*status["enum"], *ALL_STATUSES})
    schemas["DocumentContent"]["properties"]["mime_type"].pop("enum")
    _open_python_only(doc)
    _network_any_of(doc)
    env = schemas["EnvironmentConfig"]["properties"]["env"]
    env["anyOf"] = env.pop("oneOf")  # a NAME → EnvVar map is also a valid (open) EnvVar
    # step.start carries a step's identity and first state; the rest follows as deltas.
    partial = copy.deepcopy(schemas["Step"])
    branches = []
    for branch in partial["oneOf"]:
        member = copy.deepcopy(schemas[branch["$ref"].rsplit("/", 1)[1]])
        member["required"] = ["type"]
        branches.append(member)
    partial["oneOf"] = branches
    schemas["PartialStep"] = partial
    schemas["StepStart"]["properties"]["step"] = {"$ref": "#/components/schemas/PartialStep"}
    # A bare JSON Schema object (the last branch) also matches every typed format.
    schemas["ResponseFormat"]["anyOf"] = schemas["ResponseFormat"].pop("oneOf")
    # A Trigger holds the create body it runs (what TriggerCreateParams takes), not a run.
    template = copy.deepcopy(schemas["TriggerCreateParams"]["properties"]["interaction"])
    schemas["Trigger"]["properties"]["interaction"] = template
    return doc


def _open_python_only(node: Any) -> None:
    """``language`` is ``enum: ["python"]``; the engine's sandbox also runs ``bash``."""
    if isinstance(node, dict):
        if node.get("enum") == ["python"]:
            node.pop("enum")
        for value in node.values():
            _open_python_only(value)
    elif isinstance(node, list):
        for value in node:
            _open_python_only(value)


def _network_any_of(node: Any) -> None:
    """``network`` is ``oneOf[allowlist-or-"disabled", "disabled"]``: "disabled" matches both."""
    if isinstance(node, dict):
        branches = node.get("oneOf")
        if isinstance(branches, list) and any(
            b.get("$ref", "").endswith("/EnvironmentNetworkEgressAllowlist") for b in branches
        ):
            node["anyOf"] = node.pop("oneOf")
        for value in node.values():
            _network_any_of(value)
    elif isinstance(node, list):
        for value in node:
            _network_any_of(value)


ERROR_BODY = {
    "type": "object",
    "properties": {"error": {"$ref": "#/components/schemas/Error"}},
    "required": ["error"],
}
"""The error body the document gives for interactions; Google's front end sends it everywhere."""


@cache
def validator(schema_name: str) -> Draft202012Validator:
    """A validator for one ``components.schemas`` entry (refs resolve inside the document)."""
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": spec()["components"]}
    return Draft202012Validator(root)


def _inline_validator(schema: dict[str, Any]) -> Draft202012Validator:
    root = dict(copy.deepcopy(schema))
    root["components"] = spec()["components"]
    return Draft202012Validator(root)


@dataclass
class Problem:
    """One response that does not conform."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Oracle:
    """Collects the problems of every response it is shown."""

    problems: list[Problem] = field(default_factory=list)
    checked: int = 0

    def operation(self, method: str, path: str) -> dict[str, Any] | None:
        match = _VERSION.match(path)
        rest = match.group(1) if match else path.lstrip("/")
        for verb, pattern, key in _ROUTES:
            if verb == method and pattern.match(rest):
                op: dict[str, Any] = spec()["paths"][key][method.lower()]
                return op
        return None

    def schema_for(self, op: dict[str, Any], status: int, media: str) -> dict[str, Any] | None:
        responses: dict[str, Any] = op["responses"]
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in responses:
                content = responses[key].get("content") or {}
                entry = content.get(media) or {}
                schema = entry.get("schema")
                return schema if isinstance(schema, dict) else None
        return None

    def check(
        self, method: str, path: str, status: int, media: str, body: bytes, query: str = ""
    ) -> None:
        """Validate one response; unknown paths (models, uploads, …) are skipped.

        Errors are checked against the error body wherever the document lists no error
        response of its own (its ``default`` entries are the success shape, Google style);
        file bytes (``alt=media``) are not JSON and are skipped.
        """
        op = self.operation(method, path)
        if op is None:
            return
        where = f"{method} {path} → {status}"
        if status >= 400 and media != "application/json":
            self.problems.append(Problem(where, f"an error with Content-Type {media!r}"))
            return
        if media == "text/event-stream":
            self._check_events(where, body.decode("utf-8", "replace"))
            return
        if status < 400 and ("alt=media" in query or media != "application/json"):
            return
        schema = self.schema_for(op, status, "application/json")
        if status >= 400 and (schema is None or f"{str(status)[0]}XX" not in op["responses"]):
            schema = ERROR_BODY
        if schema is None:
            return
        try:
            data = json.loads(body)
        except ValueError:
            self.problems.append(Problem(where, "the body is not JSON"))
            return
        self._validate(where, _inline_validator(schema), data)

    def _check_events(self, where: str, text: str) -> None:
        events = validator("InteractionSseEvent")
        blocks = text.split("\n\n")
        for block in blocks[:-1]:  # the last piece is empty, or a block cut short
            data = [line[6:] for line in block.split("\n") if line.startswith("data: ")]
            if not data or data == ["[DONE]"]:
                continue
            try:
                event = json.loads("\n".join(data))
            except ValueError:
                self.problems.append(Problem(where, f"an SSE data line is not JSON: {data!r}"))
                continue
            self._validate(f"{where} event {event.get('event_id')}", events, event)

    def _validate(self, where: str, checker: Draft202012Validator, data: Any) -> None:
        self.checked += 1
        best = best_match(checker.iter_errors(data))
        if best is not None:
            path = "/".join(str(p) for p in best.absolute_path)
            self.problems.append(Problem(f"{where} at /{path}", best.message[:300]))


# --- the oracle on the wire: an httpx transport that shows it every response ----------------

ORACLE = Oracle()
"""The process-wide oracle the engine tests' clients report to (checked after each test)."""


class _Tee(httpx.SyncByteStream):
    """Passes the body through and shows what was received to the oracle when closed."""

    def __init__(self, inner: httpx.SyncByteStream, done: Callable[[bytes], None]) -> None:
        self._inner = inner
        self._done = done
        self._chunks: list[bytes] = []
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._chunks.append(chunk)
            yield chunk

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._inner.close()
        finally:
            self._done(b"".join(self._chunks))


class OracleTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` whose responses are all checked by ``oracle`` once read."""

    def __init__(self, oracle: Oracle = ORACLE, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.oracle = oracle

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        media = response.headers.get("content-type", "").split(";")[0].strip()
        method, path, status = request.method, request.url.path, response.status_code

        query = request.url.query.decode("ascii", "replace")

        def done(body: bytes) -> None:
            self.oracle.check(method, path, status, media, body, query)

        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _Tee(response.stream, done)
        return response
