"""Whatever the OpenAPI document allows a server to send, our client reads (issue 13, part 2).

Instances are drawn from the document's own response schemas (``support.spec_strategies``),
checked to be valid under them, then read the way the client reads responses. A read never
fails, and writing the result back gives the same JSON (values our models normalise, such as
int64 strings with leading zeros, aside).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings

from support.openapi_oracle import validator
from support.spec_strategies import instances
from workbench.client._wire import to_event, to_interaction

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON, allowing int64 strings our models write canonically ("007" → "7")."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, str) and isinstance(b, str | int) and a != b:
        try:
            return int(a) == int(b)
        except ValueError:
            return False
    return bool(a == b)


@SETTINGS
@given(instances("Interaction"))
def test_every_spec_interaction_is_read(data: dict[str, Any]) -> None:
    assume(validator("Interaction").is_valid(data))  # oneOf draws may match two branches
    read = to_interaction(data)
    assert _same(data, read.to_wire())


@SETTINGS
@given(instances("InteractionSseEvent"))
def test_every_spec_event_is_read(data: dict[str, Any]) -> None:
    assume(validator("InteractionSseEvent").is_valid(data))
    read = to_event(data)
    assert _same(data, read.to_wire())
