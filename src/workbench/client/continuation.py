"""Automatic continuation across ``requires_continuation`` hops (protocol.md §6.7).

Followed the way the SDK does it (``google/genai/_interactions_continuation.py``), on wire
dicts:

* It is off for ``background`` bodies and for agent bodies (``agent``/``agent_config``).
* The next hop's body is the original body plus ``continuation_token``; with ``store`` not
  false it also carries ``previous_interaction_id`` = the hop that issued the token and no
  ``input``; with ``store: false`` the original ``input`` is resent.
* Unary: continue while ``status == "requires_continuation"`` and the token is non-empty and
  differs from the one just sent; then merge the hops (:func:`merge_hops`).
* Streaming: the events of every hop are yielded on one iterator. A hop ends with
  ``interaction.completed``; a new hop starts only when that final snapshot says
  ``requires_continuation`` with a fresh token and no ``error`` event came in the hop.
  Drops *inside* a hop are handled by :mod:`workbench.client.resume` (``last_event_id``),
  never by re-creating.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from .errors import ContinuationInterruptedError, WorkbenchAPIError
from .resume import RawItem, RawSnapshot

USAGE_LIST_KEYS: dict[str, tuple[str, str]] = {
    "cached_tokens_by_modality": ("modality", "tokens"),
    "input_tokens_by_modality": ("modality", "tokens"),
    "output_tokens_by_modality": ("modality", "tokens"),
    "tool_use_tokens_by_modality": ("modality", "tokens"),
    "grounding_tool_count": ("type", "count"),
}


def _non_empty(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def continuation_enabled(body: Mapping[str, Any]) -> bool:
    if body.get("background") is True:
        return False
    return body.get("agent") is None and body.get("agent_config") is None


def continuation_body(body: Mapping[str, Any], token: str, owner_id: str | None) -> dict[str, Any]:
    """The create body of the hop that resumes from ``token`` issued by ``owner_id``."""
    new_body = {**body, "continuation_token": token}
    if owner_id and body.get("store") is not False:
        new_body["previous_interaction_id"] = owner_id
        new_body.pop("input", None)
    return new_body


def next_unary_token(hop: Mapping[str, Any], sent_token: str | None) -> str | None:
    if hop.get("status") != "requires_continuation":
        return None
    token = _non_empty(hop.get("continuation_token"))
    return None if token is None or token == sent_token else token


async def continue_unary(
    first: dict[str, Any],
    create_hop: Callable[[str, str | None], Awaitable[dict[str, Any]]],
    *,
    initial_token: str | None = None,
) -> dict[str, Any]:
    """Run hops until done and return the merged interaction dict."""
    hops = [first]
    sent = initial_token
    while True:
        token = next_unary_token(hops[-1], sent)
        if token is None:
            return merge_hops(hops)
        try:
            hop = await create_hop(token, _non_empty(hops[-1].get("id")))
        except WorkbenchAPIError as exc:
            raise ContinuationInterruptedError(
                f"Automatic continuation stopped after {len(hops)} hop(s): {exc}",
                partial=merge_hops(hops),
                continuation_token=token,
                interaction_id=_non_empty(hops[-1].get("id")),
                continuation_ids=_hop_ids(hops),
            ) from exc
        hops.append(hop)
        sent = token


def _hop_ids(hops: list[dict[str, Any]]) -> list[str]:
    ids: list[str] = []
    for hop in hops:
        for cid in hop.get("continuation_ids") or []:
            if isinstance(cid, str) and cid:
                ids.append(cid)
        hid = _non_empty(hop.get("id"))
        if hid:
            ids.append(hid)
    return list(dict.fromkeys(ids))


def merge_hops(hops: list[dict[str, Any]]) -> dict[str, Any]:
    """One interaction from several hops, as the SDK's ``merge_unary_hops`` builds it.

    Steps are concatenated (leading ``user_input`` steps of later hops dropped); ``id``,
    ``status`` and the rest come from the last hop; ``previous_interaction_id``, ``created``
    and ``input`` from the first; usage is summed; ``continuation_ids`` lists every hop.
    """
    final = hops[-1]
    if not isinstance(final.get("steps"), list):
        return final
    steps: list[Any] = []
    for index, hop in enumerate(hops):
        hop_steps = hop.get("steps")
        if not isinstance(hop_steps, list):
            continue
        if index > 0:
            start = 0
            while start < len(hop_steps) and _type_of(hop_steps[start]) == "user_input":
                start += 1
            hop_steps = hop_steps[start:]
        steps.extend(hop_steps)
    merged = dict(final)
    merged["steps"] = steps
    merged["continuation_ids"] = _hop_ids(hops)
    if len(hops) > 1:
        for name in ("previous_interaction_id", "created", "input"):
            if name in hops[0]:
                merged[name] = hops[0][name]
            else:
                merged.pop(name, None)
    usages = [h["usage"] for h in hops if isinstance(h.get("usage"), dict)]
    if usages:
        merged["usage"] = merge_usages(usages, hops[0].get("usage"))
    return merged


def _type_of(step: Any) -> Any:
    return step.get("type") if isinstance(step, dict) else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def merge_usages(usages: list[dict[str, Any]], first: Any) -> dict[str, Any]:
    names: list[str] = []
    for usage in usages:
        names.extend(n for n in usage if n not in names)
    merged = dict(usages[-1])
    for name in names:
        if name == "initial_input_tokens":
            continue
        present = [u[name] for u in usages if u.get(name) is not None]
        if not present:
            continue
        if all(_is_int(v) for v in present):
            merged[name] = sum(present)
        elif name in USAGE_LIST_KEYS and all(isinstance(v, list) for v in present):
            merged[name] = _merge_usage_list(present, *USAGE_LIST_KEYS[name])
    initial = first.get("initial_input_tokens") if isinstance(first, dict) else None
    if initial is None and isinstance(first, dict):
        initial = first.get("total_input_tokens")
    if initial is not None or usages[-1].get("initial_input_tokens") is not None:
        merged["initial_input_tokens"] = initial
    return merged


def _merge_usage_list(lists: list[list[Any]], key_name: str, value_name: str) -> list[Any]:
    merged: dict[Any, Any] = {}
    for items in lists:
        for item in items:
            if not isinstance(item, dict):
                continue
            key = item.get(key_name)
            if key not in merged:
                merged[key] = item
                continue
            prev = merged[key].get(value_name)
            value = item.get(value_name)
            if _is_int(prev) and _is_int(value):
                merged[key] = {**merged[key], value_name: prev + value}
    return list(merged.values())


class HopTracker:
    """Status and token of the current streaming hop, updated from each raw item."""

    __slots__ = ("errored", "hop_id", "status", "token")

    def __init__(self) -> None:
        self.status: str | None = None
        self.token: str | None = None
        self.hop_id: str | None = None
        self.errored = False

    def observe(self, item: RawItem) -> None:
        if isinstance(item, RawSnapshot):
            data = item.data
            self.hop_id = _non_empty(data.get("id")) or self.hop_id
            self.status = _non_empty(data.get("status")) or self.status
            self.token = _non_empty(data.get("continuation_token"))
            return
        event_type = item.get("event_type")
        if event_type == "error":
            self.errored = True
            return
        interaction = item.get("interaction")
        if isinstance(interaction, dict):
            self.hop_id = _non_empty(interaction.get("id")) or self.hop_id
            status = _non_empty(interaction.get("status"))
            if status:
                self.status = status
            token = _non_empty(interaction.get("continuation_token"))
            if event_type == "interaction.completed":
                self.token = token  # the terminal snapshot is authoritative
            elif token:
                self.token = token
        elif event_type == "interaction.status_update":
            status = _non_empty(item.get("status"))
            if status:
                self.status = status
            token = _non_empty(item.get("continuation_token"))
            if token:
                self.token = token


async def continue_stream(
    start_hop: Callable[[str | None, str | None], AsyncIterator[RawItem]],
    *,
    enabled: bool,
    initial_token: str | None = None,
    on_hop: Callable[[str], None] | None = None,
) -> AsyncIterator[RawItem]:
    """Yield every hop's items; start the next hop at a clean ``requires_continuation``."""
    token: str | None = None
    owner: str | None = None
    sent = initial_token
    while True:
        tracker = HopTracker()
        hop = start_hop(token, owner)
        try:
            async for item in hop:
                tracker.observe(item)
                yield item
        finally:
            aclose = getattr(hop, "aclose", None)
            if aclose is not None:
                await aclose()
        if tracker.hop_id and on_hop is not None:
            on_hop(tracker.hop_id)
        if not enabled or tracker.errored:
            return
        if tracker.status != "requires_continuation" or not tracker.token:
            return
        if tracker.token == sent:
            return
        token, owner, sent = tracker.token, tracker.hop_id, tracker.token
