"""The egress proxy: sandboxed code reaches the network only through the engine.

When an environment has network access and bubblewrap isolates the code, the sandbox keeps
its own empty network namespace; a relay inside it (``egress_http.FORWARDER``) listens on
``127.0.0.1:3128`` and hands each connection to a Unix socket of this proxy, made for that
one run and bound into the sandbox. ``HTTP_PROXY``/``HTTPS_PROXY`` point at the relay, so
the proxy knows which environment a request comes from without any token in the URL, and
code cannot go around it (there is no other route out).

For every request the proxy checks the host against the environment's network rules
(refused: **403** with a plain body saying why), then:

* plain HTTP: adds the matching allowlist entry's ``transform`` headers and the header of the
  credential it names, swaps ``environment_variable`` placeholders (``WBCRED.<id>.<mac>``)
  for their values in the locations the credential allows (``header``, ``query``, ``body``)
  when the host is in its ``trusted_domains``, and forwards the request;
* HTTPS (``CONNECT``): a host that gets any of that is intercepted — the proxy ends TLS with
  a certificate from the engine's CA (``tls_ca.py``), edits the request the same way and
  sends it on over verified TLS; any other allowed host is tunnelled byte for byte.

Values are looked up on every request (``CredentialSource``), so a rotated or deleted
credential takes effect on the next request. They exist only in the engine process: not in
the sandbox's environment, files or proxy URL, and never in a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
import shutil
import ssl
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlsplit

from . import egress_http as h
from .network import DomainRule, NetworkPolicy
from .tls_ca import LocalCA

log = logging.getLogger("workbench.engine.egress")

SANDBOX_PORT = 3128
SANDBOX_SOCKET = "/tmp/.workbench/egress.sock"
SANDBOX_BUNDLE = "/tmp/.workbench/ca-bundle.pem"
CONNECT_TIMEOUT_SECONDS = 20.0


class EgressUnavailable(Exception):
    """The proxy could not be set up for a run (its CA or socket); the message says why."""


class Refused(Exception):
    """A request the proxy will not send; the message is the 403 body."""


class CredentialSource(Protocol):
    """Where the proxy gets credential values (``ops/egress.py``), asked per request."""

    async def rule_header(self, credential_id: str, domain: str) -> tuple[str, str]:
        """The header of the credential an allowlist entry names; ``Refused`` when it has
        none any more (deleted, revoked, unreadable)."""
        ...

    async def trusts(self, credential_id: str, host: str) -> bool:
        """Whether ``host`` is in the ``environment_variable`` credential's trusted domains."""
        ...

    async def value(self, credential_id: str, host: str, location: str) -> str | None:
        """The credential's value for ``host`` at ``location``, or None when not allowed."""
        ...


@dataclass(frozen=True)
class EgressGrant:
    """What one environment's code may reach, and the credentials its placeholders name."""

    proxy: EgressProxy
    env_id: str
    policy: NetworkPolicy
    credentials: tuple[str, ...] = ()


@dataclass
class Session:
    """One run's proxy socket; ``bwrap_args``/``env``/``argv_prefix`` wire a sandbox to it."""

    socket_path: Path
    bundle_path: Path
    python: str
    bwrap_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    argv_prefix: list[str] = field(default_factory=list)


def sandbox_env() -> dict[str, str]:
    """Proxy and CA variables as code inside the sandbox sees them (no secret in any)."""
    url = f"http://127.0.0.1:{SANDBOX_PORT}"
    env = {name: url for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS",
                 "PIP_CERT", "GIT_SSL_CAINFO"):  # fmt: skip
        env[name] = SANDBOX_BUNDLE
    return env


class EgressProxy:
    """One per engine: the CA, the placeholder key and the per-run proxy sockets.

    Args:
        ca_dir: where the CA lives (in the engine's data dir).
        source: credential lookups.
        upstream_tls: how the proxy verifies origins it intercepts (the system's CAs, which
            honour ``SSL_CERT_FILE`` of the engine process, when None).
    """

    def __init__(
        self, ca_dir: Path, source: CredentialSource, upstream_tls: ssl.SSLContext | None = None
    ) -> None:
        self.ca = LocalCA(ca_dir)
        self.source = source
        self.upstream_tls = upstream_tls or ssl.create_default_context()
        self._key = secrets.token_bytes(32)

    def placeholder(self, env_id: str, credential_id: str) -> str:
        """The stand-in value code sees for a credential (valid only in ``env_id``)."""
        return f"WBCRED.{credential_id}.{self.mac(env_id, credential_id)}"

    def mac(self, env_id: str, credential_id: str) -> str:
        """The placeholder's check part: only this engine process can make it."""
        msg = f"{env_id}\0{credential_id}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()[:24]

    def grant(
        self, env_id: str, policy: NetworkPolicy, credentials: tuple[str, ...] = ()
    ) -> EgressGrant:
        return EgressGrant(self, env_id, policy, credentials)

    @contextlib.asynccontextmanager
    async def session(self, grant: EgressGrant, python: str) -> AsyncIterator[Session]:
        """A Unix socket serving ``grant`` for the length of one run."""
        try:
            await asyncio.to_thread(self.ca.ensure)
            folder = Path(tempfile.mkdtemp(prefix="wb-egress-"))
        except (OSError, ValueError) as exc:
            raise EgressUnavailable(f"its certificate authority or socket folder: {exc}") from exc
        path = folder / "proxy.sock"
        tasks: set[asyncio.Task[None]] = set()

        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)
            try:
                await _Connection(self, grant, reader, writer).serve()
            finally:
                tasks.discard(task)

        try:
            server = await asyncio.start_unix_server(accept, path, limit=h.MAX_HEAD_BYTES)
        except OSError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise EgressUnavailable(f"its socket {path}: {exc}") from exc
        try:
            session = Session(path, self.ca.bundle_path, python)
            session.bwrap_args = [
                "--bind", str(path), SANDBOX_SOCKET,
                "--ro-bind", str(self.ca.bundle_path), SANDBOX_BUNDLE,
            ]  # fmt: skip
            session.env = sandbox_env()
            session.argv_prefix = [
                python, "-S", "-c", h.FORWARDER, SANDBOX_SOCKET, str(SANDBOX_PORT)
            ]  # fmt: skip
            yield session
        finally:
            server.close()
            for task in list(tasks):
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)
            shutil.rmtree(folder, ignore_errors=True)


@contextlib.asynccontextmanager
async def session_for(grant: EgressGrant | None, python: str) -> AsyncIterator[Session | None]:
    """``grant``'s proxy session for one run, or None without a grant."""
    if grant is None:
        yield None
        return
    async with grant.proxy.session(grant, python) as session:
        yield session


class _Connection:
    """One client connection from the sandbox: one request (or one tunnel)."""

    def __init__(
        self,
        proxy: EgressProxy,
        grant: EgressGrant,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.proxy, self.grant = proxy, grant
        self.reader, self.writer = reader, writer

    async def serve(self) -> None:
        try:
            request = await h.read_request(self.reader, self.writer)
            if request is None:
                return
            if request.method == "CONNECT":
                await self._connect(request)
            else:
                await self._plain(request)
        except h.BadRequest as exc:
            await self._say(h.answer(400, "Bad Request", f"workbench egress proxy: {exc}"))
        except Refused as exc:
            await self._say(h.answer(403, "Forbidden", f"workbench egress proxy: {exc}"))
        except (ConnectionError, OSError, asyncio.IncompleteReadError, ssl.SSLError) as exc:
            log.debug("egress %s: connection ended (%s)", self.grant.env_id, type(exc).__name__)
        finally:
            with contextlib.suppress(Exception):
                self.writer.close()

    async def _say(self, data: bytes) -> None:
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            self.writer.write(data)
            await self.writer.drain()

    def _rule(self, host: str) -> DomainRule:
        rule = self.grant.policy.rule_for(host)
        if rule is None:
            log.info("egress %s: refused %s (not allowed)", self.grant.env_id, host)
            raise Refused(
                f"{host} is not allowed by this environment's network rules "
                f"({self.grant.policy.describe()})"
            )
        return rule

    async def _plain(self, request: h.Request) -> None:
        url = urlsplit(request.target)
        if url.scheme != "http" or not url.netloc:
            raise h.BadRequest(
                "send absolute http:// URLs to this proxy, and use CONNECT for https"
            )
        host, port = h.split_host_port(url.netloc.rpartition("@")[2], 80)
        rule = self._rule(host)
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        target = await self._edit(request, rule, host, target)
        log.debug("egress %s: http %s %s", self.grant.env_id, request.method, host)
        upstream = await self._open(host, port, None)
        await self._exchange(request, target, upstream)

    async def _connect(self, request: h.Request) -> None:
        host, port = h.split_host_port(request.target, 443)
        rule = self._rule(host)
        intercept = bool(rule.headers or rule.credential)
        for credential_id in self.grant.credentials:
            intercept = intercept or await self.proxy.source.trusts(credential_id, host)
        if not intercept:
            log.debug("egress %s: tunnel %s:%d", self.grant.env_id, host, port)
            up_reader, up_writer = await self._open(host, port, None)
            await self._say(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await asyncio.gather(h.pipe(self.reader, up_writer), h.pipe(up_reader, self.writer))
            up_writer.close()
            return
        log.debug("egress %s: intercept %s:%d", self.grant.env_id, host, port)
        context = await asyncio.to_thread(self.proxy.ca.server_context, host)
        await self._say(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await self.writer.start_tls(context)
        inner = await h.read_request(self.reader, self.writer)
        if inner is None:
            return
        url = urlsplit(inner.target)
        target = inner.target
        if url.scheme:  # an absolute URL inside the tunnel is allowed by HTTP/1.1
            target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        target = await self._edit(inner, rule, host, target)
        upstream = await self._open(host, port, self.proxy.upstream_tls)
        await self._exchange(inner, target, upstream)

    async def _open(
        self, host: str, port: int, tls: ssl.SSLContext | None
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=tls, server_hostname=host if tls else None),
                CONNECT_TIMEOUT_SECONDS,
            )
        except ssl.SSLError as exc:
            raise Refused(
                f"{host}:{port} did not present a trusted certificate ({exc.reason})"
            ) from None
        except (OSError, TimeoutError) as exc:
            await self._say(h.answer(
                502, "Bad Gateway", f"workbench egress proxy: cannot reach {host}:{port} "
                f"({type(exc).__name__})",
            ))  # fmt: skip
            raise ConnectionError("origin unreachable") from None

    async def _exchange(
        self,
        request: h.Request,
        target: str,
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    ) -> None:
        up_reader, up_writer = upstream
        try:
            up_writer.write(request.encode(target))
            await up_writer.drain()
            await h.pipe(up_reader, self.writer)
        finally:
            up_writer.close()

    async def _edit(self, request: h.Request, rule: DomainRule, host: str, target: str) -> str:
        """Add the rule's headers and credential, swap placeholders; the new target."""
        headers = list(rule.headers)
        if rule.credential:
            headers.append(await self.proxy.source.rule_header(rule.credential, rule.domain))
        for name, value in headers:
            if any(c in name + value for c in "\r\n\0"):
                raise Refused(f"the {name} header for {host} holds a line break; not sent")
            request.set_header(name, _latin(value))
        request.headers = [
            (k, await self._swap(v, host, "header", _latin)) for k, v in request.headers
        ]
        path, mark, query = target.partition("?")
        if mark:  # placeholders count as "query" only in the query, not in the path
            query = await self._swap(query, host, "query", lambda v: quote(v, safe=""))
            target = f"{path}?{query}"
        if request.body and b"WBCRED." in request.body:
            text = request.body.decode("latin-1")
            request.body = (await self._swap(text, host, "body", _latin)).encode("latin-1")
        return target

    async def _swap(self, text: str, host: str, location: str, encode: Callable[[str], str]) -> str:
        if "WBCRED." not in text:
            return text
        out: list[str] = []
        last = 0
        for match in h.PLACEHOLDER.finditer(text):
            credential_id, mac = match.group(1), match.group(2)
            expected = self.proxy.mac(self.grant.env_id, credential_id)
            value: str | None = None
            if credential_id in self.grant.credentials and hmac.compare_digest(mac, expected):
                value = await self.proxy.source.value(credential_id, host, location)
            if value is not None and location == "header" and any(c in value for c in "\r\n\0"):
                value = None  # a line break would split the request head
            if value is None:
                log.debug("egress %s: placeholder of %r kept (%s, %s)",
                          self.grant.env_id, credential_id, host, location)  # fmt: skip
                continue
            out.append(text[last : match.start()])
            out.append(encode(value))
            last = match.end()
        out.append(text[last:])
        return "".join(out)


def _latin(value: str) -> str:
    """A value as it goes into a head or body handled as Latin-1 text (its UTF-8 bytes)."""
    return value.encode("utf-8").decode("latin-1")
