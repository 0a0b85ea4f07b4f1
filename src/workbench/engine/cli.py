"""``workbench-engine``: start the engine on a loopback port and announce where it listens.

When it is ready to answer it prints exactly one JSON line on stdout,
``{"url": "http://127.0.0.1:PORT", "port": PORT, "pid": PID}``, and writes the same plus the
token to ``DATA_DIR/engine.json`` (mode 0600, atomically). SIGTERM or SIGINT shut it down
cleanly: running foreground work is cancelled, background runs end ``failed`` with a reason,
the database is closed and the process exits with status 0.

This module is only the order of the steps: the options are ``cli_args.py``, checking them
and building the config and backend ``cli_config.py``, listening and serving ``cli_serve.py``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from .cli_args import build_parser
from .cli_config import UsageError, build_backend, check_args, engine_config, open_data_dir
from .cli_serve import listen_socket, serve
from .faults import install_overload
from .progress import enable as enable_progress
from .server import create_app

log = logging.getLogger("workbench.engine")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workbench-engine`` command."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        overload = check_args(args)
        enable_progress()
        data_dir, notice = open_data_dir(args.data_dir)
        config = engine_config(args, data_dir)
        backend = build_backend(args, data_dir)
    except UsageError as exc:
        return _fail(exc.message, exc.code)
    app = create_app(config, backend)
    if overload is not None:
        install_overload(app, overload)
        log.warning("fault injection is on: every request first gets %s", args.inject_overload)
    try:
        sock = listen_socket(args.host, args.port)
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc}")
    server = serve(app, config, sock, log_level=args.log_level, notice=notice)
    if server.state.error is not None:
        error = server.state.error
        return _fail(f"startup failed: {type(error).__name__}: {error}", 1)
    if not server.started:
        return _fail("the server did not start", 1)
    return 0


def _fail(message: str, code: int = 2) -> int:
    sys.stderr.write(f"workbench-engine: error: {message}\n")
    sys.stderr.flush()
    return code
