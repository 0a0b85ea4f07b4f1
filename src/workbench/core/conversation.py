"""A session as a tree of interactions, and the branch currently shown.

Every interaction points at its parent through ``previous_interaction_id``. Edit-and-resend
and "Branch from here" both create a *sibling*: a new interaction on the same parent, so the
old branch is never lost and the transcript shows a ``‹ 1/2 ›`` switcher at that turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .history import InteractionRecord


@dataclass(frozen=True)
class BranchPosition:
    """Where a turn stands among its siblings (1-based ``index`` of ``count``)."""

    index: int
    count: int


class ConversationTree:
    """The interactions of one session, indexed by parent."""

    def __init__(self, records: Sequence[InteractionRecord]) -> None:
        self.records = {r.id: r for r in records}
        self._children: dict[str | None, list[InteractionRecord]] = {}
        for r in sorted(records, key=lambda r: r.seq):
            parent = r.parent_id if r.parent_id in self.records else None
            self._children.setdefault(parent, []).append(r)

    def __len__(self) -> int:
        return len(self.records)

    def parent_of(self, interaction_id: str) -> str | None:
        rec = self.records.get(interaction_id)
        if rec is None or rec.parent_id not in self.records:
            return None
        return rec.parent_id

    def children(self, interaction_id: str | None) -> list[InteractionRecord]:
        return list(self._children.get(interaction_id, []))

    def siblings(self, interaction_id: str) -> list[InteractionRecord]:
        return self.children(self.parent_of(interaction_id))

    def position(self, interaction_id: str) -> BranchPosition:
        sibs = self.siblings(interaction_id)
        ids = [s.id for s in sibs]
        return BranchPosition(ids.index(interaction_id) + 1, len(sibs))

    def deepest_leaf(self, interaction_id: str) -> str:
        """Follow the newest child down to a leaf."""
        current = interaction_id
        while True:
            kids = self._children.get(current)
            if not kids:
                return current
            current = kids[-1].id

    def default_leaf(self) -> str | None:
        """The leaf of the newest root's newest line (used when no leaf is remembered)."""
        roots = self._children.get(None)
        if not roots:
            return None
        newest = max(self.records.values(), key=lambda r: r.seq)
        return newest.id

    def path(self, leaf_id: str | None) -> list[InteractionRecord]:
        """The turns from the first to ``leaf_id`` (the branch shown)."""
        if leaf_id is None or leaf_id not in self.records:
            leaf_id = self.default_leaf()
        out: list[InteractionRecord] = []
        seen: set[str] = set()
        current = leaf_id
        while current is not None and current in self.records and current not in seen:
            seen.add(current)
            out.append(self.records[current])
            current = self.records[current].parent_id
        out.reverse()
        return out

    def switch(self, interaction_id: str, step: int) -> str:
        """The leaf to show after moving ``step`` siblings from ``interaction_id``."""
        sibs = self.siblings(interaction_id)
        ids = [s.id for s in sibs]
        index = (ids.index(interaction_id) + step) % len(ids)
        return self.deepest_leaf(ids[index])
