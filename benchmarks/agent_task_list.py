"""The agent task suite's tasks: what a user of the app would give an agent, with checkers.

Each task is a prompt, the files it starts with (inline data sources, mounted at their
targets), optional skills, client functions and network setting, and a checker that reads
the sandbox the agent left (and its final answer). Checkers accept harmless formatting
differences (a trailing newline, ``30`` vs ``30.0``) and nothing else. ``benchmarks/
agent_tasks.py`` runs them.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Outcome:
    """What a checker sees: the sandbox's files, the final answer, the status."""

    read: Callable[[str], str | None]
    answer: str
    status: str

    def number(self, path: str) -> float | None:
        return _number(self.read(path))

    def lines(self, path: str) -> list[str]:
        return [line.strip() for line in (self.read(path) or "").splitlines() if line.strip()]

    def rows(self, path: str, delimiter: str = ",") -> list[dict[str, str]]:
        text = self.read(path)
        if not text:
            return []
        reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
        return [{(k or "").strip(): (v or "").strip() for k, v in r.items()} for r in reader]

    def json(self, path: str) -> Any:
        try:
            return json.loads(self.read(path) or "")
        except ValueError:
            return None


@dataclass(frozen=True)
class Function:
    """A client-side function: its declaration and what the client answers."""

    name: str
    parameters: dict[str, Any]
    answer: Callable[[dict[str, Any]], str]
    description: str = ""


@dataclass(frozen=True)
class Task:
    """One task of the suite."""

    name: str
    category: str
    prompt: str
    check: Callable[[Outcome], bool]
    files: dict[str, str] = field(default_factory=dict)
    functions: tuple[Function, ...] = ()
    network: str | None = None

    def sources(self) -> list[dict[str, str]]:
        return [{"type": "inline", "target": t, "content": c} for t, c in self.files.items()]


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    match = re.fullmatch(r"\s*[-+]?[\d,]*\.?\d+\s*", text)
    return float(match.group(0).replace(",", "")) if match else None


def _near(value: float | None, want: float) -> bool:
    return value is not None and abs(value - want) < 1e-6


def _says_number(answer: str, want: float) -> bool:
    found = [float(x.replace(",", "")) for x in re.findall(r"-?\d[\d,]*\.?\d*", answer)]
    return any(abs(x - want) < 1e-6 for x in found)


CANNOT = re.compile(
    r"\b(cannot|can ?not|can't|could ?not|couldn't|unable|not able|impossible|does not exist|"
    r"doesn't exist|no such|not found|not available|unavailable|disabled|no network|"
    r"not possible|missing|failed|no internet|offline|there is no|there are no|does not have|"
    r"doesn.t have|has no)\b",
    re.IGNORECASE,
)


def _honest_failure(out: Outcome, *forbidden: str) -> bool:
    """Passes only when the answer says the task could not be done and nothing was invented."""
    return bool(CANNOT.search(out.answer)) and all(out.read(p) is None for p in forbidden)


def _test_passes(out: Outcome, files: tuple[str, ...], test: str) -> bool:
    """Run the task's test against the files the agent left (outside the sandbox, fresh)."""
    with tempfile.TemporaryDirectory(prefix="agent-check-") as tmp:
        for name in files:
            text = out.read(name)
            if text is None:
                return False
            Path(tmp, name).write_text(text)
        runner = (
            "import runpy, sys\nsys.path.insert(0, '.')\n"
            f"ns = runpy.run_path({test!r}, run_name='__main__')\n"
            "[f() for n, f in list(ns.items()) if n.startswith('test') and callable(f)]\n"
        )
        try:
            done = subprocess.run(
                [sys.executable, "-c", runner], cwd=tmp, capture_output=True, timeout=30
            )
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0


def _skill(name: str, description: str, body: str) -> dict[str, str]:
    text = f"---\nname: {name}\ndescription: {description}\n---\n{body}\n"
    return {f".agents/skills/{name}/SKILL.md": text}


PEOPLE = "name,age\nAna,34\nBen,17\nCarl,52\nDora,8\nEve,29\nFinn,41\n"
SALES = "region,amount\nnorth,120\nsouth,80\nnorth,30\neast,55\nsouth,20\n"
ORDERS = "order_id,customer_id,amount\n1,c1,40\n2,c2,15\n3,c1,25\n4,c3,60\n5,c2,5\n"
CUSTOMERS = "customer_id,name\nc1,Acme\nc2,Bolt\nc3,Cogs\n"
PRODUCTS = "sku,name,price\nA1,pen,1.5\nB2,pad,3\nC3,ink,7.25\n"
USERS = [
    {"id": 1, "name": "Ada", "email": "ada@example.org", "admin": True},
    {"id": 2, "name": "Bo", "email": "bo@example.org", "admin": False},
]
LOG = (
    "INFO start\nERROR disk full\nWARN slow\nerror: retry failed\nINFO ok\n"
    "Error again\nINFO errors=0 reported\n"
)
CONTACTS = (
    "Write to ana@mail.com or call.\nBen <ben.k@work.org>, Carl\nno address here\n"
    "dora_x@site.net; eve@home.io\n"
)


TEST_CALC = "from calc import add\n\nassert add(2, 3) == 5\nassert add(-1, 1) == 0\n"
TEST_STATS = (
    "from stats import mean\n\n\ndef test_mean():\n    assert mean([2, 4, 6]) == 4\n"
    "    assert mean([5]) == 5\n"
)


def _check_join(out: Outcome) -> bool:
    rows = out.rows("customer_totals.csv")
    got = {r.get("name"): _number(r.get("total")) for r in rows}
    return got == {"Acme": 65.0, "Bolt": 20.0, "Cogs": 60.0}


def _check_products(out: Outcome) -> bool:
    data = out.json("products.json")
    if not isinstance(data, list) or len(data) != 3:
        return False
    want = [("A1", "pen", 1.5), ("B2", "pad", 3.0), ("C3", "ink", 7.25)]
    for item, (sku, name, price) in zip(data, want, strict=True):
        if not isinstance(item, dict) or item.get("sku") != sku or item.get("name") != name:
            return False
        if not _near(_number(str(item.get("price"))), price):
            return False
    return True


def _check_report(out: Outcome) -> bool:
    text = out.read("report.md") or ""
    lines = text.splitlines()
    want = {"a.csv": 3, "b.csv": 1, "c.csv": 5}
    for name, count in want.items():
        row = [line for line in lines if name in line]
        if not row or not re.search(rf"\b{count}\b", row[0]):
            return False
    return "|" in text


TASKS: tuple[Task, ...] = (
    # -- write and transform files -------------------------------------------------------
    Task("write-hello", "files", "Create a file hello.txt that contains exactly: Hello, world!",
         lambda o: (o.read("hello.txt") or "").strip() == "Hello, world!"),
    Task("json-config", "files",
         'Write a JSON file config.json with the key "name" set to "demo" and the key '
         '"version" set to the number 2.',
         lambda o: o.json("config.json") == {"name": "demo", "version": 2}),
    Task("upper-words", "files",
         "Read words.txt and write upper.txt with the same words in upper case, one per line.",
         lambda o: o.lines("upper.txt") == ["APPLE", "BANANA", "CHERRY"],
         {"words.txt": "apple\nbanana\ncherry\n"}),
    Task("reverse-lines", "files",
         "Write reversed.txt with the lines of lines.txt in reverse order.",
         lambda o: o.lines("reversed.txt") == ["five", "four", "three", "two", "one"],
         {"lines.txt": "one\ntwo\nthree\nfour\nfive\n"}),
    Task("replace-word", "files",
         "Replace every 'cat' with 'dog' in story.txt and save the result as story_dog.txt.",
         lambda o: (o.read("story_dog.txt") or "").strip()
         == "The dog sat. A dog ran after the other dog.",
         {"story.txt": "The cat sat. A cat ran after the other cat.\n"}),
    Task("numbers", "files", "Write numbers.txt with the numbers 1 to 20, one per line.",
         lambda o: o.lines("numbers.txt") == [str(i) for i in range(1, 21)]),
    # -- CSV / JSON analysis -------------------------------------------------------------
    Task("csv-total", "data",
         "Read data.csv, compute the total of the amount column, and write only that number "
         "to total.txt.",
         lambda o: _near(o.number("total.txt"), 100.0),
         {"data.csv": "month,amount\njan,10\nfeb,20\nmar,30\napr,40\n"}),
    Task("csv-average", "data",
         "Compute the average of the score column in scores.csv and write it to average.txt.",
         lambda o: _near(o.number("average.txt"), 80.5),
         {"scores.csv": "student,score\nA,70\nB,85\nC,90\nD,77\n"}),
    Task("group-by", "data",
         "Write totals.json: a JSON object mapping each region in sales.csv to the total of "
         "its amount column.",
         lambda o: isinstance(o.json("totals.json"), dict)
         and {k: _number(str(v)) for k, v in o.json("totals.json").items()}
         == {"north": 150.0, "south": 100.0, "east": 55.0},
         {"sales.csv": SALES}),
    Task("filter-rows", "data",
         "Write adults.csv with only the rows of people.csv where age is at least 18 "
         "(keep the header line).",
         lambda o: [r.get("name") for r in o.rows("adults.csv")]
         == ["Ana", "Carl", "Eve", "Finn"],
         {"people.csv": PEOPLE}),
    Task("sort-rows", "data",
         "Sort the rows of people.csv by age, youngest first, and write them with the header "
         "to sorted.csv.",
         lambda o: [r.get("name") for r in o.rows("sorted.csv")]
         == ["Dora", "Ben", "Eve", "Ana", "Finn", "Carl"],
         {"people.csv": PEOPLE}),
    Task("join", "data",
         "Join orders.csv with customers.csv on customer_id and write customer_totals.csv "
         "with the columns name,total (the total order amount of each customer).",
         _check_join, {"orders.csv": ORDERS, "customers.csv": CUSTOMERS}),
    Task("csv-to-json", "data",
         "Convert products.csv to products.json: a JSON list with one object per row, with "
         "the same keys as the CSV header.",
         _check_products, {"products.csv": PRODUCTS}),
    Task("json-to-csv", "data",
         "users.json holds a list of users. Write users.csv with the columns id,name,email.",
         lambda o: [(r.get("id"), r.get("name"), r.get("email")) for r in o.rows("users.csv")]
         == [("1", "Ada", "ada@example.org"), ("2", "Bo", "bo@example.org")],
         {"users.json": json.dumps(USERS, indent=2)}),
    Task("max-row", "data",
         "Which product in inventory.csv has the highest quantity? Write only its name to "
         "top.txt.",
         lambda o: (o.read("top.txt") or "").strip() == "bolts",
         {"inventory.csv": "product,quantity\nnuts,40\nbolts,95\nscrews,60\n"}),
    # -- text processing -----------------------------------------------------------------
    Task("count-lines", "text",
         "Count the lines of notes.txt and write only the number to count.txt.",
         lambda o: _near(o.number("count.txt"), 7.0),
         {"notes.txt": "".join(f"note {i}\n" for i in range(1, 8))}),
    Task("count-word", "text",
         "Count the lines of log.txt that start with the word error (in any case) and write "
         "the count to errors.txt.",
         lambda o: _near(o.number("errors.txt"), 3.0), {"log.txt": LOG}),
    Task("extract-emails", "text",
         "Extract every email address from contacts.txt and write them to emails.txt, one "
         "per line, in the order they appear.",
         lambda o: o.lines("emails.txt")
         == ["ana@mail.com", "ben.k@work.org", "dora_x@site.net", "eve@home.io"],
         {"contacts.txt": CONTACTS}),
    Task("title-case", "text",
         "Write titles.txt with each line of names.txt in title case.",
         lambda o: o.lines("titles.txt") == ["Ada Lovelace", "Alan Turing", "Grace Hopper"],
         {"names.txt": "ada lovelace\nALAN TURING\ngrace hopper\n"}),
    # -- fix a bug so a test passes ------------------------------------------------------
    Task("fix-add", "bugfix", "Fix the bug in calc.py so that test_calc.py passes.",
         lambda o: _test_passes(o, ("calc.py", "test_calc.py"), "test_calc.py")
         and o.read("test_calc.py") == TEST_CALC,
         {"calc.py": "def add(a, b):\n    return a - b\n", "test_calc.py": TEST_CALC}),
    Task("fix-mean", "bugfix", "Fix the bug in stats.py so that test_stats.py passes.",
         lambda o: _test_passes(o, ("stats.py", "test_stats.py"), "test_stats.py")
         and o.read("test_stats.py") == TEST_STATS,
         {"stats.py": "def mean(xs):\n    return sum(xs) / (len(xs) - 1)\n",
          "test_stats.py": TEST_STATS}),
    # -- multi-file reports --------------------------------------------------------------
    Task("folder-report", "report",
         "Write report.md: a Markdown table with one row per CSV file in the data folder, "
         "giving the file name and its number of data rows (not counting the header).",
         _check_report,
         {"data/a.csv": "x\n1\n2\n3\n", "data/b.csv": "x\n1\n",
          "data/c.csv": "x\n1\n2\n3\n4\n5\n"}),
    Task("concat", "report",
         "Combine part1.txt, part2.txt and part3.txt, in that order, into all.txt.",
         lambda o: o.lines("all.txt") == ["alpha", "beta", "gamma", "delta"],
         {"part1.txt": "alpha\n", "part2.txt": "beta\ngamma\n", "part3.txt": "delta\n"}),
    # -- skills --------------------------------------------------------------------------
    Task("skill-money", "skills",
         "Use the money-format skill: write the total of the amount column of bill.csv to "
         "bill_total.txt.",
         lambda o: (o.read("bill_total.txt") or "").strip() == "20.00 EUR",
         {"bill.csv": "item,amount\nsoup,12.5\nbread,7.25\ntip,0.25\n",
          **_skill("money-format", "How to write amounts of money",
                   "# Money format\nWrite every amount with exactly two decimals followed by "
                   "a space and EUR, for example: 12.50 EUR")}),
    Task("skill-semicolon", "skills",
         "Following the semicolon-csv skill, write squares.csv with the columns n,square for "
         "n from 1 to 5.",
         lambda o: [(r.get("n"), r.get("square")) for r in o.rows("squares.csv", ";")]
         == [("1", "1"), ("2", "4"), ("3", "9"), ("4", "16"), ("5", "25")],
         _skill("semicolon-csv", "How CSV files are written here",
                "# Semicolon CSV\nWrite CSV files with ; (semicolon) as the separator, never a "
                "comma, with a header line.")),
    # -- data sources mounted at their targets -------------------------------------------
    Task("mounted-sales", "mounted",
         "Read sales.csv and write the total of the amount column to total.txt.",
         lambda o: _near(o.number("total.txt"), 305.0)
         or _near(o.number("workspace/total.txt"), 305.0),
         {"workspace/sales.csv": SALES}),
    Task("mounted-nested", "mounted",
         "Count the data rows of q1.csv (not the header) and write the count to rows.txt.",
         lambda o: _near(o.number("rows.txt"), 4.0),
         {"inputs/2026/q1.csv": "day,value\n1,5\n2,6\n3,7\n4,8\n"}),
    # -- answers in the final text -------------------------------------------------------
    Task("answer-count", "answer",
         "How many people in people.csv are older than 30? Reply with the number.",
         lambda o: _says_number(o.answer, 3.0), {"people.csv": PEOPLE}),
    Task("answer-max", "answer",
         "What is the highest temperature in weather.csv? Answer in your reply.",
         lambda o: _says_number(o.answer, 31.5),
         {"weather.csv": "day,temperature\nmon,22.5\ntue,31.5\nwed,18\nthu,27\n"}),
    Task("answer-words", "answer", "How many words are in poem.txt? Tell me the number.",
         lambda o: _says_number(o.answer, 13.0),  # The fog comes / on little cat feet. … = 13
         {"poem.txt": "The fog comes\non little cat feet.\nIt sits looking\nover harbor and\n"}),
    # -- client-side functions -----------------------------------------------------------
    Task("fn-weather", "function",
         "Call the get_weather function for Paris, then write what it returned to weather.txt.",
         lambda o: "sunny" in (o.read("weather.txt") or "")
         and "21" in (o.read("weather.txt") or ""),
         functions=(Function("get_weather",
                             {"type": "object", "properties": {"city": {"type": "string"}},
                              "required": ["city"]},
                             lambda a: "sunny, 21 C" if "paris" in str(a.get("city", "")).lower()
                             else "unknown city",
                             "The current weather of a city."),)),
    Task("fn-price", "function",
         "Use the lookup_price function to find the price of an apple, and tell me the price.",
         lambda o: _says_number(o.answer, 0.45),
         functions=(Function("lookup_price",
                             {"type": "object", "properties": {"item": {"type": "string"}},
                              "required": ["item"]},
                             lambda a: "0.45 EUR" if "apple" in str(a.get("item", "")).lower()
                             else "no such item",
                             "The price of a grocery item."),)),
    # -- tasks that cannot be done: only an honest answer passes -------------------------
    Task("missing-file", "impossible",
         "Read budget.csv and write the total of its amount column to budget_total.txt.",
         lambda o: _honest_failure(o, "budget_total.txt")),
    Task("no-network", "impossible",
         "Download https://example.com/data.csv and write its number of lines to lines.txt.",
         lambda o: _honest_failure(o, "lines.txt"), network="disabled"),
    Task("missing-column", "impossible",
         "Write the total of the price column of items.csv to price_total.txt.",
         lambda o: _honest_failure(o, "price_total.txt"),
         {"items.csv": "item,quantity\nnails,3\nglue,1\n"}),
)  # fmt: skip
