"""What the current server and target can do, and in plain words why not.

The UI greys out whatever is listed here and shows the reason as a tooltip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from workbench.client import ModelInfo

from .profiles import Profile


@dataclass
class Capabilities:
    """Feature keys that are not available, each with the reason."""

    missing: dict[str, str] = field(default_factory=dict)
    served_by: str | None = None
    """For an alias (a Gemini name the local engine maps), the plain words saying what serves it."""

    def why_not(self, feature: str) -> str | None:
        return self.missing.get(feature)

    def allows(self, feature: str) -> bool:
        return feature not in self.missing


_LOCAL_MISSING = {
    "tool:google_search": "The local engine works offline: it has no Google Search.",
    "tool:google_maps": "The local engine works offline: it has no Google Maps.",
    "tool:url_context": "The local engine works offline: it cannot fetch web pages.",
    "tool:code_execution": "The local engine does not run code for models.",
}


def capabilities_for(
    profile: Profile | None,
    models: Sequence[ModelInfo] = (),
    target: str = "",
    target_kind: str = "model",
    store: bool = True,
) -> Capabilities:
    """The features the UI must grey out for this profile and target."""
    caps = Capabilities()
    if profile is None:
        caps.missing["send"] = "Not connected to a server yet."
        return caps
    if profile.is_local:
        caps.missing.update(_LOCAL_MISSING)
    info = next((m for m in models if m.model_id == target), None)
    local_alias = info is not None and info.base_model_id not in (None, "", info.model_id)
    if profile.is_local and info is not None and local_alias:
        caps.served_by = f"{target} is served locally by {info.base_model_id}."
    if target_kind == "agent":
        for key in ("temperature", "top_p", "max_output_tokens", "seed", "thinking", "stop"):
            caps.missing[key] = "Agents choose their own generation settings."
    elif info is not None and info.thinking is False:
        caps.missing["thinking"] = f"{target} does not think, so it has no thinking level."
    if not store:
        caps.missing["background"] = "Background runs are kept on the server: turn Store on."
    return caps
