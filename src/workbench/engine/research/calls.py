"""One narrow model call of a research run, counted against the run's budget.

Apart from the loop (loop.py) because it is the only place the research harness talks to a
backend: the budget check, the three-message prompt, draining the stream and summing usage
(estimated from words when a backend reports none) all happen here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ..agent.prompt import HARNESS
from ..agent.turns import Usage
from ..backends.base import Backend, GenerationRequest, Message, TextChunk, UsageChunk
from . import prompts
from .plan import ResearchLimits

log = logging.getLogger("workbench.engine.research")


class Exhausted(Exception):
    """The call or token budget is spent."""


async def ask(
    backend: Backend,
    model: str,
    *,
    limits: ResearchLimits,
    usage: Usage,
    cancel: asyncio.Event,
    question: str,
    prompt: str,
    tokens: int,
) -> str:
    """The model's reply to ``prompt`` about ``question``, its usage added to ``usage``.

    Raises ``Exhausted`` when the budget allows no more calls; stops reading when
    ``cancel`` is set (the text so far is the reply).
    """
    if usage.turns >= limits.max_model_calls:
        raise Exhausted(f"the budget of {limits.max_model_calls} model calls")
    if usage.total >= limits.max_total_tokens:
        raise Exhausted(f"the budget of {limits.max_total_tokens} tokens")
    messages = (
        Message(role="system", text=prompts.SYSTEM),
        Message(role="user", text=question),
        Message(role="user", text=prompt, name=HARNESS),
    )
    request = GenerationRequest(
        messages=messages, model=model, max_output_tokens=tokens, temperature=0.0,
        seed=1, tool_choice="none",
    )  # fmt: skip
    text = ""
    reported: UsageChunk | None = None
    stream = backend.generate(request, cancel)
    try:
        async for chunk in stream:
            if cancel.is_set():
                break
            if isinstance(chunk, TextChunk):
                text += chunk.text
            elif isinstance(chunk, UsageChunk):
                reported = chunk
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
    if reported is not None:
        usage.add(reported.input_tokens, reported.output_tokens, reported.thought_tokens)
    else:
        words = sum(len(m.text.split()) for m in messages)
        usage.add(words, len(text.split()), 0)
    log.debug("research call %d: %r -> %r", usage.turns, prompt[:80], text[:300])
    return text
