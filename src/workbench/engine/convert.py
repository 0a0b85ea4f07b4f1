"""Steps ⇄ backend: history steps → chat messages, backend chunks → steps and events.

``to_messages`` turns a timeline of steps into the plain chat messages of a
``GenerationRequest``. ``OutputAssembler`` turns the chunks a backend yields into output steps
and the ``step.start`` / ``step.delta`` / ``step.stop`` events that describe them, so that
folding the events of an index gives exactly the stored step (protocol.md §6.5, §11.25).
``fold_events`` is that fold, used to rebuild steps from a log after a crash.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from workbench.protocol import join_code_output

from .backends.base import GenerationRequest, Message, ModelInfo, ToolCall, UsageChunk
from .create_request import CreateRequest
from .inputs import content_parts, result_text
from .parsing import THINKING_BUDGETS

NO_RESULT = "(no result was sent for this call)"
IDENTITY_FIELDS = ("id", "call_id", "name", "server_name")
"""Fields that travel in ``step.start`` only; deltas never carry them (protocol.md §6.5)."""


def new_call_id() -> str:
    """A fresh function call id."""
    return "call_" + secrets.token_hex(8)


def to_messages(
    steps: Iterable[dict[str, Any]],
    *,
    model: ModelInfo,
    where: str = "input",
    notes: list[str] | None = None,
    notes_from: int = 0,
) -> list[Message]:
    """Chat messages for a timeline of steps; 400 for content the model cannot use.

    Media the model cannot take is replaced by derived text (``inputs.content_parts``); the
    notes saying so for steps from index ``notes_from`` on (the new input, not the history
    already answered) are appended to ``notes``.

    Thoughts and server-side tool steps carry nothing a chat backend can take and are
    skipped. Consecutive ``model_output`` and ``function_call`` steps merge into one
    assistant message; every call gets a ``tool`` message (a placeholder when no result
    was sent), as chat templates require.
    """
    messages: list[Message] = []
    for i, step in enumerate(steps):
        here = f"{where}[{i}]"
        kind = step.get("type")
        if kind == "user_input":
            parts = content_parts(
                step.get("content") or [], here, model=model.id, modalities=model.modalities
            )
            if notes is not None and i >= notes_from:
                notes.extend(parts.notes)
            messages.append(Message(role="user", text=parts.text, images=tuple(parts.images)))
        elif kind == "model_output":
            texts = [
                str(b.get("text", ""))
                for b in step.get("content") or []
                if isinstance(b, dict) and b.get("type") == "text"
            ]
            _add_assistant(messages, text="".join(texts))
        elif kind == "function_call":
            call = ToolCall(
                id=str(step.get("id", "")),
                name=str(step.get("name", "")),
                arguments=dict(step.get("arguments") or {}),
            )
            _add_assistant(messages, call=call)
        elif kind == "function_result":
            text, images, _ = result_text(step.get("result"))
            if images and "image" not in model.modalities:
                raise _image_result_error(here, model.id)
            if step.get("is_error"):
                text = f"Error: {text}"
            messages.append(
                Message(
                    role="tool",
                    text=text,
                    tool_call_id=str(step.get("call_id")),
                    name=step.get("name") if isinstance(step.get("name"), str) else None,
                    images=tuple(images),
                )
            )
    return _fill_missing_results(messages)


def _image_result_error(where: str, model: str) -> Exception:
    from .errors import bad_request

    return bad_request(f"{where}: model {model!r} cannot read the image in this function result")


def _add_assistant(
    messages: list[Message], *, text: str = "", call: ToolCall | None = None
) -> None:
    last = messages[-1] if messages else None
    if last is not None and last.role == "assistant" and (call is not None or not last.tool_calls):
        calls = last.tool_calls + ((call,) if call else ())
        messages[-1] = Message(role="assistant", text=last.text + text, tool_calls=calls)
        return
    messages.append(Message(role="assistant", text=text, tool_calls=(call,) if call else ()))


def _fill_missing_results(messages: list[Message]) -> list[Message]:
    out: list[Message] = []
    i = 0
    while i < len(messages):
        message = messages[i]
        out.append(message)
        i += 1
        if message.role != "assistant" or not message.tool_calls:
            continue
        answered: set[str | None] = set()
        while i < len(messages) and messages[i].role == "tool":
            out.append(messages[i])
            answered.add(messages[i].tool_call_id)
            i += 1
        out.extend(
            Message(role="tool", text=NO_RESULT, tool_call_id=c.id, name=c.name)
            for c in message.tool_calls
            if c.id not in answered
        )
    return out


def generation_request(
    req: CreateRequest, history: list[dict[str, Any]], model: ModelInfo
) -> GenerationRequest:
    """The backend request for a create: system instruction, history, new input, config."""
    messages: list[Message] = []
    if req.system_instruction:
        messages.append(Message(role="system", text=req.system_instruction))
    notes: list[str] = []
    messages.extend(
        to_messages(
            history + req.input_steps,
            model=model,
            where="steps",
            notes=notes,
            notes_from=len(history),
        )
    )
    return GenerationRequest(
        notes=tuple(notes),
        messages=tuple(messages),
        model=model.id,
        functions=tuple(req.functions),
        tool_choice=req.tool_choice,
        allowed_functions=req.allowed_functions,
        response_schema=req.response_schema,
        json_output=req.json_output,
        max_output_tokens=req.max_output_tokens,
        temperature=req.temperature,
        top_p=req.top_p,
        stop=req.stop_sequences,
        seed=req.seed,
        thinking_budget=THINKING_BUDGETS.get(req.thinking_level or "high"),
    )


def _split_arguments(text: str) -> list[str]:
    """Split a JSON text into a few string fragments (at least one)."""
    if len(text) < 8:
        return [text]
    size = max(4, len(text) // 3)
    return [text[i : i + size] for i in range(0, len(text), size)]


class OutputAssembler:
    """Builds output steps from chunks and emits their events.

    Args:
        base_index: absolute ``steps`` index of the first output step (the number of echoed
            input steps).
        emit: called with each event payload (without ``event_id``).
    """

    def __init__(self, base_index: int, emit: Callable[[dict[str, Any]], None]) -> None:
        self.base_index = base_index
        self.emit = emit
        self.steps: list[dict[str, Any]] = []
        self.open_kind: str | None = None
        self.output_chunks = 0

    @property
    def index(self) -> int:
        """Absolute index of the newest step."""
        return self.base_index + len(self.steps) - 1

    def _start(self, step: dict[str, Any], wire_step: dict[str, Any]) -> None:
        self.close()
        self.steps.append(step)
        self.open_kind = step["type"]
        self.emit({"event_type": "step.start", "index": self.index, "step": wire_step})

    def _delta(self, delta: dict[str, Any]) -> None:
        self.emit({"event_type": "step.delta", "index": self.index, "delta": delta})

    def close(self) -> None:
        """Close the open step, if any, with ``step.stop``."""
        if self.open_kind is not None:
            self.open_kind = None
            self.emit({"event_type": "step.stop", "index": self.index})

    def text(self, text: str) -> None:
        """Append answer text (a ``model_output`` step)."""
        if not text:
            return
        self.output_chunks += 1
        if self.open_kind != "model_output":
            self._start({"type": "model_output", "content": []}, {"type": "model_output"})
        content = self.steps[-1]["content"]
        if content and content[-1].get("type") == "text":
            content[-1]["text"] += text
        else:
            content.append({"type": "text", "text": text})
        self._delta({"type": "text", "text": text})

    def annotate(self, annotations: list[dict[str, Any]]) -> None:
        """Citations for the open ``model_output``'s last text block (a
        ``text_annotation_delta``); their indexes are byte offsets into that block's text."""
        if not annotations or self.open_kind != "model_output":
            return
        content = self.steps[-1]["content"]
        if not content or content[-1].get("type") != "text":
            return
        content[-1].setdefault("annotations", []).extend(dict(a) for a in annotations)
        self._delta({"type": "text_annotation_delta", "annotations": list(annotations)})

    def image(self, data: bytes, mime_type: str) -> None:
        """An image block in the ``model_output`` step (one ``image`` delta)."""
        self.output_chunks += 1
        if self.open_kind != "model_output":
            self._start({"type": "model_output", "content": []}, {"type": "model_output"})
        block = {"type": "image", "data": base64.b64encode(data).decode("ascii"),
                 "mime_type": mime_type}  # fmt: skip
        self.steps[-1]["content"].append(block)
        self._delta(dict(block))

    def thought(self, text: str) -> None:
        """Append a piece of thought summary (a ``thought`` step)."""
        if not text:
            return
        self.output_chunks += 1
        if self.open_kind != "thought":
            self._start({"type": "thought", "summary": []}, {"type": "thought"})
        block = {"type": "text", "text": text}
        self.steps[-1]["summary"].append(dict(block))
        self._delta({"type": "thought_summary", "content": block})

    def call(self, name: str, arguments: dict[str, Any]) -> str:
        """A complete function call: start, argument fragments, stop. Returns its id."""
        call_id = new_call_id()
        step: dict[str, Any] = {
            "type": "function_call",
            "id": call_id,
            "name": name,
            "arguments": {},
        }
        self._start(step, dict(step, arguments={}))
        for fragment in _split_arguments(json.dumps(arguments, ensure_ascii=False)):
            self._delta({"type": "arguments_delta", "arguments": fragment})
        step["arguments"] = arguments
        self.close()
        return call_id

    def tool_step(self, step: dict[str, Any]) -> None:
        """A complete tool step (a ``*_call`` or ``*_result``) as start, one delta, stop.

        ``function_call`` steps stream their arguments as ``arguments_delta`` fragments like
        model calls; every other kind starts with its identity fields (``id``, ``call_id``,
        ``name``, ``server_name``) and sets the rest in one delta of the step's own type
        (protocol.md §6.5).
        """
        kind = str(step["type"])
        if kind == "function_call":
            self._start(dict(step, arguments={}), dict(step, arguments={}))
            text = json.dumps(step.get("arguments") or {}, ensure_ascii=False)
            for fragment in _split_arguments(text):
                self._delta({"type": "arguments_delta", "arguments": fragment})
            self.steps[-1]["arguments"] = step.get("arguments") or {}
            self.close()
            return
        head = {k: step[k] for k in ("type", *IDENTITY_FIELDS) if k in step}
        rest = {k: v for k, v in step.items() if k not in head}
        self._start(dict(step), head)
        if rest:
            self._delta({"type": kind, **rest})
        self.close()

    def calls(self) -> list[dict[str, Any]]:
        """The function_call steps produced so far."""
        return [s for s in self.steps if s["type"] == "function_call"]


def fold_events(events: Iterable[dict[str, Any]]) -> tuple[dict[int, dict[str, Any]], int | None]:
    """Fold step events per index (protocol.md §6.5).

    Returns the steps by index and the index of a step left open (started, never stopped).
    """
    steps: dict[int, dict[str, Any]] = {}
    args: dict[int, str] = {}
    open_index: int | None = None
    for event in events:
        kind = event.get("event_type")
        index = event.get("index")
        if not isinstance(index, int):
            continue
        if kind == "step.start":
            steps[index] = json.loads(json.dumps(event.get("step") or {}))
            open_index = index
        elif kind == "step.delta" and index in steps:
            step, delta = steps[index], event.get("delta") or {}
            dtype = delta.get("type")
            if dtype == "text":
                content = step.setdefault("content", [])
                if content and content[-1].get("type") == "text":
                    content[-1]["text"] += delta.get("text", "")
                else:
                    content.append({"type": "text", "text": delta.get("text", "")})
            elif dtype == "text_annotation_delta":
                content = step.setdefault("content", [])
                if content and content[-1].get("type") == "text":
                    notes = content[-1].setdefault("annotations", [])
                    notes.extend(delta.get("annotations") or [])
            elif dtype == "image" and step.get("type") == "model_output":
                block = {k: v for k, v in delta.items() if k in ("type", "data", "mime_type")}
                step.setdefault("content", []).append(block)
            elif dtype == "thought_summary":
                step.setdefault("summary", []).append(delta.get("content"))
            elif dtype == "thought_signature":
                step["signature"] = delta.get("signature")
            elif dtype == "arguments_delta":
                args[index] = args.get(index, "") + str(delta.get("arguments", ""))
            elif dtype == step.get("type"):
                # Tool steps: the delta sets its fields (code results append their text).
                for key, value in delta.items():
                    if key == "type":
                        continue
                    if key == "result" and dtype == "code_execution_result" and "result" in step:
                        step["result"] = join_code_output(step["result"], value)
                    else:
                        step[key] = value
        elif kind == "step.stop":
            if index in args and index in steps:
                try:
                    steps[index]["arguments"] = json.loads(args.pop(index))
                except json.JSONDecodeError:
                    steps[index]["arguments"] = {}
            if open_index == index:
                open_index = None
    return steps, open_index


def usage_dict(
    request: GenerationRequest, out: OutputAssembler, chunk: UsageChunk | None
) -> dict[str, Any]:
    if chunk is not None:
        inp, outp, thought = chunk.input_tokens, chunk.output_tokens, chunk.thought_tokens
    else:
        inp = sum(len(m.text.split()) for m in request.messages)
        thought = sum(len(s.get("summary", [])) for s in out.steps if s["type"] == "thought")
        outp = max(0, out.output_chunks - thought)
    usage: dict[str, Any] = {
        "total_input_tokens": inp,
        "total_output_tokens": outp,
        "total_thought_tokens": thought,
        "total_tokens": inp + outp + thought,
        "initial_input_tokens": inp,
        "input_tokens_by_modality": [{"modality": "text", "tokens": inp}],
        "output_tokens_by_modality": [{"modality": "text", "tokens": outp}],
    }
    return usage
