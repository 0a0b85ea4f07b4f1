#!/usr/bin/env bash
# Sets up everything Workbench needs on a fresh Debian machine: system packages (when run as
# root), a project virtualenv in .venv, and the project with its dev and local-model extras.
# Idempotent and quick when nothing changed (a stamp records what was installed).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
EXTRAS=${WORKBENCH_EXTRAS:-dev,local}

# System packages: a virtual X server for screenshots and GUI tests, the libraries Qt's xcb
# plugin needs, and a Secret Service (gnome-keyring) so keyring tests use a real keyring; the
# bundle test drives the packaged app with xdotool and validates the desktop/AppStream files;
# openbox is the window manager of the first-time walkthrough test (tests/walkthrough);
# espeak-ng speaks the WAV files the perception tests transcribe.
APT_PACKAGES="xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0 \
libegl1 libgl1 libfontconfig1 libdbus-1-3 gnome-keyring dbus-x11 dbus git bubblewrap \
xdotool desktop-file-utils appstream openbox espeak-ng"
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  missing=""
  for p in $APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    echo "setup: installing system packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
elif ! command -v Xvfb >/dev/null 2>&1; then
  echo "setup: not root; if GUI tests fail, install: $APT_PACKAGES" >&2
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.workbench-installed"
want="$(cat pyproject.toml | sha256sum | cut -d' ' -f1) $EXTRAS"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing the project with extras [$EXTRAS] (first run compiles llama.cpp: ~4 min)"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -U pip 2>&1 | grep -v '^WARNING: Location' || true
  # A portable llama.cpp build: the same generation speed, and safe to ship to other CPUs.
  CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" \
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[$EXTRAS]" 2>&1 \
    | grep -v '^WARNING: Location' || true
  "$VENV/bin/python" -c "import workbench" 
  echo "$want" > "$stamp"
fi
