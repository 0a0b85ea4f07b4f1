"""The core services one window works on, made once by the composition root.

Qt-free holder: the UI's controllers receive these instead of reaching into the main window
for them (issue 14: a composition root).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from workbench.core.approvals import AllowList
from workbench.core.follower import Followers
from workbench.core.history import HistoryStore
from workbench.core.paths import Paths
from workbench.core.secrets import SecretStore
from workbench.core.settings import Settings
from workbench.core.tasks import TaskManager


@dataclass
class Services:
    """Paths, settings, the history, secrets, the task manager, followers, the allow-list."""

    paths: Paths
    settings: Settings
    history: HistoryStore
    secrets: SecretStore
    tasks: TaskManager
    followers: Followers
    """One follower per interaction, shared by the chat and the Runs dock."""
    allow_list: AllowList

    @classmethod
    def create(
        cls,
        paths: Paths,
        settings: Settings,
        history: HistoryStore,
        secrets: SecretStore,
        *,
        on_task_failure: Callable[[str, BaseException], None],
    ) -> Services:
        return cls(
            paths,
            settings,
            history,
            secrets,
            TaskManager(on_failure=on_task_failure),
            Followers(),
            AllowList(paths.config_dir / "approvals.json"),
        )
