"""The ``workbench`` command.

workbench [--basedir DIR] [--backend scripted]     open the app
workbench key set PROFILE                          read a key from stdin into the keyring
workbench key status                               where each profile's key lives
workbench export (--session ID | --latest) --format md|json --output FILE
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from workbench.core.atomic import write_atomic
from workbench.core.paths import resolve_paths
from workbench.core.secrets import SecretStore, SecretStoreError
from workbench.core.settings import load_settings


def _key(args: argparse.Namespace) -> int:
    paths = resolve_paths(args.basedir)
    settings = load_settings(paths.settings_file)
    store = SecretStore()
    status = store.status()
    if args.key_command == "status":
        print(f"Keyring: {status.backend} — {status.reason}")
        for p in settings.profiles:
            where = "not needed (local engine)" if not p.needs_key else store.where(p.id)
            print(f"{p.id}: {where}")
        return 0
    profile = args.profile
    if profile not in {p.id for p in settings.profiles}:
        known = ", ".join(p.id for p in settings.profiles)
        print(f"workbench: no profile {profile!r} (known: {known})", file=sys.stderr)
        return 2
    if sys.stdin.isatty():
        print(f"Paste the API key for {profile!r} and press Enter:", file=sys.stderr)
    secret = sys.stdin.readline().strip()
    try:
        store.set(profile, secret)
    except SecretStoreError as exc:
        print(f"workbench: {exc}", file=sys.stderr)
        return 1
    print(f"Key for {profile!r} stored in {store.where(profile)}.")
    return 0


def _export(args: argparse.Namespace) -> int:
    from workbench.core.export import session_json, session_markdown
    from workbench.core.history import HistoryError, HistoryStore

    paths = resolve_paths(args.basedir)
    if not paths.history_db.exists():
        print("workbench: there is no history yet", file=sys.stderr)
        return 1
    try:
        store = HistoryStore(paths.history_db, repair=False)
    except HistoryError as exc:
        print(f"workbench: {exc}", file=sys.stderr)
        return 1
    try:
        if args.latest:
            session = store.latest_session()
            if session is None:
                print("workbench: there are no sessions yet", file=sys.stderr)
                return 1
        else:
            try:
                session = store.session(args.session)
            except KeyError:
                print(f"workbench: no session {args.session!r}", file=sys.stderr)
                return 1
        if args.format == "md":
            text = session_markdown(store, session)
        else:
            text = session_json(store, session, include_data=args.include_data)
    finally:
        store.close()
    if args.output == "-":
        sys.stdout.write(text)
    else:
        write_atomic(Path(args.output), text)
        print(f"Exported {session.id} to {args.output}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench")
    parser.add_argument("--basedir", help="keep every file under this folder")
    sub = parser.add_subparsers(dest="command", required=True)
    key = sub.add_parser("key", help="manage API keys in the OS keyring")
    key_sub = key.add_subparsers(dest="key_command", required=True)
    key_set = key_sub.add_parser("set", help="read a key from stdin and store it")
    key_set.add_argument("profile")
    key_sub.add_parser("status", help="show which keyring holds each profile's key")
    export = sub.add_parser("export", help="export a session")
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("--session", help="session id")
    which.add_argument("--latest", action="store_true", help="the most recent session")
    export.add_argument("--format", choices=("md", "json"), required=True)
    export.add_argument("--output", required=True, help="file to write, or - for stdout")
    export.add_argument(
        "--include-data", action="store_true", help="keep inline attachment data in JSON"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not any(a in ("key", "export") for a in args_list[:3]):
        from workbench.app import main as app_main

        return app_main(args_list)
    args = _parser().parse_args(args_list)
    if args.command == "key":
        return _key(args)
    return _export(args)


if __name__ == "__main__":
    raise SystemExit(main())
