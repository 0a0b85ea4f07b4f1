"""The top-level :class:`Client`."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from types import TracebackType

import httpx

from .agents import Agents
from .credentials import Credential
from .environments import Environments
from .files import Files
from .interactions import Interactions
from .models import Models
from .retry import ResumePolicy, RetryPolicy
from .stored_credentials import Credentials
from .transport import DEFAULT_TIMEOUT, Sleep, Transport
from .triggers import Triggers
from .webhooks import Webhooks


class Client:
    """One async client for one server (Gemini or the local engine).

    Args:
        base_url: e.g. ``https://generativelanguage.googleapis.com`` or
            ``http://127.0.0.1:8765/prefix`` (a path prefix is kept).
        api_version: ``v1`` (default), ``v1beta``, or a Vertex-style
            ``v1beta1/projects/P/locations/L``.
        api_key: sent as ``x-goog-api-key``. Mutually exclusive with ``bearer_token``.
        bearer_token: sent as ``Authorization: Bearer …``.
        timeout: per request (seconds or an ``httpx.Timeout``).
        retry: back-off for single requests.
        resume: reconnect/polling policy for dropped streams.
        headers: extra default headers (e.g. ``x-goog-user-project``).
        transport: an ``httpx.AsyncBaseTransport`` (tests, proxies).
        sleep: the coroutine used to wait between attempts (tests inject a recorder).
        rng: source of jitter in ``[0, 1)``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_version: str = "v1",
        api_key: str | Credential | None = None,
        bearer_token: str | None = None,
        timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        resume: ResumePolicy | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
        rng: Callable[[], float] | None = None,
    ) -> None:
        if api_key is not None and bearer_token is not None:
            raise ValueError("pass api_key or bearer_token, not both")
        credential: Credential | None
        if isinstance(api_key, Credential):
            credential = api_key
        elif api_key is not None:
            credential = Credential.api_key(api_key)
        elif bearer_token is not None:
            credential = Credential.bearer(bearer_token)
        else:
            credential = None
        self._transport = Transport(
            base_url,
            api_version,
            credential,
            timeout=timeout,
            retry=retry,
            headers=headers,
            http_transport=transport,
            sleep=sleep,
            rng=rng or random.random,
        )
        self.resume_policy = resume or ResumePolicy()
        self.interactions = Interactions(self._transport, self.resume_policy)
        self.agents = Agents(self._transport)
        self.environments = Environments(self._transport)
        self.webhooks = Webhooks(self._transport)
        self.triggers = Triggers(self._transport)
        self.credentials = Credentials(self._transport)
        self.files = Files(self._transport)
        self.models = Models(self._transport)

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    @property
    def api_version(self) -> str:
        return self._transport.api_version

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._transport.retry

    @property
    def is_closed(self) -> bool:
        return self._transport.is_closed

    def url(self, path: str) -> str:
        """The full URL of ``path`` under this client's base and version."""
        return self._transport.url(path)

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        cred = self._transport.credential
        auth = cred.kind if cred is not None else "none"
        return (
            f"Client(base_url={self.base_url!r}, api_version={self.api_version!r}, auth={auth!r})"
        )
