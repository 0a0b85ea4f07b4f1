"""The ``llama`` backend: a GGUF model run in-process by llama-cpp-python.

One ``Llama`` instance is shared by every request. It lives in one dedicated worker thread,
which takes jobs from a priority queue (``llama_jobs.py``: foreground calls before background
runs, arrival order among equals) and streams tokens back to the asyncio side through
``loop.call_soon_threadsafe``. llama.cpp releases the GIL while it computes, so the server
stays responsive. Cancelling (the ``cancel`` event, or closing the iterator) is seen by the
worker before the next token, and between prompt batches of a long prompt; a queued job that
was cancelled is skipped.

A background generation gives way to a foreground job between two tokens (``preempt``): its
KV cells are saved, the foreground job runs, the cells are restored and it goes on where it
stopped. Every job ends by saving its sequence into the ``PromptCache`` (``prompt_cache.py``),
so each conversation and agent loop finds its own evaluated prefix again, whatever ran in
between.

Prompts are rendered with the model's own chat template (the Jinja text in the GGUF, as the
``transformers`` library renders it), so Qwen2.5 gets its native tool prompt; a model without
a template gets ChatML. A follow-up turn only evaluates its new tokens.

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
import contextlib
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from workbench.engine import progress as engine_progress
from workbench.engine.backends import model_files, prompt_disk
from workbench.engine.backends import prompt_cache as prompts
from workbench.engine.backends.base import (
    FOREGROUND,
    BackendError,
    Chunk,
    GenerationRequest,
    ModelInfo,
    priority,
)
from workbench.engine.backends.llama_decode import (
    DEFAULT_MAX_OUTPUT,
    Cancelled,
    Generation,
    Loaded,
)
from workbench.engine.backends.llama_jobs import Job, JobQueue
from workbench.engine.backends.llama_load import open_model, probe_tokens, start_progress, warm_up
from workbench.engine.backends.llama_threads import ThreadTuner, configured_threads

log = logging.getLogger("workbench.engine.backends.llama")

DEFAULT_N_CTX = 8192


def default_data_dir() -> Path:
    """Where models are assembled when no data dir is given."""
    home = os.environ.get("WORKBENCH_HOME")
    if home:
        return Path(home).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("workbench", appauthor=False))


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
        prompt_cache_mb: RAM for saved prompt prefixes (``prompt_cache.py``); 0 keeps only
            the live KV cache, as before.
        prompt_cache_disk_mb: disk space for saved prompt prefixes under
            ``<data dir>/prompt-cache`` (``prompt_disk.py``), read back after a restart; 0
            turns it off and deletes that folder.
        preempt: whether a background generation gives way to a foreground job between two
            tokens (else the foreground job only goes first in the queue).
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
        prompt_cache_mb: int = prompts.DEFAULT_PROMPT_CACHE_MB,
        prompt_cache_disk_mb: int = prompts.DEFAULT_PROMPT_CACHE_DISK_MB,
        preempt: bool = True,
    ) -> None:
        if prompt_cache_mb < 0:
            raise BackendError("--prompt-cache-mb cannot be negative", code="invalid_request")
        if prompt_cache_disk_mb < 0:
            raise BackendError("--prompt-cache-disk-mb cannot be negative", code="invalid_request")
        root = Path(data_dir or default_data_dir())
        self._models_dir = root / "models"
        self._disk_root = root / "prompt-cache"
        self._disk_budget = prompt_cache_disk_mb * 1024 * 1024
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
        self._default_id = model or model_files.preferred_model(self._models_dir).id
        self._lookup(self._default_id)  # unknown default: fail at start, not on first use
        self._n_ctx = n_ctx
        self._tuner = ThreadTuner(n_threads or configured_threads())
        self._n_batch = n_batch
        self._jobs = JobQueue()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self._loaded: Loaded | None = None  # touched only by the worker thread
        self._running: list[Job] = []  # the job running, and those it gave way to
        self._closed = False
        self.prompt_cache = prompts.PromptCache(prompt_cache_mb * 1024 * 1024)
        self.preempt = preempt
        self.preemptions = 0  # times a background generation gave way

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
        await self._call(lambda: self._ensure_loaded(model, start_progress()), model.id)

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
            except LookupError:
                break
            if job is not None:
                job.cancelled.set()
                job.run(job)  # a cancelled job only reports that it is done
        self._jobs.put(None)
        for current in list(self._running):
            current.cancelled.set()
        if thread is not None:
            await asyncio.to_thread(thread.join, 30)
        # the last turns' prefixes reach the disk
        await asyncio.to_thread(prompt_disk.detach, self.prompt_cache)

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
                raise Cancelled from None

        def run(job: Job) -> None:
            try:
                if job.cancelled.is_set():
                    return
                loaded = self._ensure_loaded(model)
                if self._tuner.needs_retune:  # decoding got much slower: measure again
                    self._tuner.tune(loaded.llm, probe_tokens(loaded))
                generation = Generation(
                    loaded,
                    request,
                    job.cancelled,
                    emit,
                    self._n_batch,
                    cache=self.prompt_cache,
                    pause=self._pause_for(job, loaded),
                )
                try:
                    generation.run()
                finally:
                    self._remember(loaded)
                self._tuner.report(generation.output_tokens, generation.decode_seconds)
            except Cancelled:
                pass
            except BackendError as exc:
                with contextlib.suppress(Cancelled):
                    emit(exc)
            except Exception as exc:
                log.exception("local generation failed")
                with contextlib.suppress(Cancelled):
                    emit(BackendError(f"The local model failed: {exc}", code="internal"))
            finally:
                with contextlib.suppress(Cancelled):
                    emit(None)

        job = Job(run, priority=priority.get(), model=model.id)
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

    def _submit(self, job: Job) -> None:
        if self._closed:
            raise BackendError("The local model backend is shut down.", code="unavailable")
        with self._thread_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._worker, name="llama-worker", daemon=True
                )
                self._thread.start()
        self._jobs.put(job)

    async def _call(self, fn: Callable[[], object], model_id: str) -> None:
        """Run ``fn`` (work on model ``model_id``) on the worker thread, as a foreground job."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def settle(exc: BaseException | None) -> None:
            if done.done():
                return
            if exc is None:
                done.set_result(None)
            else:
                done.set_exception(exc)

        def run(job: Job) -> None:
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

        self._submit(Job(run, priority=FOREGROUND, model=model_id))
        await done

    def _worker(self) -> None:
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                self._run_job(job)
        finally:
            loaded, self._loaded = self._loaded, None
            if loaded is not None:
                loaded.llm.close()

    def _run_job(self, job: Job) -> None:
        self._running.append(job)
        try:
            job.run(job)
        finally:
            self._running.remove(job)

    def _pause_for(self, job: Job, loaded: Loaded) -> Callable[[], None]:
        """The between-tokens hook of ``job``'s generation: run more urgent jobs first."""

        def pause() -> None:
            if not self.preempt or not self._jobs.urgent(job.priority, loaded.model.id):
                return
            llm = loaded.llm
            snapshot = prompts.save(llm)
            sampler = llm._sampler  # holds the sampling chain and grammar state of this job
            while (urgent := self._jobs.take_urgent(job.priority, loaded.model.id)) is not None:
                self.preemptions += 1
                self._run_job(urgent)
            if self._loaded is not loaded:  # cannot happen: only jobs of this model run here
                raise BackendError("The local model was unloaded mid-generation.", "internal")
            prompts.restore(llm, snapshot, len(snapshot.tokens))
            llm._sampler = sampler

        return pause

    def _remember(self, loaded: Loaded) -> None:
        """Save the sequence a job leaves behind into the prompt cache."""
        if not self.prompt_cache.enabled or self._loaded is not loaded or not loaded.llm.n_tokens:
            return
        try:
            self.prompt_cache.put(prompts.save(loaded.llm))
        except Exception as exc:  # only an optimisation
            log.warning("could not save the prompt prefix: %s", exc)

    def stats(self) -> dict[str, Any]:
        """The scheduler's and the prompt cache's counters (benchmarks, diagnostics)."""
        waiting = self._jobs.waiting()
        return {
            "threads": self._tuner.threads,
            "waiting_foreground": waiting.get(FOREGROUND, 0),
            "waiting_background": sum(n for p, n in waiting.items() if p != FOREGROUND),
            "preemptions": self.preemptions,
            "prompt_cache": self.prompt_cache.stats(),
        }

    def _ensure_loaded(
        self, model: model_files.LocalModel, progress: model_files.Progress | None = None
    ) -> Loaded:
        """The loaded model ``model`` (loading it, and unloading another, if needed).

        Runs on the worker thread only. ``progress`` (at start) is told each phase.
        """
        if self._loaded is not None and self._loaded.model.id == model.id:
            return self._loaded
        path = model_files.resolve_model_file(model, self._models_dir, progress)
        if progress is not None:
            engine_progress.report("load", f"Loading {model.id} into memory")
        if self._loaded is not None:
            old, self._loaded = self._loaded, None
            old.llm.close()
        self.prompt_cache.clear()  # snapshots belong to the model that made them
        n_ctx = min(self._n_ctx, model.context_length)
        loaded = open_model(
            model, path, n_ctx=n_ctx, n_batch=self._n_batch, threads=self._tuner.threads
        )
        self._loaded = loaded
        prompt_disk.attach(self.prompt_cache, self._disk_root, path, n_ctx, self._disk_budget)
        self._tuner.tune(loaded.llm, probe_tokens(loaded))
        warm_up(loaded)
        log.info("loaded %s (%s, n_ctx=%d)", model.id, path.name, n_ctx)
        return loaded

    @property
    def threads(self) -> int:
        """The llama.cpp thread count in use (measured unless configured)."""
        return self._tuner.threads
