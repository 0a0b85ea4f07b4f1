"""Decoding audio and video with PyAV: probing, the audio track as 16 kHz mono, sampled frames.

PyAV wraps FFmpeg's libraries (shipped inside its wheel), so every container and codec FFmpeg
reads works without a system package. Its errors are turned into ``MediaError`` messages that
say what is wrong with the file: not a media file, truncated, no audio track, or a codec this
build cannot decode.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .errors import MediaError, PerceptionUnavailable

SAMPLE_RATE = 16_000
"""Whisper's input rate."""

TRUNCATION_RATIO = 0.9
"""A file that declares a duration but decodes to less than this share of it is truncated."""


@dataclass(frozen=True)
class MediaInfo:
    """What a probe learns about a container."""

    container: str
    duration: float | None
    audio_codec: str | None
    video_codec: str | None
    width: int | None
    height: int | None
    fps: float | None


def _av() -> Any:
    try:
        import av
    except ImportError as exc:  # pragma: no cover - av is a hard dependency of the local extra
        raise PerceptionUnavailable(
            "Audio and video need PyAV; install it with: pip install 'workbench[local]'"
        ) from exc
    return av


def _open(data: bytes, label: str) -> Any:
    av = _av()
    if not data:
        raise MediaError(f"{label} is empty (0 bytes)")
    try:
        return av.open(io.BytesIO(data), mode="r")
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise MediaError(
            f"{label} could not be opened as audio or video ({_reason(exc)}); the file may be "
            "truncated or not the type it claims to be"
        ) from exc


def _reason(exc: BaseException) -> str:
    text = str(getattr(exc, "strerror", None) or exc).strip()
    return text.split(": '<")[0] or type(exc).__name__


def _decodable(stream: Any, label: str, kind: str) -> None:
    """Refuse a stream whose codec this FFmpeg build has no decoder for."""
    codec = stream.codec_context
    name = getattr(codec, "name", None) or "none"
    if name in ("none", "") or getattr(codec, "codec", None) is None:
        raise MediaError(
            f"the {kind} track of {label} uses a codec the engine cannot decode; convert it "
            "to a common format (WAV, MP3, AAC, Opus; H.264 or VP9 video)"
        )


def wav_shortfall(data: bytes) -> tuple[int, int] | None:
    """``(declared, present)`` data bytes of a RIFF/WAVE file missing part of its data chunk.

    FFmpeg quietly decodes what is there (and reports the shorter duration), so a cut WAV is
    found from its own header. Streaming headers (size 0 or 0xFFFFFFFF) declare nothing.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    offset = 12
    while offset + 8 <= len(data):
        chunk_id = data[offset : offset + 4]
        size = int.from_bytes(data[offset + 4 : offset + 8], "little")
        if chunk_id == b"data":
            present = len(data) - offset - 8
            if size not in (0, 0xFFFFFFFF) and present < TRUNCATION_RATIO * size:
                return size, present
            return None
        offset += 8 + size + (size & 1)
    return None


def probe(data: bytes, label: str) -> MediaInfo:
    """Container, duration and the first audio and video streams of ``data``."""
    with _open(data, label) as container:
        audio = container.streams.audio[0] if container.streams.audio else None
        video = container.streams.video[0] if container.streams.video else None
        duration = container.duration / 1_000_000 if container.duration else None
        fps = None
        if video is not None and video.average_rate:
            fps = float(video.average_rate)
        return MediaInfo(
            container=str(container.format.name),
            duration=duration,
            audio_codec=audio.codec_context.name if audio is not None else None,
            video_codec=video.codec_context.name if video is not None else None,
            width=video.codec_context.width if video is not None else None,
            height=video.codec_context.height if video is not None else None,
            fps=fps,
        )


def decode_audio(data: bytes, label: str, *, required: bool = True) -> Any:
    """The first audio track as float32 mono samples at 16 kHz (a numpy array).

    Returns ``None`` when there is no audio track and ``required`` is false.

    Raises:
        MediaError: not decodable, no audio track (when required), or truncated.
    """
    import numpy as np

    av = _av()
    short = wav_shortfall(data)
    if short is not None:
        raise MediaError(
            f"{label} is truncated: its header announces {short[0]} bytes of sound but only "
            f"{short[1]} are there"
        )
    with _open(data, label) as container:
        if not container.streams.audio:
            if required:
                raise MediaError(f"{label} has no audio track")
            return None
        stream = container.streams.audio[0]
        _decodable(stream, label, "audio")
        declared = float(stream.duration * stream.time_base) if stream.duration else None
        if declared is None and container.duration:
            declared = container.duration / 1_000_000
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        pieces: list[Any] = []
        try:
            for frame in container.decode(stream):
                pieces.extend(f.to_ndarray() for f in resampler.resample(frame))
            pieces.extend(f.to_ndarray() for f in resampler.resample(None))
        except (av.error.FFmpegError, ValueError) as exc:
            if not pieces:
                raise MediaError(
                    f"the audio of {label} could not be decoded ({_reason(exc)})"
                ) from exc
    if not pieces:
        raise MediaError(f"the audio track of {label} holds no sound")
    samples = np.concatenate([p.reshape(-1) for p in pieces]).astype(np.float32) / 32768.0
    decoded = len(samples) / SAMPLE_RATE
    if declared and declared > 1.0 and decoded < TRUNCATION_RATIO * declared:
        raise MediaError(
            f"{label} is truncated: it declares {declared:.1f} s of audio but only "
            f"{decoded:.1f} s could be decoded"
        )
    return samples


def sample_frames(data: bytes, label: str, every: float, limit: int) -> Iterator[tuple[float, Any]]:
    """``(seconds, PIL image)`` of video frames at least ``every`` seconds apart.

    Long videos are read key frames only, so the cost stays proportional to the samples taken.

    Raises:
        MediaError: no video track, or it cannot be decoded.
    """
    av = _av()
    with _open(data, label) as container:
        if not container.streams.video:
            raise MediaError(f"{label} has no video track")
        stream = container.streams.video[0]
        _decodable(stream, label, "video")
        duration = container.duration / 1_000_000 if container.duration else 0.0
        if duration > 120:
            stream.codec_context.skip_frame = "NONKEY"
        next_time = 0.0
        taken = 0
        try:
            for frame in container.decode(stream):
                when = float(frame.time) if frame.time is not None else next_time
                if when + 1e-6 < next_time:
                    continue
                yield when, frame.to_image()
                taken += 1
                if taken >= limit:
                    return
                next_time = when + every
        except (av.error.FFmpegError, ValueError) as exc:
            if not taken:
                raise MediaError(
                    f"the video of {label} could not be decoded ({_reason(exc)})"
                ) from exc
        if not taken:
            raise MediaError(f"the video track of {label} holds no decodable frame")
