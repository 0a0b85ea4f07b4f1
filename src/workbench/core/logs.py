"""The app's logs: one rotated file in the log dir plus stderr, every record scrubbed.

``setup_logging`` installs two handlers on the root logger — ``<log_dir>/workbench.log``
(rotated at 5 MB, 3 kept, mode 0600) and stderr — each with :class:`ScrubFilter`, so a record
from *any* logger (ours, httpx, httpcore, qasync …) is cleaned before it is written:

* every secret a client holds (``workbench.client.credentials.REDACTOR``) and every value given
  to :func:`add_secret` becomes ``***``;
* so do things that look like credentials whoever logs them: Google API keys (``AIza…``),
  ``x-goog-api-key``/``authorization`` header values, ``key=``/``token=`` query parameters and
  ``"token"``/``"api_key"`` JSON fields;
* tracebacks are formatted and scrubbed the same way.

The level is ``INFO``, or ``WORKBENCH_LOG_LEVEL`` (e.g. ``DEBUG``). ``install_crash_handlers``
routes uncaught exceptions (main thread, other threads, Qt slots) through the same scrubbed
logging and lets ``faulthandler`` write hard crashes to ``<log_dir>/crash.log``.
"""

from __future__ import annotations

import faulthandler
import logging
import logging.handlers
import os
import re
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from workbench.client.credentials import REDACTED, redact

LOG_FILE = "workbench.log"
CRASH_FILE = "crash.log"
LEVEL_ENV = "WORKBENCH_LOG_LEVEL"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_extra: set[str] = set()
_lock = threading.Lock()
_PATTERNS = (
    # Google API keys: "AIza" and 35 more characters.
    (re.compile(r"AIza[0-9A-Za-z_\-]{30,}"), REDACTED),
    # Header values, in any "name: value" / "name=value" / "(b'name', b'value')" spelling.
    (
        re.compile(
            r"(?i)(x-goog-api-key|authorization|proxy-authorization)(['\"]?\s*[:=,]\s*(?:b?['\"])?)"
            r"(bearer\s+|basic\s+)?[^\s'\",;)]+"
        ),
        rf"\1\2\3{REDACTED}",
    ),
    # Query parameters.
    (re.compile(r"(?i)([?&](?:key|api_key|access_token|token)=)[^&\s'\",;)]+"), rf"\1{REDACTED}"),
    # JSON fields.
    (
        re.compile(r"(?i)(\"(?:token|api_key|apikey|access_token|secret)\"\s*:\s*\")[^\"]+"),
        rf"\1{REDACTED}",
    ),
)


def add_secret(value: str) -> None:
    """Scrub ``value`` from every log record from now on (e.g. a key read from the keyring)."""
    if value and len(value) >= 6:
        with _lock:
            _extra.add(value)


def scrub(text: str) -> str:
    """``text`` without any known secret or credential-looking value."""
    text = redact(text)
    with _lock:
        extra = sorted(_extra, key=len, reverse=True)
    for value in extra:
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class ScrubFilter(logging.Filter):
    """Handler filter: formats the message (and traceback) and scrubs them."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


def _level(value: str | None) -> int:
    name = (value or "").strip().upper()
    level = logging.getLevelName(name) if name else logging.INFO
    return level if isinstance(level, int) else logging.INFO


def setup_logging(
    log_dir: Path, level: str | None = None, *, stream: IO[str] | None = None
) -> Path:
    """Log to ``log_dir/workbench.log`` and stderr, scrubbed; returns the log file's path."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_FILE
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    with_level = _level(level if level is not None else os.environ.get(LEVEL_ENV))
    root = logging.getLogger()
    for old in [h for h in root.handlers if (h.get_name() or "").startswith("workbench.")]:
        root.removeHandler(old)
        old.close()
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=5 * 1024 * 1024, backupCount=3, encoding="utf-8"
    )
    stream_handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handlers: list[logging.Handler] = [file_handler, stream_handler]
    for handler, name in zip(handlers, ("file", "stderr"), strict=True):
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(ScrubFilter())
        handler.set_name(f"workbench.{name}")
        root.addHandler(handler)
    root.setLevel(with_level)
    return path


_crash_file: IO[str] | None = None


def install_crash_handlers(log_dir: Path) -> None:
    """Uncaught exceptions go to the scrubbed log; fatal signals to ``crash.log``."""
    global _crash_file
    log = logging.getLogger("workbench.crash")

    def on_exception(
        kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        log.critical("uncaught exception", exc_info=(kind, exc, tb))

    def on_thread_exception(args: Any) -> None:
        if args.exc_type is SystemExit:
            return
        log.critical(
            "uncaught exception in thread %s",
            getattr(args.thread, "name", "?"),
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )

    sys.excepthook = on_exception
    threading.excepthook = on_thread_exception
    if _crash_file is None:
        path = log_dir / CRASH_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        _crash_file = os.fdopen(fd, "a", encoding="utf-8")
    # faulthandler writes code locations only (never values), so nothing needs scrubbing.
    faulthandler.enable(file=_crash_file, all_threads=True)
