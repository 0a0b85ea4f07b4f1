"""A TCP proxy on 127.0.0.1 that cuts connections after a chosen number of bytes.

It runs its own asyncio loop in a background thread, so sync tests, async tests and Qt tests
can all use it. Each accepted connection takes the next entry of :attr:`CutProxy.plan`
(``None`` = never cut; once the plan is exhausted connections are not cut): after that many
bytes have gone from the server to the client, both sides are closed abruptly (RST), which
breaks a stream at an arbitrary point — mid-event, mid-line or mid-header included.

    with CutProxy("127.0.0.1", server.port) as proxy:
        proxy.plan = [1234]          # the first connection dies after 1234 bytes
        client = Client(proxy.url, ...)

With ``match`` set (e.g. ``b"POST "``), plan entries are taken by *requests* instead: each
request whose first bytes start with ``match`` takes the next entry, counted from the start
of its response — also on a kept-alive connection. Other requests are never cut.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from dataclasses import dataclass, field


@dataclass
class ConnectionStats:
    cut_after: int | None
    down_bytes: int = 0  # server -> client
    up_bytes: int = 0  # client -> server
    cut: bool = False
    matched_at: int | None = None  # down_bytes when a request matching ``match`` was seen
    upstream: bytearray = field(default_factory=bytearray)
    downstream: bytearray = field(default_factory=bytearray)  # kept when record=True


class CutProxy:
    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        record: bool = False,
        match: bytes | None = None,
    ) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.record = record
        self.match = match
        self.plan: list[int | None] = []
        self.connections: list[ConnectionStats] = []
        self.port = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> CutProxy:
        self._thread = threading.Thread(target=self._run, name="cut-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("cut proxy did not start")
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()

    async def _main(self) -> None:
        self._stopped = asyncio.Event()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stopped.wait()
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
            if self._thread.is_alive():  # pragma: no cover - diagnostic
                raise RuntimeError("cut proxy thread did not stop")
        self._thread = None

    def __enter__(self) -> CutProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test-side helpers ----------------------------------------------------------------

    def set_plan(self, plan: list[int | None]) -> None:
        with self._lock:
            self.plan = list(plan)

    def stats(self) -> list[ConnectionStats]:
        with self._lock:
            return list(self.connections)

    # -- proxying -------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        with self._lock:
            cut_after = self.plan.pop(0) if self.plan and self.match is None else None
            stats = ConnectionStats(cut_after)
            self.connections.append(stats)
        up_writer: asyncio.StreamWriter | None = None
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
            done = asyncio.Event()
            pumps = [
                asyncio.create_task(self._pump(reader, up_writer, stats, False, done)),
                asyncio.create_task(self._pump(up_reader, writer, stats, True, done)),
            ]
            await done.wait()
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            for w in (writer, up_writer):
                if w is not None:
                    _abort(w)
            self._tasks.discard(task)

    async def _pump(
        self,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        stats: ConnectionStats,
        downstream: bool,
        done: asyncio.Event,
    ) -> None:
        try:
            while True:
                data = await src.read(65536)
                if not data:
                    # Half-close: pass the EOF on, keep the other direction open.
                    with contextlib.suppress(OSError):
                        if dst.can_write_eof():
                            dst.write_eof()
                    if downstream:
                        done.set()
                    return
                if downstream:
                    limit = stats.cut_after
                    if limit is not None and stats.down_bytes + len(data) >= limit:
                        keep = limit - stats.down_bytes
                        if keep > 0:
                            if self.record:
                                stats.downstream.extend(data[:keep])
                            dst.write(data[:keep])
                            await dst.drain()
                        stats.down_bytes += max(keep, 0)
                        stats.cut = True
                        done.set()
                        return
                    stats.down_bytes += len(data)
                    if self.record:
                        stats.downstream.extend(data)
                else:
                    if self.match is not None and data.startswith(self.match):
                        stats.matched_at = stats.down_bytes
                        with self._lock:
                            if self.plan and stats.cut_after is None:
                                stats.cut_after = stats.down_bytes + self.plan.pop(0)
                    stats.up_bytes += len(data)
                    if self.record:
                        stats.upstream.extend(data)
                dst.write(data)
                await dst.drain()
        except (OSError, ConnectionError):
            done.set()


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0) so the peer sees an abrupt cut, not a clean FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(Exception):
        writer.transport.abort()
