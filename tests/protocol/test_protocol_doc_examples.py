"""Every JSON example of protocol.md parses into the right model and dumps back identically."""

from __future__ import annotations

from typing import Any

import pytest
from protocol_checks import assert_round_trip, classify, unknown_members
from protocol_doc import doc_path, extract, load_fixture

from workbench.protocol import (
    CreateAgentInteraction,
    CreateModelInteraction,
    parse_create_body,
)

EXAMPLES = load_fixture()

# Examples that stay unparseable even after ``[…]``/``{…}`` are filled with empty containers.
EXPECTED_SKIPS = {
    ("4.1", '"input":[{"type":"user_input","content":[…]},'),  # `{"type":"function_result",…}`
    ("7.3", '{"id":"v1_r1","status":"cancelled",…}'),  # `,…}` elides fields
}


def _id(example: Any) -> str:
    return f"{example.section}:{example.text[:40]}"


def test_fixture_matches_the_document() -> None:
    """The stored examples are those of the current protocol.md (regenerate if this fails)."""
    path = doc_path()
    if path is None:
        pytest.skip("protocol.md not available; using the stored examples")
    current = [e.as_json() for e in extract(path.read_text(encoding="utf-8"))]
    assert current == [e.as_json() for e in EXAMPLES], (
        "protocol.md changed: run `python tests/protocol/protocol_doc.py`"
    )


def test_only_the_listed_examples_are_unparseable() -> None:
    skipped = [e for e in EXAMPLES if e.data is None]
    assert len(skipped) == len(EXPECTED_SKIPS)
    for example in skipped:
        assert any(
            example.section == section and example.text.startswith(prefix)
            for section, prefix in EXPECTED_SKIPS
        ), f"unexpected unparseable example in §{example.section}: {example.text[:60]}"
    assert len(EXAMPLES) - len(skipped) >= 28


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.data is not None], ids=_id)
def test_example_round_trips(example: Any) -> None:
    schema = classify(example.data)
    parsed = assert_round_trip(schema, example.data)
    assert unknown_members(parsed) == [], "a known tag fell into an Unknown* member"


@pytest.mark.parametrize(
    "example",
    [
        e
        for e in EXAMPLES
        if e.data is not None
        and classify(e.data) in (CreateModelInteraction, CreateAgentInteraction)
        and ("model" in e.data or "agent" in e.data)
    ],
    ids=_id,
)
def test_create_body_examples_pick_their_shape(example: Any) -> None:
    body = parse_create_body(example.data)
    assert type(body) is classify(example.data)
