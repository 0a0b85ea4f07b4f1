"""``client.interactions``: create (plain, streaming, background), get, cancel, delete."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from ._wire import Interaction, body_of, to_interaction
from .continuation import (
    continuation_body,
    continuation_enabled,
    continue_stream,
    continue_unary,
)
from .resume import RawItem, ResumeState, follow_events, open_event_stream
from .retry import Idempotency, ResumePolicy
from .streams import InteractionStream
from .transport import Transport, decode_json_object

CreateBody = Mapping[str, Any] | Any
"""A protocol create model (``CreateModelInteraction``/``CreateAgentInteraction``) or a dict."""


def _seg(value: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("an id must be a non-empty string")
    return quote(value, safe="-_.~")


def check_create_body(body: Mapping[str, Any]) -> None:
    """The SDK's own pre-send checks (protocol.md §2, §12 item 6)."""
    is_agent = body.get("agent") is not None or body.get("agent_config") is not None
    if is_agent and body.get("model") is not None:
        raise ValueError("a create body takes either model or agent/agent_config, not both")
    if is_agent and (
        body.get("generation_config") is not None or body.get("cached_content") is not None
    ):
        raise ValueError("generation_config and cached_content are for model interactions only")
    if body.get("model") is None and body.get("agent") is None:
        raise ValueError("a create body needs a model or an agent")
    if body.get("background") is True and body.get("store") is False:
        raise ValueError("background=true requires store=true")


class Interactions:
    def __init__(self, transport: Transport, resume: ResumePolicy) -> None:
        self._t = transport
        self._resume = resume

    async def create(
        self,
        body: CreateBody,
        *,
        automatic_continuation: bool = True,
        request_timeout: httpx.Timeout | None = None,
    ) -> Interaction:
        """Create and wait for the result (or, with ``background: true``, for the job handle).

        Continuation hops (§6.7) are followed and merged unless ``automatic_continuation`` is
        false or the body is background/agent. The POST is retried only when it provably did
        not reach the server, or on 429/503.
        """
        wire = body_of(body)
        if wire.get("stream"):
            raise ValueError("use create_stream() for a streaming create")
        wire.pop("stream", None)
        check_create_body(wire)
        data = await self._post(wire, request_timeout)
        if automatic_continuation and continuation_enabled(wire):

            async def hop(token: str, owner: str | None) -> dict[str, Any]:
                return await self._post(continuation_body(wire, token, owner), request_timeout)

            data = await continue_unary(
                data, hop, initial_token=_str(wire.get("continuation_token"))
            )
        return to_interaction(data)

    async def _post(
        self, wire: dict[str, Any], request_timeout: httpx.Timeout | None
    ) -> dict[str, Any]:
        response = await self._t.request(
            "POST",
            "interactions",
            json_body=wire,
            idempotency=Idempotency.CREATE,
            what="create interaction",
            request_timeout=request_timeout,
        )
        return decode_json_object(response, "create interaction")

    def create_stream(
        self, body: CreateBody, *, automatic_continuation: bool = True
    ) -> InteractionStream:
        """Create with ``"stream": true`` and return the (lazily opened) event stream.

        The POST is sent once. If the connection drops after the interaction id is known,
        the stream is resumed with ``GET …?stream=true&last_event_id=…`` — never re-POSTed.
        If it drops before any event arrived, :class:`APIConnectionError` is raised. The
        POST is retried only on a connect failure (nothing sent) or an HTTP 429/503 answer.
        """
        wire = body_of(body)
        wire["stream"] = True
        check_create_body(wire)
        enabled = automatic_continuation and continuation_enabled(wire)
        transport, policy = self._t, self._resume

        def make_raw(stream: InteractionStream) -> AsyncIterator[RawItem]:
            def start_hop(token: str | None, owner: str | None) -> AsyncIterator[RawItem]:
                hop_body = wire if token is None else continuation_body(wire, token, owner)
                state = ResumeState()
                stream.begin_hop(state)

                async def open_post() -> httpx.Response:
                    return await transport.request(
                        "POST",
                        "interactions",
                        json_body=hop_body,
                        idempotency=Idempotency.CREATE,
                        stream=True,
                        accept="text/event-stream",
                        what="create interaction (stream)",
                    )

                return follow_events(
                    transport, policy, open_post, state, label="create interaction (stream)"
                )

            return continue_stream(
                start_hop,
                enabled=enabled,
                initial_token=_str(wire.get("continuation_token")),
                on_hop=stream.hop_done,
            )

        return InteractionStream(make_raw)

    async def get(self, interaction_id: str, *, include_input: bool = False) -> Interaction:
        response = await self._t.request(
            "GET",
            f"interactions/{_seg(interaction_id)}",
            params={"stream": False, "include_input": True if include_input else None},
            what=f"get interaction {interaction_id}",
        )
        return to_interaction(decode_json_object(response, "get interaction"))

    def get_stream(
        self, interaction_id: str, *, last_event_id: str | None = None
    ) -> InteractionStream:
        """Attach to an interaction's events (after ``last_event_id``, or from the start)."""
        transport, policy = self._t, self._resume
        _seg(interaction_id)

        def make_raw(stream: InteractionStream) -> AsyncIterator[RawItem]:
            state = ResumeState(interaction_id=interaction_id, last_event_id=last_event_id)
            if last_event_id is not None:
                state.seen.add(last_event_id)
            stream.begin_hop(state)

            async def open_get() -> httpx.Response:
                return await open_event_stream(transport, interaction_id, last_event_id)

            return follow_events(
                transport, policy, open_get, state, label=f"stream interaction {interaction_id}"
            )

        return InteractionStream(make_raw)

    async def cancel(self, interaction_id: str) -> Interaction:
        """``POST …/{id}/cancel``; idempotent on the server (§13 Q16), so retried freely."""
        response = await self._t.request(
            "POST",
            f"interactions/{_seg(interaction_id)}/cancel",
            what=f"cancel interaction {interaction_id}",
        )
        return to_interaction(decode_json_object(response, "cancel interaction"))

    async def delete(self, interaction_id: str) -> None:
        await self._t.request(
            "DELETE",
            f"interactions/{_seg(interaction_id)}",
            what=f"delete interaction {interaction_id}",
        )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
