"""A real HTTP server on 127.0.0.1 for webhook (and egress) tests: scripted answers, every
request kept (GET and POST alike; ``reply`` is the body sent).

``plan`` is the answers to give, in order (an HTTP status, or ``"hang"``: block until
``release`` is set); once it is used up every request gets 200. Requests are recorded with
their headers and raw body so tests can verify signatures with the ``standardwebhooks``
package.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int | str


@dataclass
class Receiver:
    url: str
    plan: list[int | str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    hanging: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    reply: bytes = b"ok"
    reply_type: str = "text/plain"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Block until ``count`` requests arrived (fails the test after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} deliveries, got {len(self.received)}")


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.do_POST()

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            with receiver.lock:
                answer: int | str = receiver.plan.pop(0) if receiver.plan else 200
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.received.append(Received(self.path, headers, body, answer))
            if answer == "hang":
                receiver.hanging.set()
                receiver.release.wait(60)
                answer = 200
            assert isinstance(answer, int)
            try:
                self.send_response(answer)
                self.send_header("content-type", receiver.reply_type)
                self.send_header("content-length", str(len(receiver.reply)))
                self.end_headers()
                self.wfile.write(receiver.reply)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up waiting (its timeout): nothing to answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextlib.contextmanager
def running_receiver() -> Iterator[Receiver]:
    """A receiver on a free port of 127.0.0.1, stopped on exit."""
    rec = Receiver("")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec))
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        rec.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as rec:
        yield rec
