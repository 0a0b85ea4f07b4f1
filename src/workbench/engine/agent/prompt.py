"""The agent's system prompt: short, because the default model is small (0.5B parameters).

The tool schemas themselves reach the model through the backend (the chat template's tool
section), so the prompt names the tools only to say when to use which. Then come the skills
catalog (names and descriptions; bodies load on demand) and the caller's instructions
(``system_instruction`` plus ``.agents/AGENTS.md``).
"""

from __future__ import annotations

from collections.abc import Collection

BASE = (
    "You are an agent that completes tasks in a working folder by calling tools.\n"
    "Rules:\n"
    "- Call one tool at a time, then read its result.\n"
    "- Use file names as given, e.g. data.csv (paths are relative to the working folder)."
)
TOOL_HINTS = {
    "code_execution": (
        "- To compute something, call code_execution with Python code that prints the "
        "result. Python has only its standard library: use the csv module, not pandas."
    ),
    "read_file": "- To read a file, call read_file.",
    "write_file": "- To create a file, call write_file with the full content.",
    "list_files": "- To see which files exist, call list_files.",
    "load_skill": "- To use a skill listed below, call load_skill with its name first.",
}
FINAL = "- When the task is done, reply with a short final answer and call no tool."

REMINDER = (
    "[Task: {task}\nIf the task is done, reply with a short final answer. Otherwise call the "
    "next tool.]"
)
NUDGE_REPEAT = (
    "You already called {name} with these arguments; the result is above. Do not call it "
    "again. Do the next step of the task with another tool, or give your final answer."
)
NUDGE_LIMIT = (
    "You have used all {steps} tool calls allowed for this task. "
    "Give your final answer now from what you have."
)
SUMMARY = "Done. I made {count} tool call(s): {calls}."
NO_ANSWER = "I have no answer to give."


def system_prompt(
    tool_names: Collection[str], *, skills: str = "", instructions: str | None = None
) -> str:
    """The system message of an agent run."""
    parts = [BASE]
    parts.extend(hint for name, hint in TOOL_HINTS.items() if name in tool_names)
    parts.append(FINAL)
    text = "\n".join(parts)
    if skills:
        text += "\n\n" + skills
    if instructions:
        text += "\n\nInstructions:\n" + instructions.strip()
    return text
