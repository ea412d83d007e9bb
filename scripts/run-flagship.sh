#!/usr/bin/env bash
# README command 1: installs and builds when needed, runs the flagship scenario
# in the simulator and prints where report.json and report.html were written.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh default scaletwin >/dev/null
build/default/cli/scaletwin run scenarios/flash-sale.json --out out/flash-sale "$@"
