#!/usr/bin/env bash
# Sets everything up, then launches the Workbench app (local engine by default).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/workbench "$@"
