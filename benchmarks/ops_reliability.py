"""Reliability figures of triggers and webhooks (issue 16), measured on the real engine.

    .venv/bin/python benchmarks/ops_reliability.py [--runs 20]

Starts a private Secret Service keyring (dbus-daemon + gnome-keyring, as the tests do) and
the engine (scripted backend) on fresh data directories, then measures:

1. **hanging receiver**: the latency of RUNS unary creates with no webhook, then with a
   webhook whose receiver never answers (every delivery hangs until the script ends);
2. **500 then recovers**: a receiver answering 500, 500, then 200, retries from 0.5 s: the
   attempts, the time from the run's end to the delivery, and whether the Standard Webhooks
   library accepts the signature;
3. **kill -9 across scheduled fires**: a trigger firing at +3, +4 and +5 s; the engine is
   killed at once and restarted after all three: executions recorded, their scheduled
   times, the time from restart to the catch-up execution's end, and the record of an
   execution that was running when the engine died.

Prints one JSON object. The figures in docs/reliability.md §8 come from this script.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def _until(check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.01)
    raise RuntimeError("timed out")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    import httpx
    from standardwebhooks.webhooks import Webhook as Verifier

    from support.keyring_service import running_secret_service
    from support.rel_engine import TOKEN, Engine
    from support.webhook_receiver import running_receiver

    out: dict[str, Any] = {}
    root = Path(tempfile.mkdtemp(prefix="ops-bench-"))
    (root / "keyring").mkdir()
    with running_secret_service(root / "keyring") as keyring_env:
        os.environ.update(keyring_env)

        def http_for(eng: Engine) -> httpx.Client:
            return httpx.Client(base_url=eng.url, headers={"x-goog-api-key": TOKEN}, timeout=60)

        body = {"model": "scripted", "input": "[[text: a short answer]]"}

        # 1. a hanging receiver
        with (
            running_receiver() as rec,
            running_receiver() as healthy,
            Engine(root / "e1", "--webhook-timeout", "3600") as eng,
            http_for(eng) as http,
        ):
            rec.plan = ["hang"] * 10_000
            http.post("/v1beta/interactions", json=body)  # warm up
            plain = []
            for _ in range(args.runs):
                started = time.perf_counter()
                assert http.post("/v1beta/interactions", json=body).json()["status"] == "completed"
                plain.append(time.perf_counter() - started)
            for uri in (rec.url, healthy.url):
                http.post(
                    "/v1beta/webhooks",
                    json={"uri": uri, "subscribed_events": ["interaction.completed"]},
                )
            hooked, lag = [], []
            for i in range(args.runs):
                started = time.perf_counter()
                assert http.post("/v1beta/interactions", json=body).json()["status"] == "completed"
                ended = time.perf_counter()
                hooked.append(ended - started)
                healthy.wait_for(i + 1)
                lag.append(time.perf_counter() - ended)
            hanging = len(rec.received)
            rec.release.set()
        out["hanging_receiver"] = {
            "runs": args.runs, "no_webhook": _ms(plain), "with_a_hanging_webhook": _ms(hooked),
            "other_webhook_delivery_after_run_end": _ms(lag),
            "requests_to_the_hanging_receiver": hanging,
        }  # fmt: skip

        # 2. 500, 500, then 200
        with (
            running_receiver() as rec,
            Engine(root / "e2", "--webhook-retry-seconds", "0.5") as eng,
            http_for(eng) as http,
        ):
            rec.plan = [500, 500]
            hook = http.post(
                "/v1beta/webhooks",
                json={"uri": rec.url, "subscribed_events": ["interaction.completed"]},
            ).json()
            done = http.post("/v1beta/interactions", json=body).json()
            ended = time.perf_counter()
            got = rec.wait_for(3, timeout=60)
            delivered_after = time.perf_counter() - ended
            payload = Verifier(hook["new_signing_secret"]).verify(got[-1].body, got[-1].headers)
            log = http.get(f"/v1beta/webhooks/{hook['id']}/deliveries").json()["deliveries"]
        out["receiver_500_then_recovers"] = {
            "answers": [r.answered for r in got],
            "distinct_webhook_ids": len({r.headers["webhook-id"] for r in got}),
            "delivered_after_s": round(delivered_after, 2),
            "signature_valid": payload["data"]["interaction"]["id"] == done["id"],
            "log": [(d["state"], d["attempts"], d.get("last_status")) for d in log],
        }

        # 3. kill -9 across three scheduled fires
        data = root / "e3"
        eng = Engine(data).start()
        with http_for(eng) as http:
            start = dt.datetime.now(dt.UTC).replace(microsecond=0)
            seconds = ",".join(str((start + dt.timedelta(seconds=s)).second) for s in (3, 4, 5))
            trig = http.post("/v1beta/triggers", json={
                "interaction": body, "schedule": f"* * * * * {seconds}", "time_zone": "UTC",
            }).json()  # fmt: skip
            slow = http.post("/v1beta/triggers", json={
                "interaction": {"model": "scripted", "input": "[[delay: 600]]"},
                "schedule": "0 0 1 1 *", "time_zone": "UTC",
            }).json()  # fmt: skip
            running = http.post(f"/v1beta/triggers/{slow['id']}/executions").json()
        eng.kill9()
        while dt.datetime.now(dt.UTC) < start + dt.timedelta(seconds=7):
            time.sleep(0.05)
        restarted = time.perf_counter()
        eng = Engine(data).start()
        with http_for(eng) as http:

            def finished() -> list[dict[str, Any]] | None:
                items = http.get(f"/v1beta/triggers/{trig['id']}/executions").json()
                done = [e for e in items.get("trigger_executions", [])
                        if e["status"] != "in_progress"]  # fmt: skip
                return done or None

            execs = _until(finished)
            caught_up = time.perf_counter() - restarted
            time.sleep(2)  # would a burst still come?
            execs = http.get(f"/v1beta/triggers/{trig['id']}/executions").json()[
                "trigger_executions"
            ]
            lost = http.get(f"/v1beta/triggers/{slow['id']}/executions").json()[
                "trigger_executions"
            ]
            nxt = http.get(f"/v1beta/triggers/{trig['id']}").json()["next_run_time"]
        eng.stop()
        out["kill9_across_fires"] = {
            "missed_fires": 3,
            "executions": [(e["status"], e["scheduled_time"]) for e in execs],
            "planned_start": start.isoformat(),
            "restart_to_catch_up_done_s": round(caught_up, 2),
            "next_run_time": nxt,
            "in_flight_execution": [
                (e["id"] == running["id"], e["status"], e.get("error")) for e in lost
            ],
        }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
