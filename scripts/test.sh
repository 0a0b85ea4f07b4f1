#!/usr/bin/env bash
# The whole test suite: lint, types, layer contracts, then pytest. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
V=.venv/bin
export QT_QPA_PLATFORM=offscreen
echo "== ruff";          $V/ruff check src tests benchmarks
echo "== ruff format";   $V/ruff format --check src tests benchmarks
echo "== mypy";          $V/mypy
echo "== import-linter"; $V/lint-imports
echo "== pytest";        $V/pytest "$@"
