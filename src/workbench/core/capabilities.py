"""What the current server and target can do, and in plain words why not.

The UI greys out whatever is listed here and shows the reason as a tooltip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from workbench.client import ModelInfo

from .attachments import KINDS_ALL
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


# --- what a target can read ------------------------------------------------------------------

KINDS = KINDS_ALL
"""Attachment kinds, in the order they are named to users."""
_KIND_WORDS = {
    "image": ("images", "an image"),
    "audio": ("audio", "an audio file"),
    "video": ("video", "a video"),
    "document": ("PDF and office documents", "a document"),
    "text": ("text files", "a text file"),
}


def input_kinds(
    models: Sequence[ModelInfo], target: str, target_kind: str = "model", *, local: bool = False
) -> set[str]:
    """The attachment kinds ``target`` reads, from the server's ``inputModalities``.

    A model the server does not describe (Gemini lists no modalities, an agent has no model
    entry) is taken to read everything: the server then has the last word. Documents are
    read as text by servers that read text, so they go wherever text goes. On the local
    engine (``local``) images, audio and video go anywhere too: it derives text from them.
    """
    if local:
        return input_kinds(models, target, target_kind) | set(_PERCEIVED)
    info = next((m for m in models if m.model_id == target), None)
    raw = (info.model_extra or {}).get("inputModalities") if info is not None else None
    if target_kind != "model" or not isinstance(raw, list) or not raw:
        return set(KINDS)
    kinds = {str(m).lower() for m in raw} & set(KINDS)
    if "text" in kinds:
        kinds.add("document")
    return kinds


def kinds_words(kinds: set[str]) -> str:
    """ "images, audio, video, PDF and office documents or text files" for these kinds."""
    words = [_KIND_WORDS[k][0] for k in KINDS if k in kinds]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


_PERCEIVED = {
    "image": "does not see pictures: the local engine gives it the text read from “{name}” by "
    "OCR, with where each line sits. For the picture itself, pick a model that reads images.",
    "audio": "does not hear audio: the local engine gives it a transcript of “{name}” "
    "(faster-whisper, with timestamps and the language).",
    "video": "does not watch video: the local engine gives it “{name}” as a timeline — a "
    "transcript of the sound and the text read by OCR from sampled frames.",
}


def reading_note(
    kind: str,
    name: str,
    target: str,
    models: Sequence[ModelInfo],
    target_kind: str = "model",
    *,
    local: bool = False,
) -> str | None:
    """How ``target`` will read ``name`` when it is not the medium itself, in plain words.

    On the local engine a model that reads only text still gets images, audio and video,
    as text the engine derives from them (``engine/perception``); the user is told so when
    attaching, so the answer is not taken for having seen or heard the file.
    """
    if not local or kind not in _PERCEIVED or kind in input_kinds(models, target, target_kind):
        return None
    return f"{target} " + _PERCEIVED[kind].format(name=name)


def refusal(
    kind: str,
    name: str,
    target: str,
    models: Sequence[ModelInfo],
    target_kind: str = "model",
    *,
    local: bool = False,
) -> str | None:
    """Why ``name`` (of ``kind``) cannot go to ``target``, in plain words; None if it can.

    Said when the file is attached, not after Send: the user learns it before writing the
    message, with the way out (another model that reads it, or words instead). The local
    engine (``local``) reads every kind, deriving text where the model reads only text.
    """
    kinds = input_kinds(models, target, target_kind)
    if kind in kinds or (local and kind in _PERCEIVED):
        return None
    what = _KIND_WORDS.get(kind, (kind, kind))[1]
    readers = [m.model_id for m in models if kind in input_kinds(models, m.model_id)]
    if readers:
        way_out = (
            f"Pick a model that reads {_KIND_WORDS[kind][0]} (for example {readers[0]}) under "
            "Run settings → Target, or describe it in words."
        )
    else:
        way_out = (
            f"No model on this server reads {_KIND_WORDS.get(kind, (kind,))[0]}: describe it "
            "in words, or connect to a server that does (Settings, Ctrl+,)."
        )
    reads = "text" if kinds <= {"text", "document"} else kinds_words(kinds)
    return f"“{name}” is {what}, and {target} reads only {reads}, so it was not attached. {way_out}"
