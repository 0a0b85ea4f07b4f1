"""Deep Research from the app: the create request, its sources, the plan to confirm.

Qt-free. The research panel gathers a question, sources and options; this module checks them
and builds the background create for a ``deep-research-*`` agent — the same request for the
local engine and for Gemini, except for how local files travel: the local engine reads
``file://`` folders and files itself (it runs on this machine), while Gemini gets each file
uploaded through the Files API first (only PDF and text, which its agent reads). Files
already in the Files API are named by their ``files/…`` uri on both. Web pages are named in
the question; on the local engine their hosts are also the sandbox's network allowlist
(without it the engine fetches nothing).

With ``collaborative_planning`` the first turn answers with a plan (no citations) and stops;
:func:`plan_text` recognises it and :func:`confirm_input` / :func:`confirm_config` make the
next turn, which runs the plan (as confirmed, or as edited by the user).
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workbench.client import Client

AGENTS = (
    "deep-research-pro-preview-12-2025",
    "deep-research-preview-04-2026",
    "deep-research-max-preview-04-2026",
)
"""The Deep Research agent ids of the API's ``AgentOption`` list."""
DEFAULT_AGENT = AGENTS[0]
CONFIRM_TEXT = "Go ahead with this plan."
MAX_UPLOADS = 200
"""Files sent to a remote server from the chosen folders, at most (said when cut)."""
_REMOTE_SUFFIXES = frozenset(
    {".pdf", ".txt", ".md", ".markdown", ".csv", ".tsv", ".json", ".html", ".htm", ".xml"}
)

Progress = Callable[[str], None]


class ResearchError(ValueError):
    """The research cannot start as asked; the message says what to change."""


@dataclass
class ResearchSources:
    """What the research reads besides the web: local folders and files, uploaded files."""

    folders: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    uploaded: list[str] = field(default_factory=list)
    """Files API names or uris (``files/abc``) already on the server."""
    urls: list[str] = field(default_factory=list)
    """Web pages the research may read (on the local engine, the only ones it fetches)."""

    @property
    def empty(self) -> bool:
        return not (self.folders or self.files or self.uploaded or self.urls)


@dataclass
class ResearchOptions:
    """The agent and its ``agent_config``."""

    agent: str = DEFAULT_AGENT
    plan_first: bool = True
    thinking_summaries: bool = True
    visualization: bool = False


def check(question: str, sources: ResearchSources, options: ResearchOptions) -> None:
    """Raise :class:`ResearchError` for anything the server would refuse or could not read."""
    if not question.strip():
        raise ResearchError("Write the research question first.")
    if not options.agent.startswith("deep-research"):
        raise ResearchError(f"“{options.agent}” is not a Deep Research agent.")
    for folder in sources.folders:
        if not folder.is_dir():
            raise ResearchError(f"The folder {folder} does not exist (or is not a folder).")
    for path in sources.files:
        if not path.is_file():
            raise ResearchError(f"The file {path} does not exist (or is not a file).")
    for url in sources.urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ResearchError(f"“{url}” is not a web address (it must start with https://).")


def agent_config(options: ResearchOptions, *, plan_first: bool | None = None) -> dict[str, Any]:
    """The ``deep-research`` agent_config of the options."""
    plan = options.plan_first if plan_first is None else plan_first
    return {
        "type": "deep-research",
        "thinking_summaries": "auto" if options.thinking_summaries else "none",
        "visualization": "auto" if options.visualization else "off",
        "collaborative_planning": plan,
    }


def question_text(question: str, urls: list[str]) -> str:
    """The question, naming the web pages to read (the agent reads pages named in it)."""
    text = question.strip()
    if urls:
        text += "\n\nRead these pages: " + " ".join(urls)
    return text


def _mime(path: Path) -> str:
    guessed = mimetypes.guess_type(path.name)[0]
    if path.suffix.lower() in (".md", ".markdown"):
        return "text/markdown"
    return guessed or "text/plain"


def _folder_files(folder: Path) -> list[Path]:
    """The files of a folder a remote agent can read (PDF and text), hidden ones left out."""
    found: list[Path] = []
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(current) / name
            if not name.startswith(".") and path.suffix.lower() in _REMOTE_SUFFIXES:
                found.append(path)
    return found


def uploaded_block(name: str) -> dict[str, Any]:
    """A ``document`` block naming a Files API file."""
    uri = name if "/" in name else f"files/{name}"
    return {"type": "document", "uri": uri}


async def source_blocks(
    client: Client,
    sources: ResearchSources,
    *,
    local: bool,
    progress: Progress | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """The input's ``document`` blocks, and notes on what was left out.

    On the local engine a folder or file is a ``file://`` uri (the engine reads it where it
    is); elsewhere each file is uploaded first and named by the uri the server gives it.
    """
    blocks = [uploaded_block(name) for name in sources.uploaded]
    notes: list[str] = []
    if local:
        for path in [*sources.folders, *sources.files]:
            block: dict[str, Any] = {"type": "document", "uri": path.resolve().as_uri()}
            if path.is_file():
                block["mime_type"] = _mime(path)
            blocks.append(block)
        return blocks, notes
    paths = list(sources.files)
    for folder in sources.folders:
        paths += _folder_files(folder)
    if len(paths) > MAX_UPLOADS:
        notes.append(f"Only the first {MAX_UPLOADS} of {len(paths)} files were sent.")
        paths = paths[:MAX_UPLOADS]
    for n, path in enumerate(paths, start=1):
        if progress is not None:
            progress(f"Uploading {path.name} ({n} of {len(paths)})…")
        uploaded = await client.files.upload(path, mime_type=_mime(path), display_name=path.name)
        if uploaded.state == "PROCESSING" and uploaded.name:
            uploaded = await client.files.wait_active(uploaded.name)
        if uploaded.state == "FAILED" or not (uploaded.uri or uploaded.name):
            reason = uploaded.error.message if uploaded.error is not None else "processing failed"
            raise ResearchError(f"{path.name} was uploaded but the server cannot use it: {reason}")
        blocks.append(
            {"type": "document", "uri": uploaded.uri or uploaded.name, "mime_type": _mime(path)}
        )
    return blocks, notes


def request_body(
    question: str,
    blocks: list[dict[str, Any]],
    options: ResearchOptions,
    urls: list[str],
    *,
    local: bool,
) -> dict[str, Any]:
    """The background create (``RunTracker.launch`` adds ``background`` and ``store``)."""
    body: dict[str, Any] = {
        "agent": options.agent,
        "input": [{"type": "text", "text": question_text(question, urls)}, *blocks],
        "agent_config": agent_config(options),
        "background": True,
    }
    hosts = sorted({h for h in (urlsplit(u).hostname for u in urls) if h})
    if local and hosts:
        body["environment"] = {
            "type": "remote",
            "network": {"allowlist": [{"domain": host} for host in hosts]},
        }
    return body


async def build_request(
    client: Client,
    question: str,
    sources: ResearchSources,
    options: ResearchOptions,
    *,
    local: bool,
    progress: Progress | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Check, send the sources a remote server needs, and return the create and notes."""
    check(question, sources, options)
    blocks, notes = await source_blocks(client, sources, local=local, progress=progress)
    return request_body(question, blocks, options, sources.urls, local=local), notes


def _texts(step: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in step.get("content") or [] if isinstance(b, dict) and b.get("type") == "text"]


def plan_text(data: dict[str, Any], request: dict[str, Any]) -> str:
    """The plan waiting for confirmation, or "" when this interaction is not one.

    A completed turn of a deep-research agent asked for ``collaborative_planning`` whose
    answer cites nothing is its plan (a report always cites its sources).
    """
    config = data.get("agent_config") or request.get("agent_config") or {}
    agent = str(data.get("agent") or request.get("agent") or "")
    if not (
        agent.startswith("deep-research")
        and isinstance(config, dict)
        and config.get("collaborative_planning")
        and data.get("status") == "completed"
    ):
        return ""
    outputs = [s for s in data.get("steps") or [] if s.get("type") == "model_output"]
    if not outputs:
        return ""
    blocks = _texts(outputs[-1])
    if any(b.get("annotations") for b in blocks):
        return ""
    return "".join(str(b.get("text", "")) for b in blocks).strip()


def confirm_input(plan: str, edited: str) -> list[dict[str, Any]]:
    """The confirming turn's input: "go ahead", or the plan as the user edited it."""
    text = edited.strip()
    if not text or text == plan.strip():
        text = CONFIRM_TEXT
    return [{"type": "text", "text": text}]


def confirm_config(request: dict[str, Any]) -> dict[str, Any]:
    """The confirming turn's agent_config: the same, without asking for a plan again (an
    edited plan then runs as edited instead of coming back for another confirmation)."""
    config = dict(request.get("agent_config") or {"type": "deep-research"})
    config["collaborative_planning"] = False
    return config


def progress_line(summary: str) -> str:
    """The last non-empty line of a thought summary, for the Runs dock."""
    lines = [line.strip() for line in summary.splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= 160 else line[:159] + "…"
