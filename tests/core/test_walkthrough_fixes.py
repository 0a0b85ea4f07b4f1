"""Core pieces behind the issue-19 fixes: run verdicts, attribution, what a target reads,
plain-words errors with details, the text-attachment wrapper, export without usage."""

from __future__ import annotations

from typing import Any

from workbench.client import InvalidRequestError, ModelInfo
from workbench.core import attachments as A
from workbench.core.attachments import from_bytes, name_filters, wrap_text, wrapped_name
from workbench.core.capabilities import input_kinds, reading_note, refusal
from workbench.core.errors import details, explain, split_location
from workbench.core.export import turn_markdown
from workbench.core.run_outcome import answered_by, assess, final_answer, states_failure
from workbench.core.transcript import read_turn, usage_line, user_parts


def _answer(text: str, status: str = "completed") -> dict[str, Any]:
    return {
        "status": status,
        "steps": [
            {"type": "user_input", "content": [{"type": "text", "text": "do it"}]},
            {"type": "function_call", "id": "c1", "name": "read_file", "arguments": {}},
            {"type": "model_output", "content": [{"type": "text", "text": text}]},
        ],
    }


def test_a_completed_run_that_says_it_failed_is_not_done() -> None:
    said = "I could not read sales.csv, so total.txt was not written."
    outcome = assess("completed", _answer(said))
    assert outcome.verdict == "not_done" and outcome.answer == said
    assert assess("completed", _answer("The total is 42; it is in total.txt.")).verdict == (
        "finished"
    )
    assert assess("failed", _answer("partial")).verdict == "not_done"
    assert "failed" in assess("failed", _answer("partial")).reason
    assert assess("in_progress", {}).verdict == ""
    for words in (
        "I couldn't find the file.",
        "Unable to complete the task: the input is missing.",
        "The task was not completed.",
        "I was unable to write total.txt.",
    ):
        assert states_failure(words), words
    for words in ("The log says: could not connect to db at 03:00.", "Done: 3 rows summed."):
        assert not states_failure(words), words
    assert final_answer({"steps": []}) == ""


def test_the_answer_is_attributed_to_the_model_that_produced_it() -> None:
    agent = "antigravity-preview-05-2026"
    assert answered_by({"agent": agent, "model": "qwen2.5-coder-0.5b"}) == "qwen2.5-coder-0.5b"
    echoed = {"agent": agent, "agent_config": {"type": "antigravity", "model": "scripted"}}
    assert answered_by(echoed) == "scripted"
    assert answered_by({}, {"agent": agent}) == agent  # nothing better is known
    assert answered_by({}, {"model": "gemini-3-flash-preview"}) == "gemini-3-flash-preview"


def _models() -> list[ModelInfo]:
    return [
        ModelInfo.model_validate({"name": "models/scripted", "inputModalities": ["text", "image"]}),
        ModelInfo.model_validate({"name": "models/scripted-text", "inputModalities": ["text"]}),
        ModelInfo.model_validate({"name": "models/gemini-x"}),
    ]


def test_what_a_target_reads_and_why_not_in_plain_words() -> None:
    models = _models()
    assert input_kinds(models, "scripted-text") == {"text", "document"}
    assert "image" in input_kinds(models, "scripted")
    assert input_kinds(models, "gemini-x") == {"image", "audio", "video", "document", "text"}
    assert input_kinds(models, "scripted-text", "agent") >= {"image"}  # the server decides
    assert refusal("text", "a.txt", "scripted-text", models) is None
    said = refusal("image", "cat.png", "scripted-text", models)
    assert said is not None
    assert "cat.png" in said and "scripted-text reads only text" in said
    assert "for example scripted" in said and "steps[" not in said
    # The local engine derives text from pictures, sound and video for a text-only model.
    for kind in ("image", "audio", "video"):
        assert refusal(kind, "f", "scripted-text", models, local=True) is None
    assert input_kinds(models, "scripted-text", local=True) == set(A.KINDS_ALL)
    note = reading_note("video", "talk.mp4", "scripted-text", models, local=True)
    assert note is not None and note.startswith("scripted-text does not watch video")
    assert "transcript" in note and "OCR" in note
    assert reading_note("image", "a.png", "scripted", models, local=True) is None  # reads it
    assert reading_note("image", "a.png", "scripted-text", models) is None  # not local
    agent = reading_note("audio", "m.wav", "antigravity", [], "agent", local=True)
    assert agent is None  # an agent is taken to read everything: no note
    nobody = refusal("audio", "talk.wav", "scripted-text", models[:2])
    assert nobody is not None and "No model on this server reads audio" in nobody
    filters = name_filters({"text", "document"})
    assert filters[0].startswith("Files this target reads (") and "*.pdf" in filters[0]
    assert not any(f.startswith("Images") for f in filters) and filters[-1] == "All files (*)"


def test_server_paths_go_to_details_not_to_the_message() -> None:
    told = "steps[0].content[1]: model 'qwen' cannot read image content; describe the image"
    exc = InvalidRequestError("bad", status=400, body={"error": {"message": told}})
    words = explain(exc)
    assert "steps[0]" not in words and "cannot read image content" in words
    assert words.startswith("The server refused the request:")
    assert "HTTP 400" in details(exc) and "steps[0].content[1]" in details(exc)
    assert split_location("generation_config.temperature must be ≤ 2") == (
        "",
        "generation_config.temperature must be ≤ 2",
    )


def test_text_attachments_show_as_chips_not_as_the_wrapper() -> None:
    att = from_bytes("list.txt", b"milk\n```\neggs\n")
    block = att.to_content()
    assert block["text"] == wrap_text("list.txt", "milk\n```\neggs\n")
    assert wrapped_name(block["text"]) == "list.txt"
    assert wrapped_name("File `x`: just words") is None
    text, media = user_parts(
        [{"type": "user_input", "content": [{"type": "text", "text": "hi"}, block]}]
    )
    assert text == "hi" and media == ["list.txt (text)"]


def test_copy_as_markdown_leaves_out_the_usage_line() -> None:
    data = {
        "id": "i1",
        "status": "completed",
        "steps": [{"type": "model_output", "content": [{"type": "text", "text": "Hi"}]}],
        "usage": {"total_input_tokens": 3, "total_output_tokens": 1},
    }
    view = read_turn(data, [])
    assert "<sub>" in turn_markdown(view)
    assert turn_markdown(view, usage=False) == "Hi"


def test_a_slow_answer_says_why() -> None:
    line = usage_line({"total_output_tokens": 10}, {"shared_runs": 1, "generation_seconds": 4})
    assert "the engine was also working on 1 background run" in line
