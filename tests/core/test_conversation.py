from __future__ import annotations

from workbench.core.conversation import ConversationTree
from workbench.core.history import InteractionRecord


def rec(iid: str, parent: str | None, seq: int) -> InteractionRecord:
    return InteractionRecord(iid, "s", parent, seq, float(seq), "completed", "m", [], {}, {}, {})


def test_path_siblings_and_switch() -> None:
    # a -> b -> c ; a -> b2 (edit-and-resend of b) -> d
    tree = ConversationTree(
        [
            rec("a", None, 1),
            rec("b", "a", 2),
            rec("c", "b", 3),
            rec("b2", "a", 4),
            rec("d", "b2", 5),
        ]
    )
    assert [r.id for r in tree.path("c")] == ["a", "b", "c"]
    assert [r.id for r in tree.path(None)] == ["a", "b2", "d"]  # newest by default
    assert tree.position("b").index == 1
    assert tree.position("b2").index == 2
    assert tree.position("b2").count == 2
    assert tree.switch("b2", -1) == "c"
    assert tree.switch("b", +1) == "d"
    assert tree.position("a").count == 1


def test_parent_outside_session_is_a_root() -> None:
    tree = ConversationTree([rec("x", "elsewhere", 1), rec("y", "x", 2)])
    assert [r.id for r in tree.path("y")] == ["x", "y"]
