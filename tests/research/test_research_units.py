"""The research package's parts: chunk positions, the FTS5 index, claim checks, the report."""

from __future__ import annotations

import sys
from pathlib import Path

from workbench.engine.research.chunking import Chunk, Document, Page, chunk_document
from workbench.engine.research.claims import NO_SOURCE, Claim, check, key_values, split_claims
from workbench.engine.research.extract import Weights, bridge_queries, candidates
from workbench.engine.research.index import PassageIndex, fts_query
from workbench.engine.research.plan import parse_plan_lines, plan_from_text, plan_text
from workbench.engine.research.report import Finding, build
from workbench.engine.research.sources import read_bytes

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from deep_research import _pdf, corpus, questions


def test_pdf_pages_and_line_positions_are_kept() -> None:
    pages = read_bytes(_pdf([["Intro line", "second"], ["Revenue was 9 million."]]), "", "r.pdf")
    assert pages is not None and [p.number for p in pages] == [1, 2]
    chunks = chunk_document(0, Document("r.pdf", "r.pdf", "file", pages))
    found = next(c for c in chunks if "Revenue" in c.text)
    assert (found.page, found.line_start, found.line_end) == (2, 1, 1)


def test_chunks_are_whole_lines_with_their_numbers() -> None:
    text = "\n".join(f"line {i} " + "word " * 30 for i in range(1, 11))
    chunks = chunk_document(0, Document("a.md", "a.md", "file", [Page(text)]), target_words=70)
    assert [(c.line_start, c.line_end) for c in chunks][:2] == [(1, 2), (3, 4)]
    lines = text.splitlines()
    for c in chunks:
        assert c.text == "\n".join(ln.rstrip() for ln in lines[c.line_start - 1 : c.line_end])


def test_index_ranks_with_bm25_and_survives_fts_syntax() -> None:
    docs = [
        Page("The Orion drill is made by Kestrel."),
        Page("Drills are tools. Tools are useful."),
    ]
    chunks = [
        c for i, p in enumerate(docs) for c in chunk_document(i, Document("d", "d", "file", [p]))
    ]
    index = PassageIndex()
    index.add(chunks)
    hits = index.search('Who makes the "Orion" drill? AND OR NEAR(', limit=2)
    assert hits[0].chunk == 0
    assert fts_query("the of and") is None
    assert index.search("nothing here matches zzz") == []


def test_citations_kept_only_when_shown_and_related() -> None:
    claims = split_claims("Acme was founded in 1987 [1][7]. It sells valves [2]. Mars is red [1].")
    shown = {1: "Acme was founded in 1987 in Tucson.", 2: "The weather was wet."}
    checked = check(claims, shown)
    assert [(c.text, c.cited) for c in checked] == [
        ("Acme was founded in 1987.", [1]),
        ("It sells valves.", []),
        ("Mars is red.", []),
    ]
    assert split_claims("NONE") == [] and split_claims("[2] [1971]") == [Claim("1971", [2])]


def test_report_annotations_are_byte_offsets_of_cited_sentences() -> None:
    doc = Document("café/notes.md", "environments/e/files/café/notes.md", "file",
                   [Page("Le café ouvre à 8 h — tous les jours.")])  # fmt: skip
    chunks = chunk_document(0, doc)
    answer = [Claim("Le café ouvre à 8 h — tous les jours.", [5]), Claim("Il ferme tard.", [])]
    report = build("Quand ?", answer, [Finding("Quand ?", answer)], ["x: budget"], {5: 0},
                   chunks, [doc])  # fmt: skip
    raw = report.text.encode("utf-8")
    assert len(report.annotations) == 2  # the answer and the finding
    for note in report.annotations:
        assert raw[note["start_index"] : note["end_index"]].decode() == answer[0].text
        assert note["file_name"] == "café/notes.md" and note["custom_metadata"]["reference"] == 1
    assert f"Il ferme tard. {NO_SOURCE}" in report.text
    assert "[1] café/notes.md, line 1" in report.text and "## What is missing" in report.text
    assert report.markdown.endswith(
        '[1]: <environments/e/files/café/notes.md> "café/notes.md, line 1"\n'
    )


def test_plan_round_trip_and_model_lists() -> None:
    text = plan_text("Q?", ["Q?", "Where is it?"], "2 documents")
    assert plan_from_text(text) == ["Q?", "Where is it?"]
    listed = "1. Who made it?\n- Who made it?\nStage: plan.\n2) When?\n3) When did it open?"
    assert parse_plan_lines(listed, 4) == ["Who made it?", "When did it open?"]


def test_benchmark_corpus_plants_every_fact() -> None:
    docs = corpus()
    assert len(docs) == 30 and len(questions()) == 20
    text = " ".join(
        " ".join(p.text for p in read_bytes(data, "", name) or []) for name, data in docs.items()
    )
    flat = " ".join(text.lower().split())
    for q in questions():
        for fact in q.facts:
            assert " ".join(fact.lower().split()) in flat, fact


def _corpus_run() -> tuple[list[Document], list[Chunk], PassageIndex, Weights]:
    docs = [
        Document(name, name, "file", read_bytes(data, "", name) or [])
        for name, data in corpus().items()
    ]
    chunks = [c for i, d in enumerate(docs) for c in chunk_document(i, d)]
    index = PassageIndex()
    index.add(chunks)
    return docs, chunks, index, Weights(chunks)


def _best(question: str, query: str = "") -> list[str]:
    docs, chunks, index, weights = _corpus_run()
    hits = [h.chunk for h in index.search(query or question, 4)]
    return [s.text for s in candidates(query or question, hits, chunks, docs, weights)]


def test_table_rows_are_read_as_header_value_pairs_cut_to_the_asked_column() -> None:
    best = _best("How many units did the north region sell in 2023?")
    assert best[0] == "(data/regional_sales.csv) region north, units_2023 455"


def test_candidates_carry_the_document_title_and_skip_headings() -> None:
    best = _best("What was the revenue of Kestrel Tools in 2022?")
    assert best[0] == "(Annual report of Kestrel Tools) Revenue in 2022 was 21.7 million euros."
    assert "Kestrel Tools" not in best and "Annual report of Kestrel Tools" not in best
    # A sentence that covers too little of the question is no candidate.
    assert not any("founded" in s for s in best)


def test_two_document_question_gets_a_second_hop_to_the_maker() -> None:
    question = "In which city is the maker of the Orion drill headquartered?"
    docs, chunks, index, weights = _corpus_run()
    hits = [h.chunk for h in index.search(question, 4)]
    first = candidates(question, hits, chunks, docs, weights)
    assert first[0].text == "(Product catalogue) The Orion drill is made by Kestrel Tools."
    hops = bridge_queries(question, first)
    assert hops == ["Kestrel Tools city maker headquartered"]
    assert "(Kestrel Tools) The company headquarters are in Lyon." in _best(question, hops[0])
    # A question the best sentence already covers needs no second hop.
    founder = "Who founded Bluefin Labs?"
    hits = [h.chunk for h in index.search(founder, 4)]
    assert bridge_queries(founder, candidates(founder, hits, chunks, docs, weights)) == []


def test_verified_citations_need_the_claims_figures_and_names() -> None:
    shown = {
        1: "The Orion drill is made by Kestrel Tools.",
        2: "Kestrel Tools was founded in 1971 by Marta Vidal.\nThe company headquarters are in Lyon.",
        3: "The company had 1,240 employees at the end of 2023.",
    }
    q = "In which city is the maker of the Orion drill headquartered?"
    claims = split_claims("Lyon [1]. It is made by Kestrel Tools in Lyon [3]. Paris [2].")
    checked = check(claims, shown, q)
    # The wrong number is replaced by the passage that holds the name; a claim needing two
    # passages cites both; a name no passage holds keeps no citation at all.
    assert [c.cited for c in checked] == [[2], [1, 2], []]
    assert check(split_claims("It had 1240 employees [3]."), shown)[0].cited == [3]
    assert check(split_claims("It had 1,250 employees [3]."), shown)[0].cited == []
    assert key_values("Revenue in 2022 was 21.7 million.", "revenue in 2022") == {"#21.7"}


def test_a_copied_list_of_facts_keeps_each_lines_own_number() -> None:
    reply = "[1] Revenue in 2022 was 21.7 million.\n[3] Kestrel Tools was founded in 1971.\n[2]"
    assert [(c.text, c.cited) for c in split_claims(reply)] == [
        ("Revenue in 2022 was 21.7 million.", [1]),
        ("Kestrel Tools was founded in 1971.", [3, 2]),
    ]
    assert split_claims("Founded in 1971 [1]. [2] It is in Lyon.")[0].cited == [1, 2]
    echoed = "Stage: answer.\nNotes:\n- Lyon is the city [2].\nUsing only these notes, answer."
    assert split_claims(echoed) == [Claim("Lyon is the city.", [2])]


def test_run_on_plan_lines_are_split_and_long_ones_dropped() -> None:
    text = "What was X in 2021? What was X in 2020?\n" + "word " * 30 + "?"
    assert parse_plan_lines(text, 4) == ["What was X in 2021?", "What was X in 2020?"]


def test_an_answer_naming_only_the_go_between_stops_halfway() -> None:
    import asyncio

    from workbench.engine.backends.scripted import ScriptedBackend
    from workbench.engine.research.loop import ResearchLoop
    from workbench.engine.research.plan import ResearchLimits, ResearchSettings

    loop = ResearchLoop(
        backend=ScriptedBackend(), model="m", out=None,  # type: ignore[arg-type]
        limits=ResearchLimits(), settings=ResearchSettings(), cancel=asyncio.Event(),
    )  # fmt: skip
    q = "In which city is the maker of the Harvest oat bar headquartered?"
    assert not loop._halfway(Claim("The maker is Dunmore Foods.", [1]), q)  # no hop yet
    loop.hops = {"dunmo", "foods"}
    assert loop._halfway(Claim("The maker of the Harvest oat bar is Dunmore Foods.", [1]), q)
    assert not loop._halfway(Claim("Dunmore Foods is headquartered in Cork.", [2]), q)
