#!/usr/bin/env bash
# Build the one-folder bundle dist/Workbench/ with PyInstaller (packaging/workbench.spec):
# the app, its engine, llama.cpp and the default model, runnable without a Python install.
#
#   bash scripts/package.sh              full bundle (~770 MB, 491 MB of it the model)
#   bash scripts/package.sh --no-model   llama.cpp without the model (~290 MB)
#   bash scripts/package.sh --lite       no llama.cpp, no model (~230 MB): the scripted and
#                                        OpenAI-compatible backends only
#
# Also copies the desktop integration files into dist/Workbench/share/ (the .desktop file,
# the hicolor icons and the AppStream metainfo), ready to copy under ~/.local/share or /usr.
# WORKBENCH_DIST / WORKBENCH_WORK change where the bundle and PyInstaller's work files go.
set -euo pipefail
cd "$(dirname "$0")/.."

DIST=${WORKBENCH_DIST:-dist}
WORK=${WORKBENCH_WORK:-build/pyinstaller}
for arg in "$@"; do
  case "$arg" in
    --lite) export WORKBENCH_BUNDLE_LLAMA=0 ;;
    --no-model) export WORKBENCH_BUNDLE_MODEL=0 ;;
    *) echo "package: unknown option $arg" >&2; exit 2 ;;
  esac
done

if [ ! -x .venv/bin/pyinstaller ]; then
  bash scripts/setup.sh
fi

APP_ID=io.github.workbench.Workbench
start=$(date +%s)
.venv/bin/pyinstaller --noconfirm --log-level WARN \
  --distpath "$DIST" --workpath "$WORK" packaging/workbench.spec

share="$DIST/Workbench/share"
rm -rf "$share"
mkdir -p "$share/applications" "$share/metainfo" "$share/icons"
cp "packaging/$APP_ID.desktop" "$share/applications/"
cp "packaging/$APP_ID.metainfo.xml" "$share/metainfo/"
cp -r packaging/icons/hicolor "$share/icons/"

variant=$(cat "$DIST/Workbench/.bundle-variant")  # written by the spec
echo "package: $DIST/Workbench, $variant ($(du -sh "$DIST/Workbench" | cut -f1)) in $(( $(date +%s) - start )) s"
