"""HTTP/1.1 pieces of the egress proxy: reading a request, editing it, writing it out.

The proxy handles one request per connection (it asks the origin to close, then pipes the
answer back unchanged), so only requests are parsed here; responses are never buffered.
Also here: the small forwarder that runs inside the sandbox (``FORWARDER``), since the
sandbox's own network namespace has nothing but loopback.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024
HOP_HEADERS = frozenset({
    "connection", "proxy-connection", "proxy-authorization", "keep-alive", "te", "trailer",
    "transfer-encoding", "upgrade",
})  # fmt: skip

PLACEHOLDER = re.compile(r"WBCRED\.([A-Za-z0-9_-]{1,63})\.([0-9a-f]{24})")
"""What an ``environment_variable`` credential looks like to sandboxed code."""


class BadRequest(Exception):
    """A request the proxy cannot read (answered with 400 and this message)."""


@dataclass
class Request:
    """One parsed request (head and body)."""

    method: str
    target: str
    version: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                return value
        return None

    def set_header(self, name: str, value: str) -> None:
        """Replace every header called ``name`` (any case) by one with ``value``."""
        lower = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != lower]
        self.headers.append((name, value))

    def encode(self, target: str) -> bytes:
        """The request as sent to the origin: ``target`` form, hop headers dropped, the body
        with an exact ``Content-Length`` and ``Connection: close``."""
        lines = [f"{self.method} {target} HTTP/1.1"]
        for key, value in self.headers:
            if key.lower() not in HOP_HEADERS and key.lower() != "content-length":
                lines.append(f"{key}: {value}")
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(self.body)}")
        lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


async def read_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None = None
) -> Request | None:
    """The next request on ``reader`` (None when the client closed before sending one).

    ``Expect: 100-continue`` is answered on ``writer`` before the body is read (the origin
    then gets the whole body at once, without the header).
    """
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise BadRequest("the request head ended early") from None
    except asyncio.LimitOverrunError:
        raise BadRequest(f"the request head is larger than {MAX_HEAD_BYTES} bytes") from None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(f"not an HTTP/1.x request line: {lines[0][:200]!r}")
    request = Request(parts[0].upper(), parts[1], parts[2])
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise BadRequest(f"malformed header line: {line[:200]!r}")
        request.headers.append((name.strip(), value.strip()))
    if request.method != "CONNECT":
        if (request.header("Expect") or "").lower() == "100-continue":
            request.headers = [(k, v) for k, v in request.headers if k.lower() != "expect"]
            if writer is not None:
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                await writer.drain()
        request.body = await _read_body(reader, request)
    return request


async def _read_body(reader: asyncio.StreamReader, request: Request) -> bytes:
    encoding = (request.header("Transfer-Encoding") or "").lower()
    if "chunked" in encoding:
        chunks: list[bytes] = []
        size_total = 0
        while True:
            line = await reader.readline()
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise BadRequest("malformed chunked body") from None
            if size == 0:
                while (await reader.readline()).strip():
                    pass  # trailers are dropped
                return b"".join(chunks)
            size_total += size
            if size_total > MAX_BODY_BYTES:
                raise BadRequest(f"the request body is larger than {MAX_BODY_BYTES} bytes")
            chunks.append(await reader.readexactly(size))
            await reader.readline()
    length = request.header("Content-Length")
    if length is None:
        return b""
    try:
        count = int(length)
    except ValueError:
        raise BadRequest(f"Content-Length is not a number: {length!r}") from None
    if count < 0 or count > MAX_BODY_BYTES:
        raise BadRequest(f"the request body is larger than {MAX_BODY_BYTES} bytes")
    try:
        return await reader.readexactly(count)
    except asyncio.IncompleteReadError:
        raise BadRequest("the request body ended early") from None


def answer(status: int, reason: str, text: str) -> bytes:
    """A complete plain-text response from the proxy itself."""
    body = (text.rstrip("\n") + "\n").encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\nX-Workbench-Egress: refused\r\n\r\n"
    )
    return head.encode("latin-1") + body


def split_host_port(authority: str, default_port: int) -> tuple[str, int]:
    """``host[:port]`` (IPv6 in brackets) → (lower-case host, port)."""
    authority = authority.strip()
    if authority.startswith("["):
        host, _, rest = authority[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port_text = authority.rpartition(":") if ":" in authority else (authority, "", "")
    try:
        port = int(port_text) if port_text else default_port
    except ValueError:
        raise BadRequest(f"bad port in {authority!r}") from None
    if not host or not 0 < port < 65536:
        raise BadRequest(f"bad host or port in {authority!r}")
    return host.lower().rstrip("."), port


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy ``reader`` to ``writer`` until end of file, then half-close ``writer``."""
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


FORWARDER = r"""
import os, selectors, socket, sys
path, port = sys.argv[1], int(sys.argv[2])
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(128)
if os.fork() != 0:
    ls.close()
    os.execvp(sys.argv[3], sys.argv[3:])
null = os.open(os.devnull, os.O_RDWR)
for fd in (0, 1, 2):
    os.dup2(null, fd)
sel = selectors.DefaultSelector()
sel.register(ls, selectors.EVENT_READ)
peer, eof = {}, set()
def drop(s):
    for x in (s, peer.pop(s, None)):
        if x is not None:
            peer.pop(x, None)
            eof.discard(x)
            try:
                sel.unregister(x)
            except (KeyError, ValueError):
                pass
            x.close()
while True:
    for key, _ in sel.select():
        s = key.fileobj
        if s is ls:
            c = ls.accept()[0]
            u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                u.connect(path)
            except OSError:
                c.close()
                u.close()
                continue
            peer[c], peer[u] = u, c
            sel.register(c, selectors.EVENT_READ)
            sel.register(u, selectors.EVENT_READ)
            continue
        if s not in peer:
            continue
        try:
            data = s.recv(65536)
        except OSError:
            data = None
        other = peer[s]
        if data:
            try:
                other.sendall(data)
                continue
            except OSError:
                data = None
        if data is None:
            drop(s)
            continue
        sel.unregister(s)
        eof.add(s)
        try:
            other.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        if other in eof:
            drop(s)
"""
"""Runs first inside the sandbox: listens on 127.0.0.1:<port> (before the code starts),
forks a relay to the engine's proxy socket, and execs the rest of its arguments."""
