"""Issue 7 item 4: after a scripted session with a Gemini key, the key is found nowhere.

The session, all through the real programs:

1. ``workbench key set gemini`` stores the key in a real Secret Service keyring (gnome-keyring
   on a private D-Bus), ``workbench key status`` reports it;
2. the app (``workbench.app.main`` in a subprocess, logging at DEBUG into its log dir) talks
   to a "Gemini" that requires that key (the fake protocol server): a streamed turn, an
   unstreamed one, a background one followed by the Runs dock, one the server refuses with an
   error that *echoes the key*; it exports the session as Markdown and JSON; a warning is
   logged with the key in it on purpose; an uncaught exception carries the key; finally the
   process dies of SIGSEGV (faulthandler's crash report);
3. ``workbench export`` writes the session again, as JSON and Markdown.

Then every file under the app's folder (data, config, cache, logs — history and engine
databases included), the exports, the keyring's own files and everything the processes
printed are searched for the key: raw, URL-encoded, hex, and base64 (standard and URL-safe,
at all three byte alignments). Zero hits. The scan itself is checked against planted copies.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from support.fake_server import FakeServer, Fault, Settings
from workbench.core.profiles import gemini_profile
from workbench.core.settings import Settings as AppSettings
from workbench.core.settings import save_settings

WORKBENCH_BIN = Path(sys.executable).with_name("workbench")
DRIVER = Path(__file__).parent / "gui" / "app_driver.py"


def forms(key: str) -> dict[str, bytes]:
    """Every encoding of ``key`` the scan looks for."""
    raw = key.encode()
    out = {
        "raw": raw,
        "url-encoded": quote(key, safe="").encode(),
        "hex": raw.hex().encode(),
        "HEX": raw.hex().upper().encode(),
    }
    for shift in range(3):
        for name, encode in (("b64", base64.b64encode), ("b64url", base64.urlsafe_b64encode)):
            encoded = encode(b"\0" * shift + raw)
            # Drop the characters that depend on the neighbouring bytes.
            lead = (shift * 8 + 5) // 6
            out[f"{name}+{shift}"] = encoded[lead + 1 : len(encoded) - 4]
    return out


def scan(paths: list[Path], blobs: dict[str, bytes], key: str) -> list[str]:
    """Where any form of ``key`` occurs: ``"<file or stream>: <form>"`` per hit."""
    wanted = forms(key)
    hits: list[str] = []
    for root in paths:
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for path in files:
            try:
                data = path.read_bytes()
            except OSError:
                continue
            hits += [f"{path}: {name}" for name, form in wanted.items() if form in data]
    for label, data in blobs.items():
        hits += [f"{label}: {name}" for name, form in wanted.items() if form in data]
    return hits


def test_the_scan_finds_planted_copies(tmp_path: Path) -> None:
    key = "AIza" + secrets.token_urlsafe(26)[:35]
    for n, form in enumerate(forms(key).values()):
        (tmp_path / f"{n}.bin").write_bytes(b"prefix " + form + b" suffix")
    for shift in range(3):
        encoded = base64.b64encode(b"x" * (shift + 2) + key.encode() + b"tail")
        (tmp_path / f"embedded{shift}.txt").write_bytes(encoded)
    hits = scan([tmp_path], {"stderr": b"..." + quote(key, safe="").encode()}, key)
    files_hit = {h.split(":")[0] for h in hits}
    assert len(files_hit) == len(forms(key)) + 3 + 1


def _run(
    args: list[str], env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(args, input=stdin.encode(), capture_output=True, env=env, timeout=60)


@pytest.mark.timeout(180)
def test_the_key_is_found_nowhere(
    secret_service: dict[str, str], tmp_path: Path, _workbench_home: Path
) -> None:
    key = "AIzaSy" + secrets.token_urlsafe(40).replace("-", "x").replace("_", "y")[:33]
    home = _workbench_home
    exports = tmp_path / "exports"
    exports.mkdir()
    env = dict(os.environ, **secret_service)
    env.update(
        WORKBENCH_HOME=str(home),
        WORKBENCH_LOG_LEVEL="DEBUG",
        WORKBENCH_TEST_EXPORTS=str(exports),
        QT_QPA_PLATFORM="offscreen",
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join(
            [str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")]
        ),
    )
    printed: dict[str, bytes] = {}
    with FakeServer(settings=Settings(api_key=key)) as gemini:
        # The server refuses one request with an error that quotes the key back.
        gemini.add_fault(Fault("POST", "interactions", status=400, body_contains=b"please fail",
                               message=f"API key {key} is not valid for this project"))  # fmt: skip
        profile = gemini_profile().model_copy(update={"base_url": gemini.url})
        settings = AppSettings(active_profile="gemini")
        settings.upsert_profile(profile)
        save_settings(settings, home / "config" / "settings.json")

        stored = _run([str(WORKBENCH_BIN), "key", "set", "gemini"], env, stdin=key + "\n")
        assert stored.returncode == 0, stored.stderr
        status = _run([str(WORKBENCH_BIN), "key", "status"], env)
        assert b"gemini: system keyring" in status.stdout
        printed["key set"] = stored.stdout + stored.stderr
        printed["key status"] = status.stdout + status.stderr

        app = _run([sys.executable, str(DRIVER), "secrets", "--basedir", str(home)], env)
        printed["app"] = app.stdout + app.stderr
        assert app.returncode == -11, app.stderr.decode()[-3000:]  # it died of SIGSEGV at the end
        report = json.loads(app.stdout.decode().splitlines()[-1])
        assert report["done"] is True

        used = {r.headers.get("x-goog-api-key") for r in gemini.requests}
        assert used == {key}  # every request carried the key: it really was in use
        kinds = {(r.method, r.path.split("/")[0], r.query.get("stream")) for r in gemini.requests}
        assert ("GET", "models", None) in kinds and ("POST", "interactions", None) in kinds
        # The background turn is streamed once, by the chat; the Runs dock watches that stream
        # instead of attaching a second one (issue 14 item 2: one follower per interaction).
        assert ("POST", "interactions", None) in kinds
        assert not any(
            r.method == "GET" and r.query.get("stream") == "true" for r in gemini.requests
        )

    for fmt in ("json", "md"):
        done = _run([str(WORKBENCH_BIN), "export", "--latest", "--format", fmt,
                     "--output", str(exports / f"cli.{fmt}")], env)  # fmt: skip
        assert done.returncode == 0, done.stderr
        printed[f"export {fmt}"] = done.stdout + done.stderr

    # The session happened and left its traces where expected …
    log_file = home / "logs" / "workbench.log"
    log_text = log_file.read_text(encoding="utf-8")
    assert "DEBUG httpcore" in log_text  # logging really was at DEBUG
    assert "about to fail: x-goog-api-key: ***, url ?key=***, raw ***" in log_text
    assert "CRITICAL workbench.crash: uncaught exception" in log_text
    assert "RuntimeError: boom while holding ***" in log_text
    assert "Fatal Python error: Segmentation fault" in (home / "logs" / "crash.log").read_text()
    assert "streamed turn" in (exports / "session.md").read_text(encoding="utf-8")
    assert "background turn" in (exports / "cli.json").read_text(encoding="utf-8")
    assert "API key *** is not valid" in report["notice"]  # the echoed key, scrubbed on screen
    assert (home / "data" / "history.sqlite3").stat().st_size > 0

    # … and the key is in none of them.
    keyring_files = [Path(secret_service[k]) for k in ("XDG_DATA_HOME", "XDG_CONFIG_HOME")]
    roots = [home, exports, *keyring_files]
    hits = scan(roots, printed, key)
    files = [p for root in roots for p in root.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files) + sum(map(len, printed.values()))
    print(
        f"scanned {len(files)} files and {len(printed)} outputs, {size:,} bytes: {len(hits)} hits"
    )
    assert hits == []
