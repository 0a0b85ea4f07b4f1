"""The agent's prompts, short and concrete, because the default models are small (0.5B–1.5B).

Two shapes of run (``loop.py`` explains why):

* **code actions** (the agent has ``code_execution``): the model answers each turn with one
  whole Python program in a fenced block; the workspace listing (paths, sizes, first lines)
  and the skills' full text are in the system prompt, so it never has to look for them;
* **tool calls** (no ``code_execution``): the classic shape, the tools' schemas in the chat
  template, one short rule per tool.

Every message the harness adds during a run (a program's outcome, a repair request, the
request for the final answer) is a ``user`` message named ``harness``, so backends that
script their answers from the user's words can tell them apart.
"""

from __future__ import annotations

from collections.abc import Collection

HARNESS = "harness"

CODE_BASE = (
    "You are an agent that completes the user's task by writing Python programs. Each "
    "program runs in the working folder and you see what it prints.\n"
    "Rules:\n"
    "- Reply with ONE complete Python 3 program in a ```python block that does the whole "
    "task. Do not explain it.\n"
    "- Use only the standard library (csv, json, re, collections, statistics, pathlib).\n"
    "- Values read from CSV or text files are strings: convert numbers with float() or int() "
    "before doing arithmetic.\n"
    "- Use the file paths listed below exactly. Name output files exactly as the task says.\n"
    "- Make the program print the result, so it can be checked.\n"
    "- After the program has worked, reply with a short final answer in plain words, no code."
)
FILE_RULE = (
    "- To fix a source file, you may instead reply with a block whose first line is "
    "`# file: NAME` followed by the whole new content of that file."
)
TOOLS_RULE = (
    "- These tools are not Python functions; call them as tools, outside any program, when "
    "the task needs them: {names}."
)
TOOL_BASE = (
    "You are an agent that completes tasks in a working folder by calling tools.\n"
    "Rules:\n"
    "- Call one tool at a time, then read its result.\n"
    "- Use file names as given, e.g. data.csv (paths are relative to the working folder)."
)
TOOL_HINTS = {
    "read_file": "- To read a file, call read_file.",
    "write_file": "- To create a file, call write_file with the full content.",
    "list_files": "- To see which files exist, call list_files.",
    "load_skill": "- To use a skill listed below, call load_skill with its name first.",
}
TOOL_FINAL = "- When the task is done, reply with a short final answer and call no tool."

WRITE_PROGRAM = (
    "Do not answer yet: first write one complete Python program in a ```python block that "
    "does the task, so its result can be checked."
)
FINAL_ANSWER = (
    "{report}\n\nThe task is done. Now answer the user's request in one or two plain "
    "sentences: state the result itself (the facts or numbers asked for, the files written). "
    "Do not describe the program or its exit status. No code."
)
CANNOT = (
    "{report}\n\nThe task cannot be done here: {reason}. Tell the user plainly, in one or "
    "two sentences, that it could not be done and why. Do not write code and do not invent "
    "a result."
)
FALSE_CLAIM = (
    "Your answer names {names}, which do not exist in the working folder. Write the answer "
    "again: say only what was really done. No code."
)
NOT_DONE = "{problem} Do not answer yet: write the whole corrected program (or the fixed file)."
INVENTED = (
    "Your answer gives {numbers}, which the program's output and the files do not show. "
    "Write the answer again using only what they show. No code."
)
DONE_FALLBACK = "The task is done (checked by the engine): {did}."
SAME_PROGRAM = (
    "That is the same program as before, and it has the same problem. Write a different, "
    "corrected program."
)
SAME_CALL = (
    "You already called {name} with these arguments; its result is above. Do the next step "
    "of the task, or give your final answer."
)
USE_RESULTS = (
    "{results}\n(These are the results of the functions you called. They are values, not "
    "Python functions: finish the task with them — a program that uses them as literals, "
    "or your final answer.)"
)
FAKED_RESULT = (
    "{name} is not a Python function and must not be defined in a program: it was already "
    "called and returned {result!r}. Write the program again using that value as a literal, "
    "or give your final answer."
)
UNASKED_CALL = (
    "The task did not ask for that: {name} already returned {result!r} for what the task "
    "asks. Finish the task with that result (a program that uses it, or your final answer)."
)
GAVE_UP = "I could not finish the task: {reason}. What I did: {did}."
CANNOT_FALLBACK = "I could not do this task: {reason}. What I did: {did}."


def code_prompt(
    listing: str,
    *,
    tool_names: Collection[str] = (),
    skills: str = "",
    instructions: str | None = None,
    file_blocks: bool = False,
    named_skills: str = "",
) -> str:
    """The system message of a code-action run (``file_blocks``: a task that edits code;
    ``named_skills``: the skills the task names, repeated last, nearest the task)."""
    text = CODE_BASE
    if file_blocks:
        text += "\n" + FILE_RULE
    if tool_names:
        text += "\n" + TOOLS_RULE.format(names=", ".join(sorted(tool_names)))
    if instructions:
        text += "\n\nInstructions from the user (follow them):\n" + instructions.strip()
    if skills:
        text += "\n\n" + skills
    text += "\n\n" + listing
    if named_skills:
        text += "\n\n" + named_skills
    return text


def named_skills(bodies: dict[str, str], task: str) -> str:
    """The skills a task names ("following the semicolon-csv skill"), to repeat after the
    workspace listing: the 0.5B follows a rule next to the task and forgets one 2,000
    tokens up."""
    words = task.lower()
    named = [
        (name, body) for name, body in bodies.items()
        if body.strip() and (name.lower() in words or name.lower().replace("-", " ") in words)
    ]  # fmt: skip
    return "\n\n".join(
        f"The task names the skill {name!r}. Follow it:\n{_skill_rules(body)}"
        for name, body in named
    )


def _skill_rules(body: str) -> str:
    """A skill's text without its front matter."""
    text = body.strip()
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end != -1:
            text = text[end + 4 :].strip()
    return text


def tool_prompt(
    tool_names: Collection[str], *, skills: str = "", instructions: str | None = None
) -> str:
    """The system message of a tool-call run (an agent without ``code_execution``)."""
    parts = [TOOL_BASE]
    parts.extend(hint for name, hint in TOOL_HINTS.items() if name in tool_names)
    parts.append(TOOL_FINAL)
    text = "\n".join(parts)
    if skills:
        text += "\n\n" + skills
    if instructions:
        text += "\n\nInstructions:\n" + instructions.strip()
    return text


def skills_text(bodies: dict[str, str], limit: int = 6000) -> str:
    """Skills written out in full for the prompt (small models do not fetch them reliably)."""
    out, used = [], 0
    for name, body in bodies.items():
        if used + len(body) > limit:
            break
        used += len(body)
        out.append(f"Skill {name!r} (follow it when the task calls for it):\n{body.strip()}")
    return "\n\n".join(out)
