"""How derived text is framed for the text model, and the honest note for the ``thought`` step.

A small model treats whatever is in its prompt as fact, so every derived text says what it is
(a transcript, text read by OCR, a timeline), where it came from (the file's name, its time
span) and what the model does *not* get (it does not see the picture or hear the audio). The
frame closes with an explicit end line, so instructions hidden in a document are visibly part
of the document, not of the user's message.
"""

from __future__ import annotations

from typing import Any

from .ocr import Line, region, rows


def clock(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss``) for a time in seconds."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _language(value: dict[str, Any]) -> str:
    language = value.get("language") or "unknown"
    probability = value.get("language_probability")
    if isinstance(probability, int | float) and probability > 0:
        return f"{language} ({probability:.0%} sure)"
    return str(language)


def speech_text(value: dict[str, Any], label: str) -> str:
    """A transcript, one timestamped line per segment."""
    duration = float(value.get("duration") or 0.0)
    head = (
        f"[Transcript of {label} (0:00–{clock(duration)}), made by the engine's speech "
        f"recognizer (Whisper base); detected language: {_language(value)}. The model does not "
        "hear the audio: this text is all it gets.]"
    )
    segments = value.get("segments") or []
    body = [f"[{clock(s)}–{clock(e)}] {t}" for s, e, t in segments]
    if not body:
        body = ["(no speech was recognized)"]
    return "\n".join([head, *body, f"[end of transcript of {label}]"])


def speech_note(value: dict[str, Any], label: str) -> str:
    count = len(value.get("segments") or [])
    return (
        f"I cannot hear audio; the engine transcribed {label} "
        f"({clock(float(value.get('duration') or 0))}, {count} segments, language "
        f"{value.get('language') or 'unknown'}) and I answer from that transcript."
    )


def _lines(value: dict[str, Any]) -> list[Line]:
    return [Line(str(t), (int(b[0]), int(b[1]), int(b[2]), int(b[3])), float(s)) for t, b, s in
            value.get("lines") or []]  # fmt: skip


def image_text(value: dict[str, Any], label: str) -> str:
    """Format, size and the text lines of an image, with where each row sits."""
    info = value.get("info") or {}
    width, height = int(info.get("width") or 0), int(info.get("height") or 0)
    frames = int(info.get("frames") or 1)
    facts = f"{info.get('format', 'image')}, {width}×{height} pixels, {info.get('mode', '?')}"
    if frames > 1:
        facts += f", {frames} frames (OCR read the first)"
    head = (
        f"[Image {label}: {facts}. The local model does not see images: below is only the "
        f"text that OCR read in {label}, row by row with where each row sits. Colours, shapes, "
        "photos, people and objects in the picture are unknown to it.]"
    )
    grouped = rows(_lines(value))
    if not grouped:
        body = [f"OCR found no text in {label}."]
    else:
        body = [f"Text read by OCR from {label} ({len(grouped)} rows, top to bottom):"]
        for row in grouped:
            left = min(ln.box[0] for ln in row)
            top = min(ln.box[1] for ln in row)
            right = max(ln.box[2] for ln in row)
            bottom = max(ln.box[3] for ln in row)
            where = region((left, top, right, bottom), width, height)
            body.append(f"({where}, y={top}) " + "    ".join(ln.text for ln in row))
    return "\n".join([head, *body, f"[end of text read from {label}]"])


def image_note(value: dict[str, Any], label: str) -> str:
    count = len(value.get("lines") or [])
    found = f"{count} lines of text" if count else "no text"
    return (
        f"I do not see images; the engine read {label} by OCR ({found}). I answer from that "
        "text only and cannot describe what the picture shows."
    )


def video_text(value: dict[str, Any], label: str) -> str:
    """A timeline merging the audio transcript with the text read from sampled frames."""
    info = value.get("info") or {}
    duration = float(info.get("duration") or 0.0)
    facts = [clock(duration)]
    if info.get("width"):
        facts.append(f"{info['width']}×{info['height']}")
    facts.append(f"{info.get('container', '?')} ({info.get('video_codec') or 'no video'}, "
                 f"{info.get('audio_codec') or 'no audio'})")  # fmt: skip
    every = float(value.get("every") or 0.0)
    audio = (
        f"the transcript of its audio track (language {_language(value)})"
        if value.get("has_audio")
        else "no audio track"
    )
    head = (
        f"[Video {label}: {', '.join(facts)}. The local model does not see or hear it: below "
        f"is a timeline the engine built from {audio} and the text read by OCR from frames "
        f"sampled every {every:g} s (a frame is listed when its text changes).]"
    )
    events: list[tuple[float, int, str]] = []
    for start, end, text in value.get("segments") or []:
        events.append((float(start), 1, f"[{clock(start)}–{clock(end)}] speech: {text}"))
    for when, text in value.get("frames") or []:
        events.append((float(when), 0, f"[{clock(when)}] on screen: {text}"))
    body = [line for _, _, line in sorted(events)] or ["(no speech and no text on screen)"]
    return "\n".join([head, *body, f"[end of timeline of {label}]"])


def video_note(value: dict[str, Any], label: str) -> str:
    return (
        f"I cannot watch video; the engine turned {label} into a timeline of "
        f"{len(value.get('segments') or [])} speech segments and "
        f"{len(value.get('frames') or [])} frames of on-screen text, and I answer from that."
    )


def document_text(markdown: str, label: str, kind: str) -> str:
    """A document converted to Markdown (or its extracted text)."""
    head = f"[Document {label} ({kind}), converted to text by the engine]"
    return "\n".join([head, markdown, f"[end of document {label}]"])
