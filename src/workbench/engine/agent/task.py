"""What the harness reads out of the user's request, so it can check the work itself.

A small model says "Done" whether or not it wrote the file, so the loop never takes its word:
the task's own text names the files it expects (``write the total to total.txt``) and the
ones it reads (``read sales.csv``). ``TaskPlan.of`` finds those names with plain rules
(no model call), resolves them against the workspace (a data source mounted at
``data/sales.csv`` answers to ``sales.csv``), and spots a test the work must make pass.
The checks are deliberately conservative: a name the rules cannot place is neither demanded
nor refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .files_view import Snapshot

_NAME = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-][\w.-]*\.[A-Za-z][A-Za-z0-9]{0,7})(?![\w/-])")
_OUT_STRONG = frozenset(
    [
        "write",
        "writes",
        "writing",
        "wrote",
        "save",
        "saves",
        "saving",
        "create",
        "creates",
        "creating",
        "store",
        "stores",
        "produce",
        "produces",
        "output",
        "outputs",
        "export",
        "exports",
        "generate",
        "generates",
        "make",
        "makes",
        "put",
        "puts",
        "to",
        "into",
        "as",
    ]
)
_IN_STRONG = frozenset(
    [
        "read",
        "reads",
        "reading",
        "from",
        "open",
        "opens",
        "load",
        "loads",
        "parse",
        "parses",
        "use",
        "uses",
        "using",
        "fix",
        "fixes",
        "edit",
        "edits",
        "update",
        "updates",
        "modify",
        "modifies",
        "change",
        "changes",
        "count",
        "counts",
        "sort",
        "sorts",
        "filter",
        "filters",
        "join",
        "joins",
        "merge",
        "merges",
        "compare",
        "summarize",
        "summarise",
        "analyze",
        "analyse",
        "convert",
        "converts",
        "rename",
        "append",
        "check",
        "inspect",
        "sum",
        "total",
        "compute",
        "calculate",
        "find",
        "list",
        "copy",
        "uppercase",
        "upper-case",
        "lowercase",
        "reverse",
        "take",
    ]
)
_IN_WEAK = frozenset(
    "in of with at on".split()  # noqa: SIM905
)
_TRANSPARENT = frozenset(
    ["a", "an", "the", "file", "files", "new", "named", "called", "json", "csv", "text", "markdown"]
)
_WINDOW = 7
_TEST_PASS = re.compile(r"\b(pass|passes|succeed|succeeds|green)\b", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s'\"<>)]+")
_FETCH = re.compile(
    r"\b(download|downloads|fetch|fetches|get|gets|retrieve|retrieves|scrape|scrapes|crawl|"
    r"open|opens|read|reads|load|loads|visit|visits)\b"
    r"[^.!?\n]{0,60}https?://",
    re.IGNORECASE,
)
_COLUMN = re.compile(
    r"\b(?:of|in|from|total|sum|average|mean|max|maximum|min|minimum|by)\s+(?:the|its|their)\s+"
    r"[\"'`]?([A-Za-z_][\w-]*)[\"'`]?\s+column\b",
    re.IGNORECASE,
)
_HEADER = re.compile(
    r"((?:[\w.-]+/)*[\w-][\w.-]*\.[ct]sv)\s+with\s+(?:the\s+|a\s+)?(?:columns?|headers?|fields?)"
    r"\s+[\"'`]?([A-Za-z_]\w*(?:\s*[,;]\s*[A-Za-z_]\w*)+)",
    re.IGNORECASE,
)
_SORT = re.compile(
    r"\bsort\w*\b(?:[^.!?\n]|\.(?=\w)){0,60}?\bby\s+(?:the\s+|its\s+|their\s+)?[\"'`]?([A-Za-z_]\w*)",
    re.IGNORECASE,
)
_DESCENDING = re.compile(
    r"\b(descending|decreasing|largest first|highest first|biggest first|oldest first|"
    r"most first|newest first|latest first|reverse)\b",
    re.IGNORECASE,
)
_SKIP_SUFFIXES = {"e.g", "i.e", "etc", "vs"}


def _suffix(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower()


def _looks_like_file(name: str) -> bool:
    stem, _, suffix = name.rpartition(".")
    if not stem or name.lower() in _SKIP_SUFFIXES or suffix.isdigit():
        return False
    return not re.fullmatch(r"\d+(\.\d+)*", name)  # 3.14, 1.0.2 are numbers, not files


@dataclass
class TaskPlan:
    """The files a task names, placed in the workspace.

    Attributes:
        needs_network: the task asks to fetch a web address.
        columns: CSV columns the task reads ("the total of the price column").
        headers: output CSV files mapped to the columns the task names for them ("write
            users.csv with the columns id,name,email"), which their header line must be.
        sort_by: the column the task sorts by and whether descending ("sort … by age,
            youngest first").
        inputs: names the task reads, mapped to the workspace path that holds them (None when
            no such file exists).
        outputs: names the task asks to create or change (workspace-relative paths).
        tests: test files the task says must pass (run after each program).
        urls: web addresses the task names.
    """

    inputs: dict[str, str | None] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    needs_network: bool = False
    columns: list[str] = field(default_factory=list)
    headers: dict[str, list[str]] = field(default_factory=dict)
    sort_by: tuple[str, bool] | None = None

    @classmethod
    def of(cls, task: str, files: Snapshot) -> TaskPlan:
        plan = cls(
            urls=_URL.findall(task),
            needs_network=bool(_FETCH.search(task)),
            columns=list(dict.fromkeys(_COLUMN.findall(task))),
        )
        text = _URL.sub(" ", task)
        if sort := _SORT.search(text):
            plan.sort_by = (sort.group(1), bool(_DESCENDING.search(text)))
        for name, cols in _HEADER.findall(text):
            plan.headers[name.lstrip("./")] = [c.strip() for c in re.split(r"[,;]", cols)]
        for match in _NAME.finditer(text):
            name = match.group(1).rstrip(".")
            if not _looks_like_file(name):
                continue
            before = text[max(0, match.start() - 80) : match.start()]
            clause = re.split(r"[.!?;,:\n](?:\s|$)|\bthen\b", before)[-1]
            found = locate(name, files)
            is_test = _is_test_file(name)
            if is_test and _TEST_PASS.search(text[match.start() : match.end() + 80] + before):
                if found and found not in plan.tests:
                    plan.tests.append(found)
                plan.inputs.setdefault(name, found)
                continue
            role = role_of(clause)
            if role == "out":
                path = found or name.lstrip("./")
                if path not in plan.outputs:
                    plan.outputs.append(path)
            elif found is not None or role == "in":
                plan.inputs.setdefault(name, found)
        for out in plan.outputs:
            for name, path in list(plan.inputs.items()):
                if path is None and (name == out or name.lstrip("./") == out):
                    del plan.inputs[name]  # "create x.txt and read it back" names it twice
        return plan

    @property
    def missing_inputs(self) -> list[str]:
        """Inputs the task names that the workspace does not hold."""
        return [name for name, path in self.inputs.items() if path is None]


def _is_test_file(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return _suffix(base) == "py" and (base.startswith("test_") or base.endswith("_test.py"))


def role_of(clause: str) -> str | None:
    """``out`` / ``in`` from the nearest verb before a file name in its clause, else None."""
    words = [w.lower() for w in re.findall(r"[\w-]+(?:\.[\w]+)*", clause)]
    weak = False
    seen = 0
    for word in reversed(words):
        if "." in word or word in _TRANSPARENT:
            continue
        if word in _OUT_STRONG:
            return "out"
        if word in _IN_STRONG:
            return "in"
        if word in _IN_WEAK:
            weak = True
        seen += 1
        if seen >= _WINDOW:
            break
    return "in" if weak else None


def locate(name: str, files: Snapshot) -> str | None:
    """The workspace path of a file the task names: exact, then by unique base name."""
    clean = name.lstrip("./") if name.startswith("./") else name.lstrip("/")
    if clean in files:
        return clean
    for prefix in ("workspace/", "data/"):
        if clean.startswith(prefix) and clean[len(prefix) :] in files:
            return clean[len(prefix) :]
    base = clean.rsplit("/", 1)[-1]
    hits = [p for p in files if p.rsplit("/", 1)[-1] == base]
    return hits[0] if len(hits) == 1 else None
