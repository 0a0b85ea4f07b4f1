"""Connection profiles: where requests go and how they authenticate.

Three kinds: the local engine (default, no key, no network), Gemini (API key, ``v1beta``) and
any other Interactions-compatible server. A profile never holds its key: keys live in the OS
keyring under the profile id (``core.secrets``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ProfileKind = Literal["local", "gemini", "custom"]

GEMINI_URL = "https://generativelanguage.googleapis.com"
LOCAL_BACKENDS = ("llama", "openai", "scripted")


class Profile(BaseModel):
    """One place to send interactions to."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    name: str
    kind: ProfileKind
    base_url: str = ""
    api_version: str = "v1beta"
    local_backend: str = "llama"
    local_model: str | None = None
    local_openai_url: str = ""
    """With ``local_backend="openai"``: the OpenAI-compatible server the engine runs on."""
    default_target: str = ""

    @field_validator("base_url")
    @classmethod
    def _strip_url(cls, value: str) -> str:
        return value.strip().rstrip("/")

    @property
    def needs_key(self) -> bool:
        return self.kind != "local"

    @property
    def is_local(self) -> bool:
        return self.kind == "local"

    def describe(self) -> str:
        if self.kind == "local" and self.local_backend == "openai":
            return f"Local engine on {self.local_openai_url or '(no server yet)'} (no key)"
        if self.kind == "local":
            return f"Local engine ({self.local_backend} backend, no key, no network)"
        if self.kind == "gemini":
            return f"Gemini API ({self.base_url or GEMINI_URL}, {self.api_version})"
        return f"{self.base_url or '(no URL yet)'} ({self.api_version})"


def local_profile() -> Profile:
    return Profile(id="local", name="Local engine", kind="local", api_version="v1beta")


def gemini_profile() -> Profile:
    return Profile(
        id="gemini",
        name="Gemini",
        kind="gemini",
        base_url=GEMINI_URL,
        api_version="v1beta",
        default_target="gemini-3-flash-preview",
    )


def default_profiles() -> list[Profile]:
    return [local_profile(), gemini_profile()]


def check_profile(profile: Profile) -> list[str]:
    """Problems a user must fix before the profile can be used, in plain words."""
    problems: list[str] = []
    if not profile.name.strip():
        problems.append("Give the profile a name.")
    if profile.kind != "local":
        url = profile.base_url
        if not (url.startswith("http://") or url.startswith("https://")):
            problems.append("The server URL must start with http:// or https://.")
        elif "?" in url or "#" in url:
            problems.append("The server URL must not contain '?' or '#' (never put a key in it).")
    elif profile.local_backend not in LOCAL_BACKENDS:
        problems.append(f"Unknown local backend {profile.local_backend!r}.")
    elif profile.local_backend == "openai" and not profile.local_openai_url.startswith("http"):
        problems.append("Choose the OpenAI-compatible server the engine should run on.")
    if not profile.api_version.strip():
        problems.append("Give an API version (v1beta for Gemini).")
    return problems
