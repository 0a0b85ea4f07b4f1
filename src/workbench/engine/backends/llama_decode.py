"""One generation of the ``llama`` backend: the decoding loop, on the worker thread.

``Generation.run`` renders the prompt, reuses the KV cache's common prefix, and decodes:
free text (or JSON under a grammar), with tool calls in the Qwen2.5 / Hermes convention
decoded under the call grammar as soon as the model opens one (``llama.py`` explains the
tool-choice modes). Parts go out through ``emit``; a set ``cancelled`` event stops it
before the next token or prompt batch.
"""

from __future__ import annotations

import codecs
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from workbench.engine.backends import grammar as grammars
from workbench.engine.backends import model_files
from workbench.engine.backends.base import (
    BackendError,
    Chunk,
    FinishChunk,
    GenerationRequest,
    TextChunk,
    ThoughtChunk,
    ToolCallChunk,
    UsageChunk,
)
from workbench.engine.backends.chat_messages import chat_dicts
from workbench.engine.backends.llama_chat import ChatTemplate
from workbench.engine.backends.prompt_cache import (
    RESTORE_MIN_TOKENS,
    PromptCache,
    common_prefix,
    restore,
)
from workbench.engine.backends.schemas import callable_functions, json_instruction, tool_dicts
from workbench.engine.backends.toolcall import (
    TOOL_CALL_CLOSE,
    TOOL_CALL_OPEN,
    CallOpened,
    CallPart,
    ParsedPart,
    StopFilter,
    TextPart,
    ThoughtPart,
    ToolCallParser,
)

DEFAULT_MAX_OUTPUT = 4096
MIN_ROOM = 16  # tokens the answer needs at least


class Cancelled(Exception):
    """The job's consumer went away; stop quietly."""


@dataclass
class Loaded:
    model: model_files.LocalModel
    llm: Any
    template: ChatTemplate
    n_ctx: int
    is_eog: Callable[[int], bool]


@dataclass
class Sampling:
    temp: float
    top_p: float
    top_k: int
    min_p: float
    repeat_penalty: float


class Generation:
    """The decoding loop of one request (runs on the worker thread)."""

    def __init__(
        self,
        loaded: Loaded,
        request: GenerationRequest,
        cancelled: threading.Event,
        emit: Callable[[Chunk | BaseException | None], None],
        n_batch: int,
        *,
        cache: PromptCache | None = None,
        pause: Callable[[], None] | None = None,
    ) -> None:
        self.loaded = loaded
        self.cache = cache
        self.pause = pause
        self.paused_seconds = 0.0  # spent in more urgent jobs between two output tokens
        self.restored = 0  # prompt tokens a saved snapshot supplied
        self.llm = loaded.llm
        self.request = request
        self.cancelled = cancelled
        self.emit = emit
        self.n_batch = n_batch
        allowed = request.allowed_functions
        functions = (
            callable_functions(request.functions, allowed) if request.tool_choice != "none" else []
        )
        self.forced = request.tool_choice == "any" and bool(functions)
        self.json_mode = not self.forced and (
            request.response_schema is not None or request.json_output
        )
        self.functions = functions if (self.forced or not self.json_mode) else []
        self.names = frozenset(f.name for f in self.functions)
        self.call_grammar: Any = grammars.call_grammar(self.functions) if self.functions else None
        self.text_grammar: Any = (
            grammars.json_grammar(request.response_schema) if self.json_mode else None
        )
        self.parser = ToolCallParser(
            calls=bool(self.functions), allowed=self.names, in_call=self.forced
        )
        self.stops = StopFilter(request.stop)
        self.sampling = self._sampling()
        self.output_tokens = 0
        self.first_at = 0.0  # perf_counter() of the first and the latest output token
        self.last_at = 0.0
        self.calls = 0
        self.budget = 0
        self.finish: Literal["stop", "length", "tool_calls"] = "stop"

    def _sampling(self) -> Sampling:
        r = self.request
        temp = 0.7 if r.temperature is None else max(0.0, r.temperature)
        top_p = 0.8 if r.top_p is None else min(1.0, max(0.0, r.top_p))
        return Sampling(temp=temp, top_p=top_p, top_k=20, min_p=0.0, repeat_penalty=1.0)

    def tokenize(self, text: str) -> list[int]:
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def prompt_text(self) -> str:
        r = self.request
        extra = json_instruction(r.response_schema) if self.json_mode else ""
        messages = chat_dicts(r.messages, arguments_as_text=False, system_extra=extra)
        tools = tool_dicts(self.functions) if self.functions else None
        return self.loaded.template.render(messages, tools)

    def run(self) -> None:
        prompt = self.tokenize(self.prompt_text())
        meta_bos = self.llm.metadata.get("tokenizer.ggml.add_bos_token") == "true"
        if meta_bos and (not prompt or prompt[0] != self.llm.token_bos()):
            prompt.insert(0, self.llm.token_bos())
        n_ctx = self.loaded.n_ctx
        if len(prompt) > n_ctx - MIN_ROOM:
            raise BackendError(
                f"The conversation is {len(prompt)} tokens long; the model's context holds "
                f"{n_ctx}. Start a new conversation or shorten it.",
                code="invalid_request",
            )
        wanted = self.request.max_output_tokens or DEFAULT_MAX_OUTPUT
        self.budget = max(1, min(wanted, n_ctx - len(prompt) - 1))
        seed = self.request.seed
        self.llm.set_seed(seed if seed is not None else random_seed())

        context = list(prompt)
        if self.forced:
            context += self.tokenize(f"{TOOL_CALL_OPEN}\n")
        answer_start = len(context)
        self._prefill(context)
        while True:
            if self.parser.in_call and self.call_grammar is not None:
                if not self._constrained_call(context) or self.output_tokens >= self.budget:
                    break
                context += self.tokenize(f"\n{TOOL_CALL_CLOSE}")
                continue
            outcome = self._free(context)
            if outcome == "rewind":  # a bare call at the start: restart it as a tagged call
                del context[answer_start:]
                context += self.tokenize(f"{TOOL_CALL_OPEN}\n")
            elif outcome == "end":
                break
        tail = self.stops.flush()
        for part in [*(self.parser.feed(tail) if tail else []), *self.parser.finish()]:
            self._emit_part(part)
        self.emit(UsageChunk(input_tokens=len(prompt), output_tokens=self.output_tokens))
        self.emit(FinishChunk("tool_calls" if self.calls else self.finish))

    # ---- decoding

    def _count(self) -> None:
        self.output_tokens += 1
        self.last_at = time.perf_counter()
        if self.output_tokens == 1:
            self.first_at = self.last_at

    @property
    def decode_seconds(self) -> float:
        """Time from the first output token to the last (the decode speed's denominator),
        less the time other jobs ran in between."""
        return self.last_at - self.first_at - self.paused_seconds

    def _check(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled
        if self.pause is not None:
            started = time.perf_counter()
            self.pause()
            if self.output_tokens:
                self.paused_seconds += time.perf_counter() - started

    def _prefill(self, tokens: list[int]) -> None:
        """Start from the longest saved prefix (the live KV cache or a snapshot), then
        evaluate a long new prompt suffix batch by batch, checking for cancellation."""
        llm = self.llm
        common = common_prefix(llm.input_ids[: llm.n_tokens], tokens)
        if self.cache is not None and self.cache.enabled:
            snapshot, shared = self.cache.find(tokens, common)
            worth = snapshot is not None and shared >= common + RESTORE_MIN_TOKENS
            if snapshot is not None and worth:
                restore(llm, snapshot, shared)
                common = self.restored = shared
            self.cache.note(restored=worth)
        end = len(tokens) - 1  # generate() evaluates at least the last token itself
        if end - common <= self.n_batch:
            return
        llm.n_tokens = common
        for start in range(common, end, self.n_batch):
            self._check()
            llm.eval(tokens[start : min(start + self.n_batch, end)])

    def _tokens(self, context: list[int], grammar: Any) -> Any:
        s = self.sampling
        return self.llm.generate(
            context,
            temp=s.temp,
            top_p=s.top_p,
            top_k=s.top_k,
            min_p=s.min_p,
            repeat_penalty=s.repeat_penalty,
            grammar=grammar,
        )

    def _free(self, context: list[int]) -> Literal["end", "call", "rewind"]:
        """Unconstrained (or JSON-constrained) text until the end, a stop, the budget, or a
        call opening (``call``: decode it under the grammar; ``rewind``: a bare call began the
        answer, restart it as a tagged call)."""
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        gen = self._tokens(context, self.text_grammar)
        try:
            for token in gen:
                self._check()
                if self.loaded.is_eog(token):
                    return "end"
                context.append(token)
                self._count()
                piece = decoder.decode(bytes(self.llm.detokenize([token])))
                text = self.stops.feed(piece) if piece else ""
                opened = False
                for part in self.parser.feed(text) if text else ():
                    if isinstance(part, CallOpened):
                        if part.bare and self.call_grammar is not None and not self.calls:
                            return "rewind"
                        # A bare call after another one is parsed from its text at the end.
                        opened = True
                    elif not self._emit_part(part):
                        return "end"
                if self.stops.stopped:
                    return "end"
                if self.output_tokens >= self.budget:
                    self.finish = "length"
                    return "end"
                if opened and self.call_grammar is not None:
                    pending = self.parser.pending_call_text
                    if not pending.strip():  # nothing of the JSON yet: constrain all of it
                        if "\n" not in pending:
                            context += self.tokenize("\n")
                        return "call"
                    # Part of the call came with the tag; parse it from the text instead.
            return "end"
        finally:
            gen.close()

    def _constrained_call(self, context: list[int]) -> bool:
        """Decode one call's JSON under the call grammar. False when generation must end."""
        body: list[int] = []
        gen = self._tokens(context, self.call_grammar)
        ended = False
        try:
            for token in gen:
                self._check()
                if self.loaded.is_eog(token):
                    ended = True
                    break
                body.append(token)
                context.append(token)
                self._count()
                if self.output_tokens >= self.budget:
                    break
        finally:
            gen.close()
        text = bytes(self.llm.detokenize(body)).decode("utf-8", "replace")
        self.parser.discard_call_text()
        if not ended:
            # Out of budget in the middle of the JSON: drop the partial call.
            self.finish = "length"
            self.parser = ToolCallParser(calls=False)
            return False
        for part in self.parser.complete_call(text.strip()):
            self._emit_part(part)
        return True

    def _emit_part(self, part: ParsedPart) -> bool:
        """Send one parsed part; False when generation should end (text in forced mode)."""
        if isinstance(part, CallPart):
            self.calls += 1
            self.emit(ToolCallChunk(name=part.name, arguments=part.arguments))
        elif isinstance(part, TextPart):
            if self.forced:
                return False  # forced calls: anything after the call(s) is not wanted
            self.emit(TextChunk(part.text))
        elif isinstance(part, ThoughtPart):
            self.emit(ThoughtChunk(part.text))
        return True


def random_seed() -> int:
    return int.from_bytes(os.urandom(4), "little") & 0x7FFFFFFF
