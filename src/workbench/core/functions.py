"""Function declarations typed by the user: parse, validate, explain what is wrong.

The editor holds a JSON array of ``{"name", "description"?, "parameters"?}`` objects; each
``parameters`` must be a valid JSON Schema (Draft 2020-12) describing an object.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class FunctionProblem:
    """One thing to fix, with where it is."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def parse_functions(text: str) -> tuple[list[dict[str, Any]], list[FunctionProblem]]:
    """Declarations in ``text`` and the problems found (no declarations if any problem)."""
    if not text.strip():
        return [], []
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [FunctionProblem(f"line {exc.lineno}, column {exc.colno}", exc.msg)]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return [], [FunctionProblem("", "expected a JSON array of function declarations")]
    problems: list[FunctionProblem] = []
    names: set[str] = set()
    for i, decl in enumerate(value):
        where = f"function {i + 1}"
        if not isinstance(decl, dict):
            problems.append(FunctionProblem(where, "must be an object with a name"))
            continue
        name = decl.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            problems.append(
                FunctionProblem(
                    where,
                    "needs a name of letters, digits, _ . or - (starting with a letter or _, "
                    "at most 64 characters)",
                )
            )
        else:
            where = f"function {name!r}"
            if name in names:
                problems.append(FunctionProblem(where, "is declared twice"))
            names.add(name)
        unknown = set(decl) - {"name", "description", "parameters", "type"}
        if unknown:
            problems.append(FunctionProblem(where, f"unknown keys: {', '.join(sorted(unknown))}"))
        if "description" in decl and not isinstance(decl["description"], str):
            problems.append(FunctionProblem(where, "description must be a string"))
        if "parameters" in decl:
            problems += _check_schema(where, decl["parameters"])
    if problems:
        return [], problems
    return [{k: v for k, v in d.items() if k != "type"} for d in value], []


def _check_schema(where: str, schema: Any) -> list[FunctionProblem]:
    if not isinstance(schema, dict):
        return [FunctionProblem(where, "parameters must be a JSON Schema object")]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        path = "/".join(str(p) for p in exc.path)
        at = f" at parameters/{path}" if path else ""
        return [FunctionProblem(where, f"invalid JSON Schema{at}: {exc.message}")]
    if schema.get("type", "object") != "object":
        return [FunctionProblem(where, 'parameters must describe an object ("type": "object")')]
    return []
