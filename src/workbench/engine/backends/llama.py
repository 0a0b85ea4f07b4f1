"""The ``llama`` backend: a GGUF model run in-process by llama-cpp-python.

One ``Llama`` instance is shared by every request. It lives in one dedicated worker thread,
which takes jobs from a FIFO queue (concurrent requests take turns, in arrival order) and
streams tokens back to the asyncio side through ``loop.call_soon_threadsafe``. llama.cpp
releases the GIL while it computes, so the server stays responsive. Cancelling (the ``cancel``
event, or closing the iterator) is seen by the worker before the next token, and between
prompt batches of a long prompt; a queued job that was cancelled is skipped.

Prompts are rendered with the model's own chat template (the Jinja text in the GGUF, as the
``transformers`` library renders it), so Qwen2.5 gets its native tool prompt; a model without
a template gets ChatML. The KV cache keeps the previous prompt, so a follow-up turn only
evaluates the new tokens.

Tool calls follow the Qwen2.5 / Hermes convention, ``<tool_call>{"name": …, "arguments": …}
</tool_call>``:

* ``tool_choice="any"`` (or ``allowed_functions``): the answer is prefilled with
  ``<tool_call>\\n`` and the JSON is decoded under a grammar that admits exactly
  ``{"name": <an allowed name>, "arguments": <that function's parameters>}``. Further calls
  may follow; text is not given out.
* ``auto``: the model writes freely; when it opens ``<tool_call>`` (or starts its answer with
  a bare ``{"name": "<a function>"``, which small models do) the rest of the call is decoded
  under the same grammar, so every call it makes is valid; text around calls streams as text.
* ``none``: no tools are shown to the model.

``response_schema`` / ``json_output`` constrain the whole answer to JSON (matching the schema).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import logging
import os
import queue
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from workbench.engine.backends import grammar as grammars
from workbench.engine.backends import model_files
from workbench.engine.backends.base import (
    BackendError,
    Chunk,
    FinishChunk,
    GenerationRequest,
    ModelInfo,
    TextChunk,
    ThoughtChunk,
    ToolCallChunk,
    UsageChunk,
)
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
    callable_functions,
    chat_dicts,
    json_instruction,
    tool_dicts,
)

log = logging.getLogger("workbench.engine.backends.llama")

DEFAULT_N_CTX = 8192
DEFAULT_MAX_OUTPUT = 4096
_MIN_ROOM = 16  # tokens the answer needs at least


def default_threads() -> int:
    """``$WORKBENCH_LLAMA_THREADS`` when set, else the cores this process may use."""
    configured = os.environ.get("WORKBENCH_LLAMA_THREADS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def default_data_dir() -> Path:
    """Where models are assembled when no data dir is given."""
    home = os.environ.get("WORKBENCH_HOME")
    if home:
        return Path(home).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("workbench", appauthor=False))


class _Cancelled(Exception):
    """The job's consumer went away; stop quietly."""


# ---------------------------------------------------------------------------------------------
# prompt rendering


def _chatml(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> str:
    """ChatML with Hermes-style tools, for models whose GGUF has no chat template."""
    out: list[str] = []
    system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
    body = messages[1:] if system else messages
    if tools:
        listing = "\n".join(json.dumps(t, ensure_ascii=False) for t in tools)
        system = (
            (system + "\n\n" if system else "")
            + "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
            + "You are provided with function signatures within <tools></tools> XML tags:\n"
            + f"<tools>\n{listing}\n</tools>\n\nFor each function call, return a json object "
            + "with function name and arguments within <tool_call></tool_call> XML tags:\n"
            + '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n'
            + "</tool_call>"
        )
    if system:
        out.append(f"<|im_start|>system\n{system}<|im_end|>\n")
    for m in body:
        if m["role"] == "tool":
            out.append(f"<|im_start|>user\n<tool_response>\n{m['content']}\n</tool_response>")
            out.append("<|im_end|>\n")
            continue
        text = m.get("content") or ""
        for call in m.get("tool_calls") or ():
            fn = call["function"]
            payload = json.dumps({"name": fn["name"], "arguments": fn["arguments"]})
            text += f"\n{TOOL_CALL_OPEN}\n{payload}\n{TOOL_CALL_CLOSE}"
        out.append(f"<|im_start|>{m['role']}\n{text.lstrip(chr(10))}<|im_end|>\n")
    out.append("<|im_start|>assistant\n")
    return "".join(out)


class ChatTemplate:
    """Renders chat messages with a GGUF's Jinja chat template (ChatML when it has none)."""

    def __init__(self, source: str | None, bos_token: str = "", eos_token: str = "") -> None:
        self._template: Any = None
        self._bos = bos_token
        self._eos = eos_token
        if source:
            from jinja2.exceptions import TemplateError
            from jinja2.sandbox import ImmutableSandboxedEnvironment

            def raise_exception(message: str) -> None:
                raise TemplateError(message)

            def tojson(value: Any, indent: int | None = None, **_: Any) -> str:
                return json.dumps(value, ensure_ascii=False, indent=indent)

            env = ImmutableSandboxedEnvironment(
                trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"]
            )
            env.filters["tojson"] = tojson
            env.globals["raise_exception"] = raise_exception
            try:
                self._template = env.from_string(source)
            except TemplateError as exc:
                log.warning("the model's chat template does not compile (%s); using ChatML", exc)

    def render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> str:
        """The prompt text, ending where the assistant's answer begins."""
        if self._template is not None:
            try:
                return str(
                    self._template.render(
                        messages=messages,
                        tools=tools or None,
                        add_generation_prompt=True,
                        bos_token=self._bos,
                        eos_token=self._eos,
                    )
                )
            except Exception as exc:
                log.warning("the model's chat template failed (%s); using ChatML", exc)
        return _chatml(messages, tools)


# ---------------------------------------------------------------------------------------------
# the loaded model


@dataclass
class _Loaded:
    model: model_files.LocalModel
    llm: Any
    template: ChatTemplate
    n_ctx: int
    is_eog: Callable[[int], bool]


@dataclass
class _Job:
    """One unit of work for the worker thread: ``run`` is called there unless cancelled."""

    run: Callable[[_Job], None]
    cancelled: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Sampling:
    temp: float
    top_p: float
    top_k: int
    min_p: float
    repeat_penalty: float


class LlamaBackend:
    """Local GGUF models through llama-cpp-python (see the module docstring).

    Args:
        data_dir: the engine's data folder; packaged models are assembled in ``models/``.
            Default: ``$WORKBENCH_HOME`` when set, else the user's data folder for workbench.
        model: the default model id, or a path to a ``.gguf`` file or folder to serve.
        model_paths: more GGUF files or folders to serve (ids come from the file names).
        n_ctx: context size in tokens (capped by the model's training context).
        n_threads: threads for llama.cpp (default: ``$WORKBENCH_LLAMA_THREADS``, else the
            cores this process may use).
        n_batch: prompt tokens evaluated per batch.
    """

    name = "llama"

    def __init__(
        self,
        data_dir: Path | None = None,
        model: str | None = None,
        model_paths: Sequence[Path] = (),
        *,
        n_ctx: int = DEFAULT_N_CTX,
        n_threads: int | None = None,
        n_batch: int = 512,
    ) -> None:
        self._models_dir = Path(data_dir or default_data_dir()) / "models"
        paths = [Path(p) for p in model_paths]
        default_path: Path | None = None
        if model and (model.endswith(".gguf") or os.sep in model or Path(model).is_dir()):
            default_path = Path(model).expanduser()
            paths.insert(0, default_path)
            model = None
        self._catalog = model_files.catalog(self._models_dir, paths)
        if default_path is not None:
            user = [m for m in self._catalog if m.path is not None]
            if not user:
                raise BackendError(f"No GGUF model found at {default_path}", code="not_found")
            model = user[0].id
        self._default_id = model or model_files.DEFAULT_MODEL.id
        self._lookup(self._default_id)  # unknown default: fail at start, not on first use
        self._n_ctx = n_ctx
        self._n_threads = n_threads or default_threads()
        self._n_batch = n_batch
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self._loaded: _Loaded | None = None  # touched only by the worker thread
        self._current: _Job | None = None
        self._closed = False

    # ----------------------------------------------------------------------------- public API

    @property
    def default_model(self) -> str:
        """The id of the model served when a request names none."""
        return self._default_id

    def models(self) -> list[ModelInfo]:
        """The models this backend can serve (the default first)."""
        ordered = sorted(self._catalog, key=lambda m: m.id != self._default_id)
        return [
            ModelInfo(
                id=m.id,
                display_name=m.display_name,
                description=m.description,
                input_token_limit=min(self._n_ctx, m.context_length),
                output_token_limit=min(DEFAULT_MAX_OUTPUT, self._n_ctx),
                modalities=("text",),
            )
            for m in ordered
        ]

    async def load(self) -> None:
        """Assemble/verify and load the default model, off the event loop; idempotent."""
        model = self._lookup(self._default_id)
        await self._call(lambda: self._ensure_loaded(model))

    async def close(self) -> None:
        """Stop the worker thread and free the model."""
        if self._closed:
            return
        self._closed = True
        thread = self._thread
        # Drop queued work, then stop the worker after the job it is running (if any).
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job.cancelled.set()
                job.run(job)  # a cancelled job only reports that it is done
        self._jobs.put(None)
        current = self._current
        if current is not None:
            current.cancelled.set()
        if thread is not None:
            await asyncio.to_thread(thread.join, 30)

    async def generate(
        self, request: GenerationRequest, cancel: asyncio.Event
    ) -> AsyncIterator[Chunk]:
        """Stream the answer to ``request`` (see the module docstring)."""
        model = self._lookup(request.model)
        loop = asyncio.get_running_loop()
        out: asyncio.Queue[Chunk | BaseException | None] = asyncio.Queue()

        def emit(item: Chunk | BaseException | None) -> None:
            try:
                loop.call_soon_threadsafe(out.put_nowait, item)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                raise _Cancelled from None

        def run(job: _Job) -> None:
            try:
                if job.cancelled.is_set():
                    return
                loaded = self._ensure_loaded(model)
                _Generation(loaded, request, job.cancelled, emit, self._n_batch).run()
            except _Cancelled:
                pass
            except BackendError as exc:
                with contextlib.suppress(_Cancelled):
                    emit(exc)
            except Exception as exc:
                log.exception("local generation failed")
                with contextlib.suppress(_Cancelled):
                    emit(BackendError(f"The local model failed: {exc}", code="internal"))
            finally:
                with contextlib.suppress(_Cancelled):
                    emit(None)

        job = _Job(run)
        self._submit(job)
        waiter: asyncio.Task[bool] | None = None
        try:
            while True:
                if cancel.is_set():
                    return
                try:
                    item = out.get_nowait()
                except asyncio.QueueEmpty:
                    if waiter is None:
                        waiter = asyncio.ensure_future(cancel.wait())
                    getter = asyncio.ensure_future(out.get())
                    await asyncio.wait({getter, waiter}, return_when=asyncio.FIRST_COMPLETED)
                    if not getter.done():
                        getter.cancel()
                        return
                    item = getter.result()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            job.cancelled.set()
            if waiter is not None:
                waiter.cancel()

    # ----------------------------------------------------------------------------- internals

    def _lookup(self, model_id: str) -> model_files.LocalModel:
        ident = (model_id or self._default_id).removeprefix("models/")
        for m in self._catalog:
            if m.id == ident:
                return m
        served = ", ".join(m.id for m in self._catalog)
        raise BackendError(
            f"The local engine has no model '{ident}'. It serves: {served}.", code="not_found"
        )

    def _submit(self, job: _Job) -> None:
        if self._closed:
            raise BackendError("The local model backend is shut down.", code="unavailable")
        with self._thread_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._worker, name="llama-worker", daemon=True
                )
                self._thread.start()
        self._jobs.put(job)

    async def _call(self, fn: Callable[[], object]) -> None:
        """Run ``fn`` on the worker thread (in queue order) and wait for it."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def settle(exc: BaseException | None) -> None:
            if done.done():
                return
            if exc is None:
                done.set_result(None)
            else:
                done.set_exception(exc)

        def run(job: _Job) -> None:
            error: BaseException | None = None
            if job.cancelled.is_set():
                error = BackendError("The local model backend is shut down.", "unavailable")
            else:
                try:
                    fn()
                except BaseException as exc:
                    error = exc
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, error)

        self._submit(_Job(run))
        await done

    def _worker(self) -> None:
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                self._current = job
                try:
                    job.run(job)
                finally:
                    self._current = None
        finally:
            loaded, self._loaded = self._loaded, None
            if loaded is not None:
                loaded.llm.close()

    def _ensure_loaded(self, model: model_files.LocalModel) -> _Loaded:
        """The loaded model ``model`` (loading it, and unloading another, if needed).

        Runs on the worker thread only.
        """
        if self._loaded is not None and self._loaded.model.id == model.id:
            return self._loaded
        path = model_files.resolve_model_file(model, self._models_dir)
        try:
            import llama_cpp
        except ImportError:
            raise BackendError(
                "The local model runtime is not installed. "
                "Install it with: pip install 'workbench[local]'",
                code="unavailable",
            ) from None
        if self._loaded is not None:
            old, self._loaded = self._loaded, None
            old.llm.close()
        n_ctx = min(self._n_ctx, model.context_length)
        try:
            llm = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=self._n_threads,
                n_threads_batch=self._n_threads,
                n_batch=self._n_batch,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise BackendError(
                f"llama.cpp could not load {path.name}: {exc}", code="unavailable"
            ) from exc
        meta: dict[str, str] = dict(llm.metadata or {})
        vocab = llm._model.vocab

        def token_text(key: str) -> str:
            ident = meta.get(key)
            if ident is None:
                return ""
            return bytes(llm.detokenize([int(ident)], special=True)).decode("utf-8", "replace")

        template = ChatTemplate(
            meta.get("tokenizer.chat_template"),
            bos_token=token_text("tokenizer.ggml.bos_token_id"),
            eos_token=token_text("tokenizer.ggml.eos_token_id"),
        )
        self._loaded = _Loaded(
            model=model,
            llm=llm,
            template=template,
            n_ctx=int(llm.n_ctx()),
            is_eog=lambda tok: bool(llama_cpp.llama_vocab_is_eog(vocab, tok)),
        )
        self._warm_up(self._loaded)
        log.info("loaded %s (%s, n_ctx=%d)", model.id, path.name, n_ctx)
        return self._loaded

    @staticmethod
    def _warm_up(loaded: _Loaded) -> None:
        """Evaluate a short chat once: the first real request then finds llama.cpp's buffers
        allocated and the template's fixed prefix (e.g. the default system prompt) cached."""
        try:
            prompt = loaded.template.render([{"role": "user", "content": "Hi"}], None)
            tokens = loaded.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
            loaded.llm.reset()
            loaded.llm.eval(tokens[:-1])
            loaded.llm.eval(tokens[-1:])  # a one-token batch, as in decoding
        except Exception as exc:  # only an optimisation
            log.warning("warm-up failed: %s", exc)


# ---------------------------------------------------------------------------------------------
# one generation, on the worker thread


class _Generation:
    """The decoding loop of one request (runs on the worker thread)."""

    def __init__(
        self,
        loaded: _Loaded,
        request: GenerationRequest,
        cancelled: threading.Event,
        emit: Callable[[Chunk | BaseException | None], None],
        n_batch: int,
    ) -> None:
        self.loaded = loaded
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
        self.calls = 0
        self.budget = 0
        self.finish: Literal["stop", "length", "tool_calls"] = "stop"

    def _sampling(self) -> _Sampling:
        r = self.request
        temp = 0.7 if r.temperature is None else max(0.0, r.temperature)
        top_p = 0.8 if r.top_p is None else min(1.0, max(0.0, r.top_p))
        return _Sampling(temp=temp, top_p=top_p, top_k=20, min_p=0.0, repeat_penalty=1.0)

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
        if len(prompt) > n_ctx - _MIN_ROOM:
            raise BackendError(
                f"The conversation is {len(prompt)} tokens long; the model's context holds "
                f"{n_ctx}. Start a new conversation or shorten it.",
                code="invalid_request",
            )
        wanted = self.request.max_output_tokens or DEFAULT_MAX_OUTPUT
        self.budget = max(1, min(wanted, n_ctx - len(prompt) - 1))
        seed = self.request.seed
        self.llm.set_seed(seed if seed is not None else _random_seed())

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

    def _check(self) -> None:
        if self.cancelled.is_set():
            raise _Cancelled

    def _prefill(self, tokens: list[int]) -> None:
        """Evaluate a long new prompt suffix batch by batch, checking for cancellation."""
        llm = self.llm
        cached = llm.input_ids[: llm.n_tokens]
        common = 0
        for a, b in zip(cached, tokens, strict=False):
            if int(a) != b:
                break
            common += 1
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
                self.output_tokens += 1
                piece = decoder.decode(bytes(self.llm.detokenize([token])))
                text = self.stops.feed(piece) if piece else ""
                opened = False
                for part in self.parser.feed(text) if text else ():
                    if isinstance(part, CallOpened):
                        if part.bare and self.call_grammar is not None:
                            return "rewind"
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
                self.output_tokens += 1
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


def _random_seed() -> int:
    return int.from_bytes(os.urandom(4), "little") & 0x7FFFFFFF
