"""The app's log setup: a file in the log dir and stderr, credentials scrubbed from every
record of every logger (formatted messages, arguments, tracebacks)."""

from __future__ import annotations

import faulthandler
import io
import logging
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.client import Credential
from workbench.core.logs import add_secret, install_crash_handlers, scrub, setup_logging

KEY = "AIzaSyA-logs-test-0123456789abcdefghijk"


@pytest.fixture
def logged(tmp_path: Path) -> Iterator[tuple[Path, io.StringIO]]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    hooks = (sys.excepthook,)
    stream = io.StringIO()
    path = setup_logging(tmp_path / "logs", "DEBUG", stream=stream)
    try:
        yield path, stream
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)
        sys.excepthook = hooks[0]


def test_patterns_and_registered_secrets() -> None:
    assert scrub(f"key {KEY}") == "key ***"
    assert scrub("x-goog-api-key: abc123def") == "x-goog-api-key: ***"
    assert scrub("Authorization: Bearer ya29.token-value") == "Authorization: Bearer ***"
    assert scrub("(b'x-goog-api-key', b'secret-value')") == "(b'x-goog-api-key', b'***')"
    assert scrub("GET /v1/models?alt=json&key=zzz123&x=1") == "GET /v1/models?alt=json&key=***&x=1"
    assert scrub('{"token": "engine-token-1", "url": "u"}') == '{"token": "***", "url": "u"}'
    assert scrub("the authorization failed") == "the authorization failed"
    add_secret("plain-custom-secret-42")
    assert scrub("value plain-custom-secret-42!") == "value ***!"
    cred = Credential.api_key("bearer-held-by-a-client-7")
    assert scrub("x bearer-held-by-a-client-7 y") == "x *** y"
    del cred


def test_every_logger_is_scrubbed_in_the_file_and_on_stderr(
    logged: tuple[Path, io.StringIO],
) -> None:
    path, stream = logged
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    logging.getLogger("httpx").debug("headers %s", {"x-goog-api-key": KEY})
    logging.getLogger("some.library").info("calling https://x/y?key=%s", KEY)
    try:
        raise ValueError(f"bad key {KEY}")
    except ValueError:
        logging.getLogger("workbench.core").exception("failed")
    logging.getLogger("workbench").warning("bad %d format %s", "x")  # a broken record survives
    for handler in logging.getLogger().handlers:
        handler.flush()
    for text in (path.read_text(encoding="utf-8"), stream.getvalue()):
        assert KEY not in text and KEY[4:-4] not in text
        assert "ValueError: bad key ***" in text
        assert "?key=***" in text and "'x-goog-api-key': '***'" in text
        assert "bad %d format %s" in text


def test_uncaught_exceptions_go_to_the_scrubbed_log(
    logged: tuple[Path, io.StringIO], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _stream = logged
    enabled: list[object] = []
    # Keep pytest's own fault handler: record the call instead of redirecting it.
    monkeypatch.setattr(faulthandler, "enable", lambda **kw: enabled.append(kw["file"]))
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    install_crash_handlers(tmp_path / "logs")
    assert enabled  # fatal signals go to crash.log
    try:
        raise RuntimeError(f"crash with {KEY}")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]
    text = path.read_text(encoding="utf-8")
    assert "CRITICAL workbench.crash: uncaught exception" in text
    assert "RuntimeError: crash with ***" in text and KEY not in text
    assert (tmp_path / "logs" / "crash.log").exists()
