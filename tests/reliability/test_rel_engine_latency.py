"""Found by the crash suite: every request on a kept-alive connection to the engine took
~43 ms. The engine made its listening socket with protocol 0, so asyncio never switched
Nagle's algorithm off (``TCP_NODELAY``) on accepted connections: a reply's second segment
waited for the client's delayed ACK. Clients (the app, the SDK) keep connections alive, so
every GET, every poll and every small SSE write paid it. Now ~1 ms.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import httpx

from support.rel_engine import Engine


def test_requests_on_a_kept_alive_connection_are_not_delayed(
    engines: Callable[..., Engine],
) -> None:
    eng = engines()
    with httpx.Client(base_url=eng.url, headers={"x-goog-api-key": eng.token}) as http:
        made = http.post("/v1beta/interactions", json={"model": "scripted", "input": "hi"}).json()
        times = []
        for _ in range(20):
            started = time.perf_counter()
            assert http.get(f"/v1beta/interactions/{made['id']}").status_code == 200
            times.append(time.perf_counter() - started)
    assert statistics.median(times) < 0.015, times  # was 0.043 (delayed ACK) every time
