"""Agent definitions as folders: ``agent.toml``, ``AGENTS.md``, ``skills/*/SKILL.md``, ``data/``.

An agent lives in ``<data dir>/agents/<name>/`` so it can be diffed and committed::

    agent.toml              the manifest (name, description, base agent, model, tools, data)
    AGENTS.md               workspace instructions, sent as ``.agents/AGENTS.md``
    functions.json          function declarations (only when there are some)
    skills/<name>/SKILL.md  one skill each: YAML front matter ``name``/``description``
    data/…                  data files, each with a target path in the sandbox

Qt-free. :func:`load_agent` / :func:`save_agent` convert between a folder and an
:class:`AgentDefinition`; checks and wire bodies live in :mod:`.agent_check`.
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .atomic import write_atomic
from .functions import parse_functions

DEFAULT_BASE_AGENT = "antigravity-preview-05-2026"
BASE_AGENTS = (DEFAULT_BASE_AGENT,)
AGENT_BUILTIN_TOOLS = ("code_execution", "google_search", "url_context")
"""Built-in tools an Antigravity agent may use (with ``function`` and ``mcp_server``)."""
MAX_SOURCE_BYTES = 1024 * 1024
"""An inline source may hold at most 1 MB (protocol.md §9.4)."""
MAX_REQUEST_SOURCE_BYTES = 2 * 1024 * 1024
"""All inline sources of one request together: at most 2 MB."""

MANIFEST = "agent.toml"
INSTRUCTIONS = "AGENTS.md"
FUNCTIONS = "functions.json"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_SKILL_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


class AgentError(Exception):
    """An agent folder cannot be read or written; the message says why."""


class McpServerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    url: str


class DataSource(BaseModel):
    """A file, folder or inline text under ``data/``, copied to ``target`` in the sandbox."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["file", "folder", "inline"] = "file"
    path: str
    """Relative to the agent folder, always under ``data/``."""
    target: str


class AgentManifest(BaseModel):
    """``agent.toml``."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    base_agent: str = DEFAULT_BASE_AGENT
    model: str = ""
    system_instruction: str = ""
    token_budget: int | None = None
    """``agent_config.max_total_tokens`` (the server stops the run with budget_exceeded)."""
    builtin_tools: list[str] = Field(default_factory=lambda: ["code_execution"])
    mcp_servers: list[McpServerSpec] = Field(default_factory=list)
    data: list[DataSource] = Field(default_factory=list)
    published_id: str = ""


@dataclass
class Skill:
    """One ``skills/<name>/SKILL.md``: the whole text, front matter included."""

    name: str
    text: str

    @property
    def front_matter(self) -> dict[str, Any]:
        return skill_front_matter(self.text)[0]

    @property
    def body(self) -> str:
        match = _FRONT.match(self.text)
        return self.text[match.end() :] if match else self.text


@dataclass
class AgentDefinition:
    """Everything the form edits; ``folder`` is where it was loaded from (if anywhere)."""

    manifest: AgentManifest
    instructions: str = ""
    skills: list[Skill] = field(default_factory=list)
    functions: list[dict[str, Any]] = field(default_factory=list)
    folder: Path | None = None

    @property
    def name(self) -> str:
        return self.manifest.name

    def tools(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{"type": t} for t in self.manifest.builtin_tools]
        out += [{"type": "function", **fn} for fn in self.functions]
        out += [
            {"type": "mcp_server", "name": m.name, "url": m.url} for m in self.manifest.mcp_servers
        ]
        return out


@dataclass(frozen=True)
class Problem:
    """A validation error shown next to ``field`` in the form."""

    field: str
    message: str

    def __str__(self) -> str:
        return self.message


def new_skill_text(name: str, description: str = "What this skill is for") -> str:
    return f"---\nname: {name}\ndescription: {description}\n---\n\n# {name}\n\nSteps…\n"


def skill_front_matter(text: str) -> tuple[dict[str, Any], str | None]:
    """The YAML front matter of a SKILL.md and a problem (None when it is fine)."""
    match = _FRONT.match(text)
    if not match:
        return {}, "SKILL.md must start with front matter (--- name: … description: … ---)"
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        return {}, f"the front matter is not valid YAML{where}"
    if not isinstance(data, dict):
        return {}, "the front matter must be a mapping with name and description"
    return data, None


# --- folders -------------------------------------------------------------------------------


def load_agent(folder: Path) -> AgentDefinition:
    """Read an agent folder; files missing from the manifest get sensible defaults."""
    try:
        raw = tomllib.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raw = {"name": folder.name}
    except (OSError, UnicodeDecodeError) as exc:
        raise AgentError(f"{folder / MANIFEST} cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise AgentError(f"{MANIFEST} of “{folder.name}” is not valid TOML: {exc}") from None
    raw.setdefault("name", folder.name)
    try:
        manifest = AgentManifest.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise AgentError(f"{MANIFEST} of “{folder.name}”: {where}: {first['msg']}") from None
    defn = AgentDefinition(manifest, folder=folder)
    defn.instructions = _read_text(folder / INSTRUCTIONS)
    functions_text = _read_text(folder / FUNCTIONS)
    if functions_text.strip():
        decls, problems = parse_functions(functions_text)
        if problems:
            raise AgentError(f"{FUNCTIONS} of “{folder.name}”: {problems[0]}")
        defn.functions = decls
    skills_dir = folder / "skills"
    if skills_dir.is_dir():
        for skill_dir in sorted(p for p in skills_dir.iterdir() if p.is_dir()):
            text = _read_text(skill_dir / "SKILL.md")
            if text:
                defn.skills.append(Skill(skill_dir.name, text))
    _adopt_untracked_data(defn)
    return defn


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise AgentError(f"{path} cannot be read: {exc}") from None


def _adopt_untracked_data(defn: AgentDefinition) -> None:
    """Files dropped into ``data/`` on disk show up as data sources with a default target."""
    assert defn.folder is not None
    data_dir = defn.folder / "data"
    if not data_dir.is_dir():
        return
    covered = {Path(d.path) for d in defn.manifest.data}
    for entry in sorted(data_dir.iterdir()):
        rel = entry.relative_to(defn.folder)
        if rel in covered or entry.name.startswith("."):
            continue
        kind: Literal["file", "folder"] = "folder" if entry.is_dir() else "file"
        defn.manifest.data.append(
            DataSource(kind=kind, path=rel.as_posix(), target=default_target(entry.name))
        )


def save_agent(defn: AgentDefinition, root: Path) -> Path:
    """Write the definition to ``root/<name>`` (renaming its old folder if the name changed)."""
    folder = root / defn.name
    if defn.folder is not None and defn.folder.resolve() != folder.resolve():
        if folder.exists():
            raise AgentError(f"an agent named “{defn.name}” already exists")
        if defn.folder.exists():
            defn.folder.rename(folder)
    folder.mkdir(parents=True, exist_ok=True)
    defn.folder = folder
    write_atomic(folder / MANIFEST, manifest_toml(defn.manifest))
    write_atomic(folder / INSTRUCTIONS, defn.instructions)
    if defn.functions:
        write_atomic(folder / FUNCTIONS, json.dumps(defn.functions, indent=2) + "\n")
    else:
        (folder / FUNCTIONS).unlink(missing_ok=True)
    skills_dir = folder / "skills"
    wanted = {s.name for s in defn.skills}
    if skills_dir.is_dir():
        for old in skills_dir.iterdir():
            if old.is_dir() and old.name not in wanted:
                shutil.rmtree(old)
    for skill in defn.skills:
        write_atomic(skills_dir / skill.name / "SKILL.md", skill.text)
    return folder


def default_target(name: str) -> str:
    """Where a data source lands unless the user says otherwise: its name at the sandbox root.

    The agent's tools resolve relative paths against the environment root, and a task such as
    "read sales.csv" names the file as the user knows it; a source tucked under a folder the
    task never mentions sends the agent looking in the wrong place (issue 19).
    """
    return name


def add_data(
    defn: AgentDefinition, source: Path | None, *, text: str = "", name: str = ""
) -> DataSource:
    """Copy a file or folder (or write inline text) into ``data/`` and list it."""
    if defn.folder is None:
        raise AgentError("save the agent before adding data")
    data_dir = defn.folder / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    if source is None:
        fname = name or "notes.txt"
        dest = data_dir / fname
        write_atomic(dest, text)
        kind: Literal["file", "folder", "inline"] = "inline"
    elif source.is_dir():
        dest = data_dir / source.name
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(source, dest)
        kind = "folder"
    else:
        dest = data_dir / source.name
        shutil.copyfile(source, dest)
        kind = "file"
    rel = dest.relative_to(defn.folder).as_posix()
    defn.manifest.data = [d for d in defn.manifest.data if d.path != rel]
    item = DataSource(kind=kind, path=rel, target=default_target(dest.name))
    defn.manifest.data.append(item)
    return item


def remove_data(defn: AgentDefinition, path: str) -> None:
    defn.manifest.data = [d for d in defn.manifest.data if d.path != path]
    if defn.folder is None:
        return
    target = defn.folder / path
    if target.is_dir():
        shutil.rmtree(target)
    else:
        target.unlink(missing_ok=True)


def read_data_text(defn: AgentDefinition, path: str) -> str:
    """The text of an inline data source (``path`` relative to the agent folder)."""
    if defn.folder is None:
        return ""
    return _read_text(defn.folder / path)


def write_data_text(defn: AgentDefinition, path: str, text: str) -> None:
    if defn.folder is None:
        raise AgentError("save the agent before editing its data")
    write_atomic(defn.folder / path, text)


def data_size(defn: AgentDefinition, item: DataSource) -> int:
    if defn.folder is None:
        return 0
    path = defn.folder / item.path
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    try:
        return path.stat().st_size
    except OSError:
        return 0


def fingerprint(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """What changed on disk: (path, mtime, size) of every file in the folder."""
    out = []
    for path in sorted(folder.rglob("*")):
        try:
            if path.is_file():
                st = path.stat()
                out.append((path.relative_to(folder).as_posix(), st.st_mtime_ns, st.st_size))
        except OSError:
            continue
    return tuple(out)


def manifest_toml(manifest: AgentManifest) -> str:
    """``agent.toml`` text: simple keys first, then the tables, stable order for diffs."""
    data = manifest.model_dump()
    lines = ["# Workbench agent manifest — see AGENTS.md, skills/ and data/ next to it", ""]
    for key in (
        "name",
        "description",
        "base_agent",
        "model",
        "published_id",
        "token_budget",
        "builtin_tools",
        "system_instruction",
    ):
        value = data[key]
        if value is None:
            continue
        lines.append(f"{key} = {_toml_value(value)}")
    for table in ("mcp_servers", "data"):
        for row in data[table]:
            lines += ["", f"[[{table}]]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in row.items()]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value)
    if (
        "\n" in text
        and '"""' not in text
        and "\\" not in text
        and not text.endswith('"')
        and all(c in "\n\t" or c.isprintable() for c in text)
    ):
        return '"""\n' + text + '"""'
    return json.dumps(text, ensure_ascii=False)


def data_files(defn: AgentDefinition, item: DataSource) -> list[tuple[str, Path]]:
    """(target, local path) of every file a data source sends."""
    if defn.folder is None:
        return []
    path = defn.folder / item.path
    target = item.target.strip().rstrip("/")
    if path.is_dir():
        return [
            (f"{target}/{p.relative_to(path).as_posix()}", p)
            for p in sorted(path.rglob("*"))
            if p.is_file()
        ]
    return [(target, path)] if path.is_file() else []
