"""Function calling against the Berkeley Function-Calling Leaderboard (BFCL), through the engine.

    .venv/bin/pip install --no-deps bfcl-eval      # data files only; not a project dependency
    PYTHONPATH=src .venv/bin/python benchmarks/bfcl.py [--model qwen2.5-coder-0.5b]
        [--categories simple,multiple,parallel,irrelevance] [--limit N] [--home DIR]
        [--threads 1] [--ids ID,...] [--json out.json]
    .venv/bin/python benchmarks/bfcl.py --summarize out.json     # the table of saved results
    .venv/bin/python benchmarks/bfcl.py --crosscheck [out.json]  # these rules vs BFCL's checker

The questions, function documents and possible answers are read from the ``bfcl-eval`` wheel
(``bfcl_eval/data/BFCL_v4_<category>.json`` and ``data/possible_answer/``); ``simple`` is
``simple_python`` (v3's non-live ``simple``), the others keep their names. With ``--limit N``
each category is sampled deterministically: every k-th entry, k = len // N, from the first.

Each entry is one model interaction on ``workbench-engine --backend llama`` (started as a
subprocess, one llama.cpp thread), sent with the official ``google-genai`` SDK: ``input`` is the
user turn, ``tools`` the entry's functions as the protocol's ``function`` declarations, greedy
decoding (seed 0, at most 256 output tokens), no system instruction (BFCL gives FC models none;
the model's chat template adds its own). The function documents are prepared as BFCL prepares
them for an FC model: the description gets BFCL's " Note that the provided function is in Python
3 syntax." and the parameter types go through BFCL's Gorilla-to-OpenAPI mapping (``dict`` →
``object``, ``float`` → ``number`` plus " This is a float type value.", ``tuple`` → ``array``,
``any`` → ``string``). Function names keep their dots (BFCL's ``underscore_to_dot=False``, as
for its local Qwen FC handler), which the engine accepts.

The ``function_call`` steps of the answer are the model's calls, scored with BFCL's AST rules:
``simple`` and ``multiple`` need exactly one call matching the possible answer, ``parallel``
the right number of calls each matching one answer in any order, ``irrelevance`` passes when
no call is made. BFCL's checker module (``bfcl_eval/eval_checker/ast_eval/ast_checker.py``)
does not import without the wheel's heavy dependencies (its model registry pulls in
``anthropic``, ``openai`` and more), so the Python-language part of its rules is reimplemented
below (``check_*`` functions, each named after its original), rule for rule: string
standardisation (drop `` ,./-_*^``, lower case, ``'`` → ``"``), int accepted for float,
optional parameters marked by ``""``, nested list, dict and list-of-dict checks.

Prints one line per entry, then the accuracy per category and overall (the unweighted mean of
the categories, as BFCL averages categories), and seconds.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import os
import re
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from agent_tasks import TOKEN, Engine, model_home

CATEGORIES = ("simple", "multiple", "parallel", "irrelevance")
FILES = {"simple": "simple_python"}
PYTHON_HINT = " Note that the provided function is in Python 3 syntax."
MAX_OUTPUT_TOKENS = 256

# ---------------------------------------------------------------------------------------------
# data


def data_dir() -> Path:
    """The ``bfcl_eval/data`` folder of the installed wheel (found without importing it)."""
    import importlib.util

    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("bfcl-eval is not installed: .venv/bin/pip install --no-deps bfcl-eval")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@dataclass
class Entry:
    id: str
    category: str
    question: list[dict[str, Any]]
    functions: list[dict[str, Any]]
    answer: list[dict[str, Any]] | None  # None for irrelevance


def load(category: str, limit: int | None) -> list[Entry]:
    """The category's entries (every k-th one when ``limit`` is given)."""
    name = FILES.get(category, category)
    root = data_dir()
    rows = _jsonl(root / f"BFCL_v4_{name}.json")
    answers: dict[str, Any] = {}
    answer_file = root / "possible_answer" / f"BFCL_v4_{name}.json"
    if answer_file.exists():
        answers = {r["id"]: r["ground_truth"] for r in _jsonl(answer_file)}
    if limit and limit < len(rows):
        step = len(rows) // limit
        rows = rows[::step][:limit]
    return [
        Entry(r["id"], category, r["question"][0], r["function"], answers.get(r["id"]))
        for r in rows
    ]


# ---------------------------------------------------------------------------------------------
# function documents → protocol function tools (BFCL's FC preparation)

GORILLA_TO_OPENAPI = {
    "integer": "integer", "number": "number", "float": "number", "string": "string",
    "boolean": "boolean", "bool": "boolean", "array": "array", "list": "array",
    "dict": "object", "object": "object", "tuple": "array", "any": "string",
    "byte": "integer", "short": "integer", "long": "integer", "double": "number",
    "char": "string", "ArrayList": "array", "Array": "array", "HashMap": "object",
}  # fmt: skip
"""``bfcl_eval/constants/type_mappings.py``"""


def _cast_types(properties: dict[str, Any]) -> dict[str, Any]:
    """``_cast_to_openai_type`` of ``bfcl_eval/model_handler/utils.py``."""
    for value in properties.values():
        if "type" not in value:
            value["type"] = "string"
        else:
            kind = value["type"]
            if kind == "float":
                value["format"] = "float"
                value["description"] = value.get("description", "") + " This is a float type value."
            value["type"] = GORILLA_TO_OPENAPI.get(kind, "string")
        if value["type"] in ("array", "object"):
            if "properties" in value:
                value["properties"] = _cast_types(value["properties"])
            elif "items" in value:
                items = value["items"]
                items["type"] = GORILLA_TO_OPENAPI[items["type"]]
                if items["type"] == "array" and "items" in items:
                    items["items"]["type"] = GORILLA_TO_OPENAPI[items["items"]["type"]]
                elif items["type"] == "object" and "properties" in items:
                    items["properties"] = _cast_types(items["properties"])
    return properties


def function_tools(functions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entry's functions as the protocol's ``function`` tool declarations."""
    tools = []
    for fn in copy.deepcopy(functions):
        params = fn["parameters"]
        params["type"] = "object"
        params["properties"] = _cast_types(params.get("properties", {}))
        tools.append({"type": "function", "name": fn["name"],
                      "description": fn.get("description", "") + PYTHON_HINT,
                      "parameters": params})  # fmt: skip
    return tools


# ---------------------------------------------------------------------------------------------
# BFCL's AST rules (Python), from bfcl_eval/eval_checker/ast_eval/ast_checker.py

PYTHON_TYPE_MAPPING: dict[str, type] = {
    "string": str, "integer": int, "float": float, "boolean": bool, "array": list,
    "tuple": list, "dict": dict, "any": str,
}  # fmt: skip
PYTHON_NESTED_TYPE_CHECK_LIST = ("array", "tuple")

Verdict = tuple[bool, str]  # (valid, error)
OK: Verdict = (True, "")


def _answer_type(possible: list[Any]) -> type | None:
    """``get_possible_answer_type``: the type of the first non-optional possible answer."""
    for answer in possible:
        if answer != "":
            return type(answer)
    return None


def check_type(
    param: str, value: Any, possible: list[Any], expected: type, nested: type | None
) -> tuple[bool, str, bool]:
    """``type_checker``: (valid, error, is_variable)."""
    possible_type = _answer_type(possible)
    is_variable = possible_type is not None and possible_type != expected
    if type(value) is expected:
        if nested is None:
            return True, "", is_variable
        for item in possible:
            flag = True
            if type(item) is list:
                for element in value:
                    if not check_type(param, element, item, nested, None)[0]:
                        flag = False
                        break
            if flag:
                return True, "", is_variable
        return False, f"nested type of {param!r}: {value!r}", False  # BFCL: stays invalid
    if possible_type is not None and type(value) is possible_type:
        return True, "", True
    return False, f"type of {param!r}: {value!r}", False


def standardize(text: str) -> str:
    """``standardize_string``."""
    return re.sub(r"[ \,\.\/\-\_\*\^]", "", text).lower().replace("'", '"')


def check_string(param: str, value: str, possible: list[Any]) -> Verdict:
    """``string_checker``."""
    if standardize(value) not in [standardize(p) for p in possible if type(p) is str]:
        return False, f"value of {param!r}: {value!r} not in {possible}"
    return OK


def check_list(param: str, value: list[Any], possible: list[Any]) -> Verdict:
    """``list_checker``."""
    got = [standardize(v) if type(v) is str else v for v in value]
    wanted = [[standardize(v) if type(v) is str else v for v in p] for p in possible]
    if got not in wanted:
        return False, f"value of {param!r}: {value!r} not in {possible}"
    return OK


def check_dict(param: str, value: dict[str, Any], possible: list[Any]) -> Verdict:
    """``dict_checker``."""
    result: Verdict = (False, f"dict {param!r}: no possible answer")
    for answer in possible:
        if answer == "":
            continue
        result, flag = (False, ""), True
        for key, item in value.items():
            if key not in answer:
                result, flag = (False, f"unexpected dict key {key!r}"), False
                break
            got = standardize(item) if type(item) is str else item
            wanted = [standardize(a) if type(a) is str else a for a in answer[key]]
            if got not in wanted:
                result, flag = (False, f"dict value {key!r}: {item!r} not in {wanted}"), False
                break
        for key, options in answer.items():
            if key not in value and "" not in options:
                result, flag = (False, f"missing dict key {key!r}"), False
                break
        if flag:
            return OK
    return result


def check_list_dict(param: str, value: list[Any], possible: list[Any]) -> Verdict:
    """``list_dict_checker``."""
    result: Verdict = (False, f"list of dicts {param!r}: no possible answer")
    for answer in possible:
        if len(value) != len(answer):
            result = (False, f"list of dicts {param!r}: wrong number of dicts")
            continue
        flag = True
        for got, wanted in zip(value, answer, strict=True):
            result = check_dict(param, got, [wanted])
            if not result[0]:
                flag = False
                break
        if flag:
            return OK
    return result


def check_simple(doc: dict[str, Any], call: dict[str, Any], answer: dict[str, Any]) -> Verdict:
    """``simple_function_checker`` (Python): one call against one possible answer."""
    possible = next(iter(answer.values()))
    name = doc["name"]
    details = doc["parameters"]["properties"]
    if name not in call:
        return False, f"function {name!r} not called"
    params = call[name]
    for req in doc["parameters"].get("required", []):
        if req not in params:
            return False, f"missing required {req!r}"
    for param, value in params.items():
        if param not in details or param not in possible:
            return False, f"unexpected parameter {param!r}"
        kind = details[param]["type"]
        expected = PYTHON_TYPE_MAPPING[kind]
        nested = None
        if kind in PYTHON_NESTED_TYPE_CHECK_LIST:
            nested = PYTHON_TYPE_MAPPING[details[param]["items"]["type"]]
        if kind == "tuple" and type(value) is tuple:
            value = list(value)
        if kind == "float" and type(value) is int:
            value = float(value)
        valid, error, is_variable = check_type(param, value, possible[param], expected, nested)
        if not valid:
            return False, error
        if not is_variable:
            verdict: Verdict | None = None
            if expected is dict:
                verdict = check_dict(param, value, possible[param])
            elif expected is list and nested is dict:
                verdict = check_list_dict(param, value, possible[param])
            elif expected is str:
                verdict = check_string(param, value, possible[param])
            elif expected is list:
                verdict = check_list(param, value, possible[param])
            if verdict is not None:
                if not verdict[0]:
                    return verdict
                continue
        if value not in possible[param]:
            return False, f"value of {param!r}: {value!r} not in {possible[param]}"
    for param, options in possible.items():
        if param not in params and "" not in options:
            return False, f"optional {param!r} not provided and not marked optional"
    return OK


def _doc(docs: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    """``find_description``."""
    return next((d for d in docs if d["name"] == name), None)


def score(entry: Entry, calls: list[dict[str, Any]]) -> Verdict:
    """``ast_checker`` (and the irrelevance rule) for one entry's calls ``[{name: args}]``."""
    if entry.category == "irrelevance":
        return (not calls, "" if not calls else f"made {len(calls)} call(s)")
    answer = entry.answer or []
    if len(calls) != len(answer):
        return False, f"wrong number of calls: {len(calls)}, expected {len(answer)}"
    if entry.category == "parallel":  # parallel_function_checker_no_order
        matched: list[int] = []
        for wanted in answer:
            doc = _doc(entry.functions, next(iter(wanted)))
            if doc is None:
                return False, "no function document for the answer"
            verdict: Verdict = (False, "no call")
            for index, call in enumerate(calls):
                if index in matched:
                    continue
                verdict = check_simple(doc, call, wanted)
                if verdict[0]:
                    matched.append(index)
                    break
            if not verdict[0]:
                return False, f"no call matches {next(iter(wanted))}: {verdict[1]}"
        return OK
    doc = _doc(entry.functions, next(iter(answer[0])))  # simple / multiple_function_checker
    if doc is None:
        return False, "no function document for the answer"
    return check_simple(doc, calls[0], answer[0])


def official_checker() -> Any:
    """BFCL's own ``ast_checker``, imported with its model registry stubbed out.

    Only for ``--crosscheck``: the registry (``bfcl_eval.constants.model_config``) imports every
    provider SDK; the checker uses it for one flag, ``underscore_to_dot`` (False here).
    """
    import types

    class _Config:
        underscore_to_dot = False

    class _Registry(dict[str, Any]):
        def __getitem__(self, key: str) -> Any:
            return _Config()

    stub = types.ModuleType("bfcl_eval.constants.model_config")
    stub.MODEL_CONFIG_MAPPING = _Registry()  # type: ignore[attr-defined]
    sys.modules.setdefault("bfcl_eval.constants.model_config", stub)
    from bfcl_eval.constants.enums import Language
    from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker

    def check(entry: Entry, calls: list[dict[str, Any]]) -> bool:
        got = ast_checker(
            entry.functions, calls, entry.answer, Language.PYTHON, entry.category, "x"
        )
        return bool(got["valid"])

    return check


def crosscheck(results: list[dict[str, Any]]) -> str:
    """Score calls built from every possible answer (and randomly perturbed copies of them),
    plus the calls in ``results``, with these rules and with BFCL's; count disagreements."""
    import random

    official = official_checker()
    rng = random.Random(0)
    cases: list[tuple[Entry, list[dict[str, Any]]]] = []
    entries = {e.id: e for c in ("simple", "multiple", "parallel") for e in load(c, None)}
    for entry in entries.values():
        base = []
        for answer in entry.answer or []:
            name, params = next(iter(answer.items()))
            args = {k: rng.choice([o for o in v if o != ""]) for k, v in params.items()
                    if any(o != "" for o in v)}  # fmt: skip
            base.append({name: args})
        cases.append((entry, base))
        for _ in range(6):
            calls = copy.deepcopy(base)
            args = next(iter(rng.choice(calls).values()))
            if args:
                key = rng.choice(list(args))
                value = args[key]
                change = rng.choice(("float", "int", "str", "drop", "case", "list", "extra"))
                if change == "float" and type(value) is int:
                    args[key] = float(value)
                elif change == "int" and type(value) is float:
                    args[key] = int(value)
                elif change == "str":
                    args[key] = str(value)
                elif change == "drop":
                    del args[key]
                elif change == "case" and type(value) is str:
                    args[key] = value.upper() + " "
                elif change == "list":
                    args[key] = [value]
                else:
                    args["extra_parameter"] = 1
            cases.append((entry, calls[::-1] if rng.random() < 0.2 else calls))
    for r in results:
        if r["id"] in entries:
            cases.append((entries[r["id"]], r["calls"]))
    differ = [(e.id, c) for e, c in cases if score(e, c)[0] != official(e, c)]
    for ident, calls in differ[:20]:
        print(f"DIFFERENT  {ident}  {json.dumps(calls)[:200]}")
    return f"{len(cases) - len(differ)}/{len(cases)} verdicts agree with BFCL's ast_checker"


# ---------------------------------------------------------------------------------------------
# running


@dataclass
class Result:
    id: str
    category: str
    passed: bool
    seconds: float
    calls: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""
    error: str = ""
    tokens: int = 0


def ask(client: Any, model: str, entry: Entry) -> Result:
    """One model interaction for ``entry``; its ``function_call`` steps, scored."""
    started = time.monotonic()
    user = "\n\n".join(m["content"] for m in entry.question if m["role"] == "user")
    system = "\n\n".join(m["content"] for m in entry.question if m["role"] == "system")
    kwargs: dict[str, Any] = {}
    if system:
        kwargs["system_instruction"] = system
    try:
        interaction = client.interactions.create(
            model=model,
            input=user,
            tools=function_tools(entry.functions),
            generation_config={"temperature": 0.0, "seed": 0,
                               "max_output_tokens": MAX_OUTPUT_TOKENS},
            store=False,
            **kwargs,
        )  # fmt: skip
    except Exception as exc:  # an engine error fails the entry, not the run
        return Result(entry.id, entry.category, False, time.monotonic() - started,
                      error=f"request failed: {exc}")  # fmt: skip
    seconds = time.monotonic() - started
    calls: list[dict[str, Any]] = []
    text = ""
    for step in interaction.steps or []:
        kind = getattr(step, "type", None)
        if kind == "function_call":
            calls.append({step.name: dict(step.arguments or {})})
        elif kind == "model_output":
            text += "".join(getattr(c, "text", "") or "" for c in step.content or [])
    usage = getattr(interaction, "usage", None)
    tokens = int(getattr(usage, "total_output_tokens", 0) or 0) if usage else 0
    passed, error = score(entry, calls)
    return Result(entry.id, entry.category, passed, seconds, calls, text[:300], error, tokens)


def summary(results: list[Result], categories: list[str]) -> str:
    lines = [f"{'category':<12} {'passed':>9} {'accuracy':>8} {'s/entry':>8}"]
    rates = []
    for cat in categories:
        rs = [r for r in results if r.category == cat]
        if not rs:
            continue
        passed = sum(r.passed for r in rs)
        rates.append(passed / len(rs))
        lines.append(
            f"{cat:<12} {passed:>4}/{len(rs):<4} {passed / len(rs):8.1%}"
            f" {sum(r.seconds for r in rs) / len(rs):8.1f}"
        )
    if rates:
        lines.append(f"overall (mean of categories): {sum(rates) / len(rates):.1%}")
    lines.append(f"total time {sum(r.seconds for r in results):.0f} s")
    return "\n".join(lines)


def write_json(path: Path, model: str, limit: int | None, results: list[Result]) -> None:
    out = {"model": model, "limit": limit, "results": [asdict(r) for r in results]}
    path.write_text(json.dumps(out, indent=2))


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b", help="a packaged model id")
    parser.add_argument("--categories", default=",".join(CATEGORIES))
    parser.add_argument("--limit", type=int, help="entries per category (every k-th one)")
    parser.add_argument("--ids", help="comma-separated entry ids to run (after --limit)")
    parser.add_argument("--home", type=Path, help="data dir to keep the model in between runs")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--crosscheck", nargs="*", type=Path, metavar="RESULTS_JSON",
        help="no run: compare these AST rules with BFCL's own checker (on the possible answers,"
        " perturbed copies, and the calls in the given result files)",
    )  # fmt: skip
    parser.add_argument(
        "--summarize", nargs="+", type=Path, metavar="RESULTS_JSON",
        help="no run: print the summary of saved results (e.g. of a run stopped early)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.summarize:
        for path in args.summarize:
            saved = json.loads(path.read_text())
            rs = [Result(**r) for r in saved["results"]]
            print(f"{path}: model {saved['model']}, {len(rs)} entries")
            print(summary(rs, list(dict.fromkeys([*CATEGORIES, *(r.category for r in rs)]))))
        return 0
    if args.crosscheck is not None:
        results = [r for p in args.crosscheck for r in json.loads(p.read_text())["results"]]
        print(crosscheck(results))
        return 0
    categories = [c.strip() for c in args.categories.split(",") if c.strip()]
    per_category = [load(c, args.limit) for c in categories]
    # Round robin over the categories, so a run stopped early still covers each of them.
    entries = [e for row in itertools.zip_longest(*per_category) for e in row if e is not None]
    if args.ids:
        wanted = {i.strip() for i in args.ids.split(",")}
        entries = [e for e in entries if e.id in wanted]

    from google import genai

    results: list[Result] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bfcl-") as tmp:
        home = model_home(args.home or Path(tmp), args.model)
        with Engine(home, "--model", args.model, threads=args.threads) as engine:
            client = genai.Client(
                api_key=TOKEN, http_options={"base_url": engine.url, "api_version": "v1beta"}
            )
            for entry in entries:
                r = ask(client, args.model, entry)
                results.append(r)
                mark = "PASS" if r.passed else "fail"
                shown = (
                    json.dumps(r.calls, ensure_ascii=False)[:160] if r.calls else repr(r.text[:80])
                )
                why = f"  [{r.error[:120]}]" if r.error and not r.passed else ""
                print(f"{mark}  {r.id:<18} {r.seconds:5.1f} s  {shown}{why}", flush=True)
                if args.json:  # after every entry: a run stopped early keeps its results
                    write_json(args.json, args.model, args.limit, results)
    print(f"model {args.model}, limit {args.limit or 'all'} per category")
    print(summary(results, categories))
    print(f"wall time {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stops the engine on the way out
    sys.exit(main())
