"""Tools that work inside the environment: ``code_execution`` and the file tools.

File tools (``read_file``, ``write_file``, ``list_files``, ``delete_file``) appear as
``function_call`` + ``function_result`` steps, like Antigravity's built-in filesystem tools.
Paths follow the sandbox path model: relative or absolute, both resolved against the
environment root; ``..``, and symlinks that lead outside, are refused.
"""

from __future__ import annotations

import asyncio
import io
import tokenize
from typing import Any

from workbench.engine.sandbox import ExecResult, SandboxError
from workbench.engine.sandbox import files as sfiles
from workbench.engine.sandbox import paths as spaths

from .tools import AgentTool, ToolContext, ToolOutcome, error, shorten

READ_LIMIT_BYTES = 256 * 1024
LIST_LIMIT = 200


def describe_exec(result: ExecResult, *, network_note: str | None = None) -> str:
    """The text of a code run as the model sees it (and the step's ``result``)."""
    if result.refused:
        return result.refused
    parts: list[str] = []
    if result.stdout:
        parts.append(result.stdout.rstrip("\n"))
    if result.stderr:
        parts.append("[stderr]\n" + result.stderr.rstrip("\n"))
    if result.timed_out:
        parts.append(f"[stopped: the time limit of {result.duration_s:.0f} s was reached]")
    elif result.cancelled:
        parts.append("[stopped: cancelled]")
    elif result.exit_code not in (0, None):
        code = result.exit_code or 0
        hint = ""
        if code == 152 or code == -24:
            hint = " (CPU time limit exceeded)"
        elif code == 153 or code == -25:
            hint = " (file size limit exceeded)"
        elif code == 137 or code == -9:
            hint = " (killed)"
        parts.append(f"[exit status {code}{hint}]")
    if network_note:
        parts.append(f"[{network_note}]")
    return "\n".join(parts) if parts else "[no output]"


def _compiles(code: str) -> bool:
    try:
        compile(code, "<cell>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def repair_python(code: str) -> str:
    """A one-line program that does not compile, split at its top-level ``;`` into lines.

    Small models write ``import csv; rows = …; with open(…) as f: f.write(…)`` on one line,
    which Python refuses (a compound statement cannot follow ``;``). When the split version
    compiles it is used instead; anything else is returned unchanged. Nothing is executed.
    """
    if "\n" in code.strip() or ";" not in code or _compiles(code):
        return code
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return code
    cuts = [t.start[1] for t in tokens if t.type == tokenize.OP and t.string == ";"]
    pieces, start = [], 0
    for cut in cuts:
        pieces.append(code[start:cut].strip())
        start = cut + 1
    pieces.append(code[start:].strip())
    fixed = "\n".join(p for p in pieces if p)
    return fixed if _compiles(fixed) else code


class CodeExecutionTool(AgentTool):
    """Run Python or bash in the environment (working directory = its root)."""

    def __init__(self) -> None:
        super().__init__(
            name="code_execution",
            description=(
                "Run Python (or bash) code in the working folder and return what it prints. "
                "Put each statement on its own line. Files the code writes are kept."
            ),
            parameters={
                "type": "object",
                "properties": {
                    "language": {"type": "string", "enum": ["python", "bash"]},
                    "code": {"type": "string"},
                },
                "required": ["language", "code"],
                "additionalProperties": False,
            },
            kind="code_execution",
        )

    def normalize(self, args: dict[str, Any]) -> dict[str, Any]:
        if str(args.get("language", "python")).lower() == "python" and isinstance(
            args.get("code"), str
        ):
            return {**args, "code": repair_python(args["code"])}
        return args

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        return (await self.execute(args, ctx))[1]

    async def execute(
        self, args: dict[str, Any], ctx: ToolContext
    ) -> tuple[ExecResult, ToolOutcome]:
        """Run the code; the raw result (exit status, streams) and the outcome the model sees."""
        result = await ctx.runner.run(
            ctx.root,
            str(args["code"]),
            str(args.get("language", "python")),
            network=ctx.network.code_network,
            env=ctx.env,
            limits=ctx.limits,
            cancel=ctx.cancel,
            egress=ctx.egress,
        )
        note = None
        if ctx.network.mode == "allowlist" and not result.proxied:
            note = (
                "network: off for code — the allowlist names single hosts, which only the "
                "egress proxy (bubblewrap) enforces; use url_context to fetch allowed URLs"
            )
        text = describe_exec(result, network_note=note)
        outcome = ToolOutcome(text=shorten(text), result=shorten(text), is_error=not result.ok)
        return result, outcome


def _path_schema(
    extra: dict[str, Any] | None = None, required: tuple[str, ...] = ("path",)
) -> dict[str, Any]:
    props: dict[str, Any] = {"path": {"type": "string"}}
    props.update(extra or {})
    return {
        "type": "object",
        "properties": props,
        "required": list(required),
        "additionalProperties": False,
    }


class _FileTool(AgentTool):
    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        try:
            text = await asyncio.to_thread(self.act, args, ctx)
        except SandboxError as exc:
            return error(f"{self.name}: {exc.message}")
        except OSError as exc:
            return error(f"{self.name}: {exc.strerror or exc}")
        return ToolOutcome(text=text, result=text)

    def act(self, args: dict[str, Any], ctx: ToolContext) -> str:
        raise NotImplementedError


class ReadFileTool(_FileTool):
    """Read a text file of the environment."""

    def __init__(self) -> None:
        super().__init__(
            name="read_file",
            description="Read a text file and return its content.",
            parameters=_path_schema(),
        )

    def act(self, args: dict[str, Any], ctx: ToolContext) -> str:
        data = sfiles.read_bytes(ctx.root, str(args["path"]), limit=READ_LIMIT_BYTES + 1)
        if b"\x00" in data[:8192]:
            return f"{args['path']} is a binary file; read it with code_execution instead."
        text = data[:READ_LIMIT_BYTES].decode("utf-8", "replace")
        if len(data) > READ_LIMIT_BYTES:
            text += f"\n[… file longer than {READ_LIMIT_BYTES} bytes; only the start is shown …]"
        return text


class WriteFileTool(_FileTool):
    """Create or replace a text file of the environment."""

    def __init__(self) -> None:
        super().__init__(
            name="write_file",
            description="Create or replace a text file with the given content.",
            parameters=_path_schema({"content": {"type": "string"}}, ("path", "content")),
        )

    def act(self, args: dict[str, Any], ctx: ToolContext) -> str:
        data = str(args["content"]).encode("utf-8")
        entry = sfiles.write_bytes(ctx.root, str(args["path"]), data)
        return f"Wrote {len(data)} bytes to {entry.path}."


class ListFilesTool(_FileTool):
    """List a folder of the environment (recursively, up to a limit)."""

    def __init__(self) -> None:
        super().__init__(
            name="list_files",
            description="List the files in a folder ('.' is the working folder).",
            parameters=_path_schema(),
        )

    def act(self, args: dict[str, Any], ctx: ToolContext) -> str:
        path = str(args.get("path") or ".")
        entries, _ = sfiles.list_files(ctx.root, path, recursive=True, page_size=LIST_LIMIT + 1)
        lines = []
        for entry in entries[:LIST_LIMIT]:
            if entry.type == "directory":
                lines.append(f"{entry.path}/")
            else:
                lines.append(f"{entry.path} ({entry.size_bytes} bytes)")
        if len(entries) > LIST_LIMIT:
            lines.append(f"[… more than {LIST_LIMIT} entries; list a subfolder …]")
        return "\n".join(lines) if lines else "(empty folder)"


class DeleteFileTool(_FileTool):
    """Delete a file or an empty folder of the environment."""

    def __init__(self) -> None:
        super().__init__(
            name="delete_file",
            description="Delete a file or an empty folder.",
            parameters=_path_schema(),
        )

    def act(self, args: dict[str, Any], ctx: ToolContext) -> str:
        sfiles.delete_path(ctx.root, str(args["path"]))
        return f"Deleted {spaths.normalize(str(args['path']))}."


def file_tools() -> list[AgentTool]:
    """The four built-in file tools."""
    return [ReadFileTool(), WriteFileTool(), ListFilesTool(), DeleteFileTool()]
