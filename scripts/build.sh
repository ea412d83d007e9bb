#!/usr/bin/env bash
# Configures (once) and builds one CMake preset: scripts/build.sh [PRESET] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-default}
shift || true
[ -f "build/$preset/build.ninja" ] || cmake --preset "$preset" >/dev/null
if [ $# -gt 0 ]; then
  cmake --build "build/$preset" --target "$@"
else
  cmake --build "build/$preset"
fi
