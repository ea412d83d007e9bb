#!/usr/bin/env bash
# README command 2 (and what .ci/run calls): installs what is missing, builds,
# starts the services the tests need, and runs the whole suite with ctest —
# first the optimised build, then the ASan+UBSan build.
#   scripts/test.sh            both builds
#   SCALETWIN_PRESETS=default scripts/test.sh   one build
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
status=0
for preset in ${SCALETWIN_PRESETS:-default asan}; do
  echo "== build ($preset)"
  scripts/build.sh "$preset"
  echo "== test ($preset)"
  ctest --preset "$preset" -j "$jobs" --timeout 900 || status=1
done
exit $status
