"""Perception through the engine against the same models called directly, and engine memory.

    .venv/bin/python benchmarks/perception.py [--seconds 30] [--repeat 3] [--threads N]

What runs, in one process run:

* a spoken WAV of about ``--seconds`` seconds is made with espeak-ng, and a page-sized PNG
  (1240×1754, 30 lines of text) with Pillow;
* ``workbench-engine --backend scripted`` is started with ``--perception-idle-seconds 5``; each
  repetition sends the WAV inline to the text-only model ``scripted-text`` (so the engine
  decodes, transcribes and frames it) and times the whole request. Every repetition appends a
  few different milliseconds of silence, so the content-hash cache never answers;
* in this process, faster-whisper's ``WhisperModel`` on the same assembled model folder, with
  the engine's options (``speech.TRANSCRIBE_OPTIONS``, int8, the same thread count) decodes
  and transcribes the same bytes;
* OCR: the page through the engine (``image`` block) and RapidOCR directly, milliseconds per
  page;
* the engine's resident memory: before any media, with both models loaded, and after they
  were unloaded for being idle.

Both sides run back to back, alternating which goes first; the best repetition of each
counts. Target: transcription speed through the engine ÷ direct ≥ 0.9.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from workbench.engine.perception import av_media
from workbench.engine.perception.speech import TRANSCRIBE_OPTIONS, default_threads
from workbench.engine.perception.whisper_files import ensure_whisper_model

TOKEN = "bench-token"
SENTENCES = [
    "The quarterly meeting moves to Thursday at three in the afternoon.",
    "Please bring the printed budget and the list of open invoices.",
    "Our new office in Lisbon opens in May with twelve people.",
    "Shipping costs rose by four percent since the last report.",
]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def speech_wav(seconds: float, folder: Path) -> bytes:
    text, parts = [], 0
    while parts * 4.2 < seconds:
        text.append(SENTENCES[parts % len(SENTENCES)])
        parts += 1
    target = folder / "speech.wav"
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(target), " ".join(text)], check=True
    )
    return target.read_bytes()


def with_silence(wav: bytes, millis: int) -> bytes:
    """``wav`` (16-bit PCM, data chunk last) with ``millis`` ms of silence appended."""
    rate = int.from_bytes(wav[24:28], "little")
    extra = b"\0\0" * (rate * millis // 1000)
    data_at = wav.index(b"data")
    size = int.from_bytes(wav[data_at + 4 : data_at + 8], "little") + len(extra)
    out = bytearray(wav + extra)
    out[data_at + 4 : data_at + 8] = size.to_bytes(4, "little")
    out[4:8] = (len(out) - 8).to_bytes(4, "little")
    return bytes(out)


def page_png() -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=30)
    for i in range(30):
        draw.text((80, 80 + i * 54), f"{i + 1:02d}. {SENTENCES[i % 4]}", fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def png_small() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(out, format="PNG")
    return out.getvalue()


class Engine:
    def __init__(self, home: Path, threads: int) -> None:
        exe = Path(sys.executable).with_name("workbench-engine")
        env = dict(os.environ, WORKBENCH_MODELS_DIR=str(home / "models"))
        env["OMP_NUM_THREADS"] = str(threads)
        self.proc = subprocess.Popen(
            [str(exe), "--backend", "scripted", "--port", "0", "--data-dir", str(home / "data"),
             "--token", TOKEN, "--perception-idle-seconds", "5"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.url = json.loads(self.proc.stdout.readline())["url"]
        self.http = httpx.Client(base_url=self.url, headers={"x-goog-api-key": TOKEN}, timeout=600)

    def perceive(self, block: dict[str, Any]) -> tuple[float, str]:
        started = time.perf_counter()
        r = self.http.post(
            "/v1beta/interactions", json={"model": "scripted-text", "input": [block]}
        )
        elapsed = time.perf_counter() - started
        r.raise_for_status()
        steps = r.json()["steps"]
        return elapsed, steps[-1]["content"][0]["text"]

    def stop(self) -> None:
        self.http.close()
        self.proc.terminate()
        self.proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=default_threads())
    args = parser.parse_args()

    from faster_whisper import WhisperModel
    from rapidocr_onnxruntime import RapidOCR

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        folder = ensure_whisper_model(home / "models")
        wav = speech_wav(args.seconds, home)
        png = page_png()
        duration = len(av_media.decode_audio(wav, "wav")) / av_media.SAMPLE_RATE
        engine = Engine(home, args.threads)
        try:
            rss_empty = rss_kib(engine.proc.pid)
            direct = WhisperModel(
                str(folder), device="cpu", compute_type="int8", cpu_threads=args.threads
            )
            ocr = RapidOCR(intra_op_num_threads=args.threads, inter_op_num_threads=1)
            # warm both sides (model loads are not part of the comparison)
            warm = speech_wav(3, home)
            engine.perceive({"type": "audio", "data": base64.b64encode(warm).decode(),
                             "mime_type": "audio/wav"})  # fmt: skip
            list(direct.transcribe(av_media.decode_audio(warm, "w"), **TRANSCRIBE_OPTIONS)[0])
            via_engine, via_direct = [], []
            for i in range(args.repeat):
                sample = with_silence(wav, 10 + i)
                block = {"type": "audio", "data": base64.b64encode(sample).decode(),
                         "mime_type": "audio/wav"}  # fmt: skip

                def run_direct(data: bytes = sample) -> float:
                    started = time.perf_counter()
                    samples = av_media.decode_audio(data, "w")
                    list(direct.transcribe(samples, **TRANSCRIBE_OPTIONS)[0])
                    return time.perf_counter() - started

                if i % 2 == 0:
                    via_engine.append(engine.perceive(block)[0])
                    via_direct.append(run_direct())
                else:
                    via_direct.append(run_direct())
                    via_engine.append(engine.perceive(block)[0])
            ocr_engine, ocr_direct = [], []
            lines_read = 0
            for i in range(max(1, args.repeat - 1)):
                page = png + bytes([i])  # trailing bytes after IEND: new hash, same picture
                block = {"type": "image", "data": base64.b64encode(page).decode(),
                         "mime_type": "image/png"}  # fmt: skip
                elapsed, page_text = engine.perceive(block)
                ocr_engine.append(elapsed)
                lines_read = sum(f"{n + 1:02d}. " in page_text for n in range(30))
                started = time.perf_counter()
                ocr(page, use_cls=False, return_word_box=True)  # as the engine calls it
                ocr_direct.append(time.perf_counter() - started)
            # both models in memory at once: one more audio and one more picture, new bytes
            engine.perceive(
                {
                    "type": "audio",
                    "mime_type": "audio/wav",
                    "data": base64.b64encode(with_silence(warm, 99)).decode(),
                }
            )
            engine.perceive({"type": "image", "mime_type": "image/png",
                             "data": base64.b64encode(png_small()).decode()})  # fmt: skip
            rss_loaded = rss_kib(engine.proc.pid)
            time.sleep(12)  # idle for more than --perception-idle-seconds
            rss_unloaded = rss_kib(engine.proc.pid)
        finally:
            engine.stop()
    best_engine, best_direct = min(via_engine), min(via_direct)
    load = os.getloadavg()[0]
    print(f"audio: {duration:.1f} s of speech, {args.threads} threads, best of {args.repeat}, "
          f"load average {load:.1f} on {os.cpu_count()} cores")  # fmt: skip
    print(f"transcription via engine: {best_engine:.2f} s  (real-time factor "
          f"{best_engine / duration:.3f})")  # fmt: skip
    print(f"transcription direct:     {best_direct:.2f} s  (real-time factor "
          f"{best_direct / duration:.3f})")  # fmt: skip
    print(f"speed ratio engine/direct: {best_direct / best_engine:.2f}  (target >= 0.90)")
    print(f"OCR per page via engine: {min(ocr_engine) * 1000:.0f} ms; "
          f"direct: {min(ocr_direct) * 1000:.0f} ms; lines read: {lines_read} of 30")  # fmt: skip
    print(f"engine RSS: {rss_empty / 1024:.0f} MiB before media, {rss_loaded / 1024:.0f} MiB "
          f"with speech+OCR loaded, {rss_unloaded / 1024:.0f} MiB after idle unload")  # fmt: skip


if __name__ == "__main__":
    main()
