"""The engine over HTTP against llama-cpp-python in-process: same model, prompt and settings.

    .venv/bin/python benchmarks/engine_vs_llama.py [--tokens 200] [--repeat 3] [--threads N]

What runs, in one process run:

* the default model (Qwen2.5-Coder-0.5B-Instruct Q4_K_M) is assembled/verified once into a
  temporary ``WORKBENCH_HOME`` (or ``--home``), so both sides load the same file;
* ``workbench-engine --backend llama`` is started as a subprocess (it loads the model at
  startup); each repetition sends ``POST /v1beta/interactions`` with ``stream: true`` and
  greedy decoding, reads the SSE stream, and takes the token count from ``usage``;
* ``llama_cpp.Llama`` in this process, with the engine's settings (n_ctx 8192, n_batch 512,
  the same thread count: all cores, or ``--threads N`` for both sides), runs
  ``create_chat_completion(stream=True)`` on the same messages (the GGUF's own chat
  template, as the engine uses) and counts tokens with the model's tokenizer.

Each repetition uses a fresh prompt (so neither side profits from its prompt cache), run by
both sides back to back, alternating which goes first. Decode speed is
``(tokens - 1) / (last token time - first token time)``; TTFT is from sending the request to
the first text. The best repetition of each side counts. Also printed: the engine's resident
memory with the scripted backend (no model), with the model loaded and idle, and its peak
while generating. Targets: decode speed ratio engine/raw ≥ 0.95, TTFT difference ≤ 30 ms.
"""

from __future__ import annotations

import argparse
import json
import os
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
from workbench.engine.backends.llama import DEFAULT_N_CTX
from workbench.engine.backends.llama_threads import default_threads

TOKEN = "bench-token"
MODEL = model_files.DEFAULT_MODEL.id
BASE_PROMPT = (
    "Explain, with a short Python example, how a binary search works and what its time "
    "complexity is."
)


@dataclass
class Sample:
    ttft: float
    tokens: int
    decode_tps: float


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of ``pid`` in KiB, from /proc."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields["VmRSS"], fields["VmHWM"]


class Engine:
    """A ``workbench-engine`` subprocess; always stopped by ``stop``."""

    def __init__(self, backend: str, home: Path) -> None:
        data_dir = Path(tempfile.mkdtemp(prefix="engine-data-"))
        env = {**os.environ, "WORKBENCH_HOME": str(home)}
        exe = Path(sys.executable).with_name("workbench-engine")
        command = [str(exe), "--backend", backend, "--port", "0"]
        command += ["--data-dir", str(data_dir), "--token", TOKEN]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            err = self.process.stderr.read() if self.process.stderr else ""
            self.stop()
            raise SystemExit(f"the engine did not start: {err.strip()}")
        self.url = json.loads(line)["url"]
        self.pid = int(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


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
    with connect_sse(
        client, "POST", f"{url}/v1beta/interactions", json=body, headers={"x-goog-api-key": TOKEN}
    ) as source:
        if source.response.status_code != 200:
            source.response.read()
            raise SystemExit(
                f"engine answered {source.response.status_code}: {source.response.text}"
            )
        for event in source.iter_sse():
            if event.data == "[DONE]":
                break
            data: dict[str, Any] = json.loads(event.data)
            kind = data.get("event_type")
            if kind == "step.delta" and data.get("delta", {}).get("type") == "text":
                now = time.perf_counter()
                first = first or now
                last = now
            elif kind == "interaction.completed":
                out_tokens = int(data["interaction"]["usage"]["total_output_tokens"])
            elif kind in ("error", "interaction.failed"):
                raise SystemExit(f"engine failed: {data}")
    ttft = first - started
    return Sample(ttft, out_tokens, (out_tokens - 1) / max(last - first, 1e-9))


def raw_once(llm: Any, prompt: str, tokens: int) -> Sample:
    messages = [{"role": "user", "content": prompt}]
    first = last = 0.0
    text: list[str] = []
    started = time.perf_counter()
    stream = llm.create_chat_completion(
        messages, stream=True, temperature=0.0, max_tokens=tokens, top_k=20, top_p=1.0, min_p=0.0
    )
    for chunk in stream:
        piece = chunk["choices"][0]["delta"].get("content")
        if piece:
            now = time.perf_counter()
            first = first or now
            last = now
            text.append(piece)
    out_tokens = len(llm.tokenize("".join(text).encode(), add_bos=False, special=False))
    return Sample(first - started, out_tokens, (out_tokens - 1) / max(last - first, 1e-9))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=200, help="max output tokens")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--home", type=Path, help="WORKBENCH_HOME holding models/ (reused)")
    parser.add_argument("--threads", type=int, help="llama.cpp threads, both sides (all cores)")
    args = parser.parse_args()
    if args.threads:
        os.environ["WORKBENCH_LLAMA_THREADS"] = str(args.threads)  # the engine inherits it

    from llama_cpp import Llama

    home = args.home or Path(tempfile.mkdtemp(prefix="bench-home-"))
    path = model_files.ensure_model_file(model_files.DEFAULT_MODEL, home / "models")

    scripted = Engine("scripted", home)
    time.sleep(1.0)
    bare_rss, _ = rss_kib(scripted.pid)
    scripted.stop()

    t0 = time.perf_counter()
    engine = Engine("llama", home)
    engine_start = time.perf_counter() - t0
    time.sleep(1.0)
    idle_rss, _ = rss_kib(engine.pid)
    threads = default_threads()
    llm = Llama(
        model_path=str(path), n_ctx=DEFAULT_N_CTX, n_threads=threads, n_threads_batch=threads,
        n_batch=512, verbose=False,
    )  # fmt: skip
    engine_samples: list[Sample] = []
    raw_samples: list[Sample] = []
    try:
        with httpx.Client(timeout=300, trust_env=False) as client:
            engine_once(client, engine.url, "Say hi.", 8)  # warm-up (connection, first run)
            raw_once(llm, "Say hi.", 8)
            for i in range(args.repeat):
                prompt = f"{BASE_PROMPT} (Variant {i + 1}.)"
                order = ("engine", "raw") if i % 2 == 0 else ("raw", "engine")
                for side in order:
                    if side == "engine":
                        engine_samples.append(engine_once(client, engine.url, prompt, args.tokens))
                    else:
                        raw_samples.append(raw_once(llm, prompt, args.tokens))
        loaded_rss, peak_rss = rss_kib(engine.pid)
    finally:
        engine.stop()

    def best(samples: list[Sample]) -> tuple[float, float]:
        return max(s.decode_tps for s in samples), min(s.ttft for s in samples)

    e_tps, e_ttft = best(engine_samples)
    r_tps, r_ttft = best(raw_samples)
    mib = 1024.0
    print(f"model {path.name}, {threads} threads, n_ctx {DEFAULT_N_CTX}, greedy, "
          f"max {args.tokens} tokens, {args.repeat} repetitions (best counts)")  # fmt: skip
    for name, samples in (
        ("engine (HTTP, SSE)", engine_samples),
        ("llama-cpp-python", raw_samples),
    ):
        runs = ", ".join(f"{s.tokens} tok {s.decode_tps:.1f} tok/s ttft {s.ttft * 1000:.0f} ms"
                         for s in samples)  # fmt: skip
        print(f"  {name:20s} {runs}")
    print(f"decode tokens/s: engine {e_tps:.1f}, raw {r_tps:.1f}, "
          f"ratio {e_tps / r_tps:.3f} (target >= 0.95)")  # fmt: skip
    print(f"time to first token: engine {e_ttft * 1000:.0f} ms, raw {r_ttft * 1000:.0f} ms, "
          f"difference {(e_ttft - r_ttft) * 1000:+.0f} ms (target <= 30 ms)")  # fmt: skip
    med = statistics.median(
        s.ttft - r.ttft for s, r in zip(engine_samples, raw_samples, strict=True)
    )
    print(f"  (median per-prompt TTFT difference {med * 1000:+.0f} ms)")
    print(f"engine RSS: no model (scripted backend) {bare_rss / mib:.0f} MiB, model loaded idle "
          f"{idle_rss / mib:.0f} MiB, after the runs {loaded_rss / mib:.0f} MiB, "
          f"peak {peak_rss / mib:.0f} MiB; llama engine start {engine_start:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
