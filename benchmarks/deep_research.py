"""Deep Research benchmark: a generated corpus with planted facts and 20 questions.

    PYTHONPATH=src .venv/bin/python benchmarks/deep_research.py [--model qwen2.5-coder-0.5b]
        [--limit N] [--home DIR] [--json out.json] [--retrieval]

The corpus (``corpus()``): 30 documents — company profiles (Markdown), a three-page annual
report (PDF, built here), sales tables (CSV), meeting notes and distractors — with facts
planted across them; four questions need two documents combined (a product's maker in one
file, the maker's city or founder in another). Each question is one ``deep-research``
interaction over an environment holding the whole corpus. Measured per question:

* **answer**: every expected word is in the report's "## Answer" section (case-insensitive);
* **citation precision**: cited passages (``custom_metadata.passage`` of each annotation)
  that contain one of the question's planted facts, over all citations;
* **citation recall**: planted facts of the question that some citation points at;
* seconds and total tokens (``usage.total_tokens``).

``--retrieval`` loads no model: it reports, per question, whether the planted facts are in
the passages FTS5 returns (with the second hop) and in the sentences shown to the model.
``--limit N`` runs the first N questions (their order mixes the kinds). The engine is started
as a subprocess (``agent_tasks.Engine``); run it with ``PYTHONPATH=src`` from a worktree.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from agent_tasks import TOKEN, Engine, model_home

AGENT = "deep-research-pro-preview-12-2025"

COMPANIES = [
    # name, founded, city, founder, product
    ("Kestrel Tools", 1971, "Lyon", "Marta Vidal", "Orion drill"),
    ("Bluefin Labs", 2004, "Bergen", "Tomas Lind", "Seastar sensor"),
    ("Corvid Systems", 1993, "Porto", "Ines Ferreira", "Nightjar router"),
    ("Dunmore Foods", 1958, "Cork", "Sean Byrne", "Harvest oat bar"),
    ("Ember Energy", 2011, "Austin", "Lena Park", "Ashcell battery"),
    ("Fenwick Textiles", 1926, "Leeds", "Hugh Fenwick", "Moorland wool"),
]
REGIONS = {"north": (412, 455), "south": (380, 301), "east": (129, 264), "west": (508, 517)}
REVENUE = {2021: "18.4", 2022: "21.7", 2023: "26.9"}


@dataclass(frozen=True)
class Question:
    """A question, the words its answer must hold, and the planted fact sentences."""

    text: str
    answer: tuple[str, ...]
    facts: tuple[str, ...]
    kind: str


def _profile(name: str, founded: int, city: str, founder: str) -> str:
    return (
        f"# {name}\n\n## Company profile\n\n{name} was founded in {founded} by {founder}.\n"
        f"The company headquarters are in {city}.\n\n## Culture\n\nStaff meet every Monday "
        "to review safety, quality and customer letters. Teams rotate desks each quarter.\n"
    )


def _pdf(pages: list[list[str]]) -> bytes:
    """A small text PDF (Helvetica, one text line per entry), one page per list."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids: list[str] = []
    font = 3 + 2 * len(pages)
    for i, lines in enumerate(pages):
        body = "BT /F1 11 Tf 72 720 Td 14 TL " + " ".join(
            f"({ln.replace('(', '').replace(')', '')}) Tj T*" for ln in lines
        )
        stream = (body + " ET").encode()
        page_no, content_no = 3 + 2 * i, 4 + 2 * i
        kids.append(f"{page_no} 0 R")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_no} 0 R "
            f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode()
        )
        objects.append(
            b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream"
        )
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>".encode()
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{off:010d} 00000 n \n".encode() for off in offsets)
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    out += trailer.encode()
    return out


def corpus() -> dict[str, bytes]:
    """The 30 documents, by workspace path."""
    docs: dict[str, bytes] = {}
    for name, founded, city, founder, _ in COMPANIES:
        slug = name.split()[0].lower()
        docs[f"companies/{slug}.md"] = _profile(name, founded, city, founder).encode()
    catalogue = "# Product catalogue\n\n" + "".join(
        f"- The {product} is made by {name}.\n" for name, *_, product in COMPANIES
    )
    docs["catalogue.md"] = catalogue.encode()
    sales = "region,units_2022,units_2023\n" + "".join(
        f"{r},{a},{b}\n" for r, (a, b) in REGIONS.items()
    )
    docs["data/regional_sales.csv"] = sales.encode()
    docs["annual_report.pdf"] = _pdf([
        ["Annual report of Kestrel Tools", "This report covers three financial years."],
        [f"Revenue in {y} was {v} million euros." for y, v in REVENUE.items()],
        ["Outlook", "The board expects steady growth and a new plant in Grenoble in 2025."],
    ])  # fmt: skip
    notes = {
        "notes/2023-03-board.txt": "Board meeting, March 2023.\nThe board approved a budget "
        "of 3.5 million euros for the Grenoble plant.\nThe next meeting is in June.\n",
        "notes/2023-06-board.txt": "Board meeting, June 2023.\nThe chief engineer is Paolo "
        "Serra.\nThe safety audit found no serious issues.\n",
        "notes/hr-2023.txt": "HR summary 2023.\nThe company had 1,240 employees at the end of "
        "2023.\nStaff turnover fell to 6 percent.\n",
        "notes/it-2023.txt": "IT summary 2023.\nThe office network moved to the Nightjar "
        "router in May.\nPasswords now rotate every 90 days.\n",
        "notes/travel.txt": "Travel policy.\nEconomy class for flights under six hours.\nHotel "
        "limit is 140 euros a night.\n",
    }
    docs.update({k: v.encode() for k, v in notes.items()})
    fillers = [
        ("misc/weather.md", "# Weather log\n\nSpring was wet in the north, dry in the south."),
        ("misc/cafeteria.md", "# Cafeteria\n\nSoup of the day changes daily. Coffee is free."),
        ("misc/parking.md", "# Parking\n\nVisitors park on level two. Bikes go by the gate."),
        ("misc/library.md", "# Library\n\nBooks may be borrowed for three weeks."),
        ("misc/garden.md", "# Garden club\n\nThe club plants tulips each October."),
        ("misc/history.md", "# Local history\n\nThe old mill closed in 1911 after a flood."),
        ("misc/sports.md", "# Sports day\n\nThe relay race was won by the finance team."),
        ("misc/music.md", "# Music night\n\nThe choir sang four songs in the main hall."),
        ("misc/recycling.md", "# Recycling\n\nPaper goes in the blue bins, glass in green."),
        ("misc/safety.md", "# Safety\n\nFire drills happen twice a year, in April and in October."),
        ("misc/glossary.md", "# Glossary\n\nA unit is one sold item. A region is a sales area."),
        ("misc/faq.md", "# FAQ\n\nThe help desk opens at eight. Badges are renewed yearly."),
        ("misc/onboarding.md", "# Onboarding\n\nNew staff get a laptop on the first day."),
        ("misc/events.md", "# Events\n\nThe summer party is held by the lake in July."),
        ("misc/printing.md", "# Printing\n\nColour printers are on the third floor."),
        ("misc/mentoring.md", "# Mentoring\n\nEach new engineer meets a mentor every week."),
    ]
    docs.update({k: (v + "\n").encode() for k, v in fillers})
    assert len(docs) == 30, len(docs)
    return docs


def questions() -> list[Question]:
    """20 questions, ordered so that any first N mix the kinds."""
    k, b, c, d, e, f = COMPANIES
    single = [
        Question(f"In which year was {k[0]} founded?", ("1971",), ("founded in 1971",), "fact"),
        Question(f"Who founded {b[0]}?", ("Tomas Lind",), ("by Tomas Lind",), "fact"),
        Question(f"Where are the headquarters of {c[0]}?", ("Porto",), ("are in Porto",), "fact"),
        Question(f"In which year was {d[0]} founded?", ("1958",), ("founded in 1958",), "fact"),
        Question(f"Who founded {e[0]}?", ("Lena Park",), ("by Lena Park",), "fact"),
        Question(f"Where are the headquarters of {f[0]}?", ("Leeds",), ("are in Leeds",), "fact"),
        Question("Who is the chief engineer?", ("Paolo Serra",), ("Paolo Serra",), "notes"),
        Question("How many employees did the company have at the end of 2023?", ("1,240",),
                 ("1,240 employees",), "notes"),
        Question("What budget did the board approve for the Grenoble plant?", ("3.5",),
                 ("3.5 million",), "notes"),
        Question("What is the hotel limit per night in the travel policy?", ("140",),
                 ("140 euros",), "notes"),
    ]  # fmt: skip
    table = [
        Question("How many units did the north region sell in 2023?", ("455",), ("north,412,455",),
                 "table"),
        Question("How many units did the west region sell in 2022?", ("508",), ("west,508,517",),
                 "table"),
        Question("How many units did the east region sell in 2023?", ("264",), ("east,129,264",),
                 "table"),
    ]  # fmt: skip
    pdf = [
        Question("What was the revenue of Kestrel Tools in 2022?", ("21.7",),
                 ("2022 was 21.7",), "pdf"),
        Question("What was the revenue of Kestrel Tools in 2023?", ("26.9",),
                 ("2023 was 26.9",), "pdf"),
        Question("Where will Kestrel Tools build a new plant?", ("Grenoble",),
                 ("plant in Grenoble",), "pdf"),
    ]  # fmt: skip
    combined = [
        Question("In which city is the maker of the Orion drill headquartered?", ("Lyon",),
                 ("Orion drill is made by Kestrel", "are in Lyon"), "two-docs"),
        Question("Who founded the company that makes the Seastar sensor?", ("Tomas Lind",),
                 ("Seastar sensor is made by Bluefin", "by Tomas Lind"), "two-docs"),
        Question("In which year was the maker of the Ashcell battery founded?", ("2011",),
                 ("Ashcell battery is made by Ember", "founded in 2011"), "two-docs"),
        Question("In which city is the maker of the Harvest oat bar headquartered?", ("Cork",),
                 ("Harvest oat bar is made by Dunmore", "are in Cork"), "two-docs"),
    ]  # fmt: skip
    order: list[Question] = []
    pools = [single, table, pdf, combined]
    while any(pools):
        for pool in pools:
            if pool:
                order.append(pool.pop(0))
    return order


@dataclass
class Result:
    """One question's outcome."""

    question: str
    kind: str
    status: str
    correct: bool
    citations: int
    supported: int
    facts_found: int
    facts: int
    seconds: float
    tokens: int
    answer: str = ""
    errors: list[str] = field(default_factory=list)


def environment() -> dict[str, Any]:
    sources = [
        {"type": "inline", "target": path, "content": base64.b64encode(data).decode(),
         "encoding": "base64"}
        for path, data in corpus().items()
    ]  # fmt: skip
    return {"type": "remote", "sources": sources, "network": "disabled"}


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def run_one(http: httpx.Client, q: Question, env: dict[str, Any], limit_s: float) -> Result:
    """One question as a background deep-research interaction, polled to the end."""
    start = time.monotonic()
    body = {"agent": AGENT, "input": q.text, "background": True, "environment": env}
    created = http.post("/v1beta/interactions", json=body, timeout=60)
    created.raise_for_status()
    iid = created.json()["id"]
    while True:
        got = http.get(f"/v1beta/interactions/{iid}", timeout=30).json()
        if got["status"] not in ("queued", "in_progress") or time.monotonic() - start > limit_s:
            break
        time.sleep(1.0)
    seconds = time.monotonic() - start
    if got["status"] in ("queued", "in_progress"):
        http.post(f"/v1beta/interactions/{iid}/cancel", timeout=30)
    outputs = [s for s in got.get("steps") or [] if s.get("type") == "model_output"]
    block = (outputs[-1].get("content") or [{}])[0] if outputs else {}
    text = str(block.get("text") or "")
    answer = text.split("## Answer", 1)[-1].split("\n## ", 1)[0] if "## Answer" in text else ""
    notes = block.get("annotations") or []
    passages = [_norm(str((n.get("custom_metadata") or {}).get("passage", ""))) for n in notes]
    facts = [_norm(f) for f in q.facts]
    supported = sum(1 for p in passages if any(f in p for f in facts))
    found = sum(1 for f in facts if any(f in p for p in passages))
    return Result(
        question=q.text, kind=q.kind, status=got["status"],
        correct=bool(answer) and all(_norm(a) in _norm(answer) for a in q.answer),
        citations=len(notes), supported=supported, facts_found=found, facts=len(facts),
        seconds=seconds, tokens=int((got.get("usage") or {}).get("total_tokens") or 0),
        answer=" ".join(answer.split())[:160],
        errors=[str(e.get("message")) for e in got.get("errors") or []],
    )  # fmt: skip


def summary(results: list[Result]) -> str:
    """Accuracy, citation precision / recall, time and tokens, overall and per kind."""
    if not results:
        return "no results"

    def block(rs: list[Result], label: str) -> str:
        cites = sum(r.citations for r in rs)
        precision = sum(r.supported for r in rs) / cites if cites else 0.0
        recall = sum(r.facts_found for r in rs) / sum(r.facts for r in rs)
        return (
            f"{label:<10} n={len(rs):<3} answer={sum(r.correct for r in rs) / len(rs):6.1%}  "
            f"cit.precision={precision:6.1%} ({cites} citations)  cit.recall={recall:6.1%}  "
            f"s/question={statistics.mean(r.seconds for r in rs):6.1f}  "
            f"tokens/question={statistics.mean(r.tokens for r in rs):7.0f}"
        )

    kinds = sorted({r.kind for r in results})
    return "\n".join(
        [block(results, "all"), *(block([r for r in results if r.kind == k], k) for k in kinds)]
    )


def retrieval() -> str:
    """Where facts are lost before the model: for each question, the planted facts held by
    the passages FTS5 returns (the question's own search, then the second hop), and whether
    the expected answer is in the sentences ``extract.candidates`` shows the model (a table
    row is shown as ``header value`` pairs). No model is loaded."""
    from workbench.engine.research.chunking import Document, chunk_document
    from workbench.engine.research.extract import Weights, bridge_queries, candidates
    from workbench.engine.research.index import PassageIndex
    from workbench.engine.research.sources import read_bytes

    docs = [Document(n, n, "file", read_bytes(d, "", n) or []) for n, d in corpus().items()]
    chunks = [c for i, d in enumerate(docs) for c in chunk_document(i, d)]
    index = PassageIndex()
    index.add(chunks)
    weights = Weights(chunks)
    rows, read_all, shown_all, total = [], 0, 0, 0
    for q in questions():
        hits = [h.chunk for h in index.search(q.text, 4)]
        shown = candidates(q.text, hits, chunks, docs, weights)
        for query in bridge_queries(q.text, shown):
            more = [h.chunk for h in index.search(query, 4)]
            hits += more
            shown += candidates(query, more, chunks, docs, weights)
        passages = [_norm(chunks[i].text) for i in hits]
        sentences = [_norm(s.text) for s in shown]
        facts = [_norm(f) for f in q.facts]
        read = sum(1 for f in facts if any(f in p for p in passages))
        seen = all(any(_norm(a) in t for t in sentences) for a in q.answer)
        read_all, shown_all, total = read_all + read, shown_all + seen, total + len(facts)
        rows.append(f"{q.kind:<8} facts read {read}/{len(facts)}  answer shown {seen!s:<5} "
                    f"{q.text}")  # fmt: skip
    index.close()
    rows.append(f"planted facts in the passages read: {read_all}/{total}; answer in the "
                f"sentences shown: {shown_all}/{len(rows)}")  # fmt: skip
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--model", help="a packaged model id (default: the engine's default)")
    parser.add_argument("--limit", type=int, help="run only the first N questions")
    parser.add_argument("--home", type=Path, help="data dir to keep the model in between runs")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads")
    parser.add_argument("--per-question", type=float, default=300.0, help="seconds per question")
    parser.add_argument("--retrieval", action="store_true",
                        help="only check retrieval and sentence picking (no model)")  # fmt: skip
    args = parser.parse_args()
    if args.retrieval:
        print(retrieval())
        return 0
    from workbench.engine.backends import model_files

    chosen = questions()[: args.limit] if args.limit else questions()
    env = environment()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="deep-research-") as tmp:
        home = args.home or Path(tmp)
        model = args.model or model_files.preferred_model(home / "models").id
        model_home(home, model)
        print(f"model: {model}, questions: {len(chosen)}", flush=True)
        with (
            Engine(home, "--model", model, threads=args.threads) as engine,
            httpx.Client(
                base_url=engine.url, headers={"x-goog-api-key": TOKEN}, trust_env=False
            ) as http,
        ):
            for q in chosen:
                r = run_one(http, q, env, args.per_question)
                mark = "PASS" if r.correct else "fail"
                print(f"{mark} {r.kind:<8} {r.seconds:6.1f} s {r.tokens:6d} tok "
                      f"cites={r.supported}/{r.citations} facts={r.facts_found}/{r.facts} "
                      f"{r.question[:50]!r} -> {r.answer[:90]!r}", flush=True)  # fmt: skip
                results.append(r)
    print(summary(results))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
