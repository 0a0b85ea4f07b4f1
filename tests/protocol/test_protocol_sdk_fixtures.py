"""Round-trip the JSON fixtures of the google-genai SDK's own tests, when its source is around.

They are module-level dict literals in the SDK test files (``ENVIRONMENT_BODY = {...}``); names
of string constants inside them are resolved first. Set ``WORKBENCH_SDK_SRC`` to the directory
that holds ``google/genai``; without it the test looks in ``/work/sdk/src`` and else skips.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any

import pytest
from protocol_checks import assert_round_trip, classify, unknown_members
from pydantic import TypeAdapter

from workbench.protocol import STEP_TAGS, Step

FILES = [
    "gaos/test_environments_lifecycle.py",
    "gaos/test_unknown_fields.py",
    "interactions/test_automatic_continuation.py",
    "interactions/test_integration.py",
]
NOT_OURS = {"_GENERATE_CONTENT_BODY"}  # classic generateContent, not this protocol


def _tests_dir() -> Path | None:
    root = Path(os.environ.get("WORKBENCH_SDK_SRC", "/work/sdk/src"))
    tests = root / "google" / "genai" / "tests"
    return tests if tests.is_dir() else None


def _fixtures() -> list[tuple[str, Any]]:
    tests = _tests_dir()
    if tests is None:
        return []
    found: list[tuple[str, Any]] = []
    for rel in FILES:
        path = tests / rel
        if not path.is_file():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        consts: dict[str, Any] = {}
        for node in tree.body:
            if not (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)):
                continue
            name = node.targets[0].id
            try:
                value = ast.literal_eval(_resolve(node.value, consts))
            except (ValueError, TypeError, SyntaxError):
                continue
            consts[name] = value
            if isinstance(value, dict) and name not in NOT_OURS:
                found.append((f"{rel}:{name}", value))
    return found


def _resolve(node: ast.expr, consts: dict[str, Any]) -> ast.expr:
    """Replace names of known constants by their values so literal_eval can read the node."""

    class Inline(ast.NodeTransformer):
        def visit_Name(self, name: ast.Name) -> ast.AST:
            if name.id in consts:
                return ast.parse(repr(consts[name.id]), mode="eval").body
            return name

    resolved: ast.expr = ast.fix_missing_locations(Inline().visit(node))
    return resolved


FIXTURES = _fixtures()
STEP = TypeAdapter[Any](Step)


@pytest.mark.skipif(not FIXTURES, reason="SDK test sources not available")
@pytest.mark.parametrize(("name", "data"), FIXTURES, ids=[n for n, _ in FIXTURES] or None)
def test_sdk_fixture_round_trips(name: str, data: dict[str, Any]) -> None:
    schema = STEP if data.get("type") in STEP_TAGS else classify(data)
    parsed = assert_round_trip(schema, data)
    if "unknown" not in name.lower():
        assert unknown_members(parsed) == [], name
