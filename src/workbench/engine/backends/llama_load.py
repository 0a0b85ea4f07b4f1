"""Loading a GGUF model into llama.cpp for the ``llama`` backend (on its worker thread).

``open_model`` builds the ``Loaded`` bundle (the ``Llama``, its chat template, the
end-of-generation test); ``warm_up`` evaluates a short chat once so the first real request
finds llama.cpp's buffers allocated; ``start_progress`` turns byte progress of checking or
assembling the model file into the engine's startup progress lines.
"""

from __future__ import annotations

import logging
from pathlib import Path

from workbench.engine import progress as engine_progress
from workbench.engine.backends import model_files
from workbench.engine.backends.base import BackendError
from workbench.engine.backends.llama_chat import ChatTemplate
from workbench.engine.backends.llama_decode import Loaded

log = logging.getLogger("workbench.engine.backends.llama")


def open_model(
    model: model_files.LocalModel, path: Path, *, n_ctx: int, n_batch: int, threads: int
) -> Loaded:
    """Load ``path`` (the file of ``model``) into a new ``Llama``."""
    try:
        import llama_cpp
    except ImportError:
        raise BackendError(
            "The local model runtime is not installed. "
            "Install it with: pip install 'workbench[local]'",
            code="unavailable",
        ) from None
    try:
        llm = llama_cpp.Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=threads,
            n_threads_batch=threads,
            n_batch=n_batch,
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
    return Loaded(
        model=model,
        llm=llm,
        template=template,
        n_ctx=int(llm.n_ctx()),
        is_eog=lambda tok: bool(llama_cpp.llama_vocab_is_eog(vocab, tok)),
    )


def probe_tokens(loaded: Loaded) -> list[int]:
    """A short code text the thread tuner decodes to time each thread count."""
    text = "def add(a, b):\n    return a + b\n\n" * 4
    return list(loaded.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))


def warm_up(loaded: Loaded) -> None:
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


def start_progress() -> model_files.Progress:
    """Byte progress of verifying/assembling the model file, as startup progress lines."""
    reporters: dict[str, engine_progress.Reporter] = {}
    messages = {
        "verify": "Checking the local model file",
        "assemble": "Preparing the local model (first start only)",
    }

    def tell(phase: str, done: int, total: int) -> None:
        reporter = reporters.get(phase)
        if reporter is None:
            reporter = engine_progress.Reporter(phase, messages.get(phase, phase), total)
            reporters[phase] = reporter
        reporter(done)

    return tell
