"""The engine's overhead over a real OpenAI-compatible server: same model, prompt and server.

    .venv/bin/python benchmarks/engine_overhead.py [--tokens 96] [--repeat 3] [--threads 2]

What runs:

* llama-cpp-python's own server (``python -m llama_cpp.server``) with the default packaged
  model (Qwen2.5-Coder-0.5B-Instruct Q4_K_M, assembled and sha256-checked into ``--home``)
  on a loopback port;
* ``workbench-engine --backend openai --openai-base-url <that server>`` in front of it, the
  way the app's "Use this server" starts it.

Each repetition sends one fresh prompt (so no side profits from the server's prompt cache)
both ways, back to back, alternating who goes first: **direct** is
``POST /v1/chat/completions`` with ``stream: true`` to the server; **engine** is
``POST /v1beta/interactions`` with ``stream: true`` to the engine (which streams from the
same server). Both use greedy decoding and the same ``max_tokens``; output tokens come from
each side's ``usage``. Reported per side: end-to-end tokens/s (output tokens ÷ time from
sending the request to the last text) and decode tokens/s ((tokens − 1) ÷ (last − first
text)), the median over repetitions; the ratio engine ÷ direct is the overhead figure
(target ≥ 0.95). Runs in about a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import connect_sse

from workbench.engine.backends import model_files

TOKEN = "bench-token"
MODEL = model_files.DEFAULT_MODEL.id
BASE_PROMPT = (
    "Write a Python function that checks whether a string is a palindrome, and explain it."
)


@dataclass
class Sample:
    tokens: int
    seconds: float
    """Request sent → last text."""
    decode_tps: float

    @property
    def e2e_tps(self) -> float:
        return self.tokens / self.seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(model: Path, threads: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", MODEL,
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
        "--n_threads", str(threads), "--n_threads_batch", str(threads),
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: {log.read_text(errors='replace')[-1500:]}")
        try:
            if httpx.get(f"{base}/models", timeout=2, trust_env=False).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the server did not start within 120 s")


def start_engine(base: str, data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable, "-m", "workbench.engine", "--port", "0", "--data-dir", str(data_dir),
        "--token", TOKEN, "--backend", "openai", "--openai-base-url", base, "--model", MODEL,
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        err = proc.stderr.read() if proc.stderr else ""
        raise SystemExit(f"the engine did not start: {err.strip()}")
    return proc, str(json.loads(line)["url"])


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def _sample(tokens: int, started: float, first: float, last: float) -> Sample:
    if not tokens or not first:
        raise SystemExit("no output tokens came back")
    return Sample(tokens, last - started, (tokens - 1) / max(last - first, 1e-9))


def direct_once(client: httpx.Client, base: str, prompt: str, tokens: int) -> Sample:
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": prompt}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.0,
        "max_tokens": tokens,
    }
    first = last = 0.0
    out_tokens = chunks = 0
    started = time.perf_counter()
    with connect_sse(client, "POST", f"{base}/chat/completions", json=body) as source:
        for event in source.iter_sse():
            if event.data == "[DONE]":
                break
            data = json.loads(event.data)
            if data.get("usage"):
                out_tokens = int(data["usage"].get("completion_tokens") or 0)
            for choice in data.get("choices") or []:
                if (choice.get("delta") or {}).get("content"):
                    now = time.perf_counter()
                    first = first or now
                    last = now
                    chunks += 1
    return _sample(out_tokens or chunks, started, first, last)


def engine_once(client: httpx.Client, url: str, prompt: str, tokens: int) -> Sample:
    body = {
        "model": MODEL,
        "input": prompt,
        "stream": True,
        "generation_config": {"temperature": 0.0, "max_output_tokens": tokens},
    }
    first = last = 0.0
    out_tokens = 0
    started = time.perf_counter()
    headers = {"x-goog-api-key": TOKEN}
    url = f"{url}/v1beta/interactions"
    with connect_sse(client, "POST", url, json=body, headers=headers) as source:
        for event in source.iter_sse():
            if event.data == "[DONE]":
                break
            data: dict[str, Any] = json.loads(event.data)
            kind = data.get("event_type")
            if kind == "step.delta" and (data.get("delta") or {}).get("type") == "text":
                now = time.perf_counter()
                first = first or now
                last = now
            elif kind == "interaction.completed":
                out_tokens = int(data["interaction"]["usage"]["total_output_tokens"])
            elif kind in ("error", "interaction.failed"):
                raise SystemExit(f"engine failed: {data}")
    return _sample(out_tokens, started, first, last)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=96, help="max output tokens")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="the server's llama.cpp threads")
    parser.add_argument("--home", type=Path, help="folder holding models/ (reused between runs)")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="overhead-home-"))
    model = model_files.ensure_model_file(model_files.DEFAULT_MODEL, home / "models")
    work = Path(tempfile.mkdtemp(prefix="overhead-"))
    server, base = start_server(model, args.threads, work / "server.log")
    engine: subprocess.Popen[str] | None = None
    direct: list[Sample] = []
    through: list[Sample] = []
    try:
        engine, url = start_engine(base, work / "engine")
        with httpx.Client(timeout=300, trust_env=False) as client:
            direct_once(client, base, "Say hi.", 8)  # warm-up: connections, first decode
            engine_once(client, url, "Say hi.", 8)
            for i in range(args.repeat):
                prompt = f"{BASE_PROMPT} (Variant {i + 1}.)"
                order = ("engine", "direct") if i % 2 == 0 else ("direct", "engine")
                for side in order:
                    if side == "engine":
                        through.append(engine_once(client, url, prompt, args.tokens))
                    else:
                        direct.append(direct_once(client, base, prompt, args.tokens))
                    last = (through if side == "engine" else direct)[-1]
                    print(f"  {i + 1} {side}: {last.tokens} tokens, {last.e2e_tps:.1f} tok/s "
                          f"end to end, {last.decode_tps:.1f} decoding", flush=True)  # fmt: skip
    finally:
        if engine is not None:
            stop(engine)
        stop(server)

    def med(samples: list[Sample], attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in samples)

    print(f"model {MODEL}, {args.threads} server threads, {args.repeat} repetitions, "
          f"max {args.tokens} tokens, CPUs {os.cpu_count()}")  # fmt: skip
    print(f"{'side':8} {'tokens':>7} {'e2e tok/s':>10} {'decode tok/s':>13}")
    for name, samples in (("direct", direct), ("engine", through)):
        tokens = statistics.median(s.tokens for s in samples)
        e2e, decode = med(samples, "e2e_tps"), med(samples, "decode_tps")
        print(f"{name:8} {tokens:7.0f} {e2e:10.1f} {decode:13.1f}")
    e2e_ratio = med(through, "e2e_tps") / med(direct, "e2e_tps")
    decode_ratio = med(through, "decode_tps") / med(direct, "decode_tps")
    print(f"engine ÷ direct: end-to-end {e2e_ratio:.3f}, decode {decode_ratio:.3f} (target ≥ 0.95)")
    for name, samples in (("direct", direct), ("engine", through)):
        runs = ", ".join(f"{s.tokens} tok {s.e2e_tps:.1f}/{s.decode_tps:.1f}" for s in samples)
        print(f"  {name}: {runs}")


if __name__ == "__main__":
    main()
