#!/usr/bin/env bash
# README command 2 (and what .ci/run calls): installs what is missing, builds,
# and runs the whole suite with ctest — first the optimised build, then the
# ASan+UBSan build — and then the real side's concurrent code (the Redis
# limiter and its pool, the storage pools, the pod's server, workers,
# metrics and config watcher, a whole real run) under ThreadSanitizer. Tests start
# the servers they need (redis-server, PostgreSQL) on free loopback ports.
#   scripts/test.sh                                   everything
#   SCALETWIN_PRESETS=default scripts/test.sh         one build, no TSan
#   SCALETWIN_TSAN=0 scripts/test.sh                  skip the TSan step
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
status=0
# What failed, kept for the summary at the end: CI shows only the tail of a
# long log, so the names and the failing output must be the last thing printed.
failures=$(mktemp)
trap 'rm -f "$failures"' EXIT

# Appends the output of every test ctest just recorded as failed in PRESET.
record_ctest_failures() {
  local preset=$1 dir="build/$1/Testing/Temporary"
  [ -f "$dir/LastTestsFailed.log" ] || return 0
  while IFS=: read -r _ name; do
    echo "-- $preset: $name" >>"$failures"
    # The test's output block in LastTest.log, last 60 lines of it.
    awk -v t="$name" 'index($0, "Testing: ") && substr($0, index($0, "Testing: ") + 9) == t {on=1; next}
                      on && /^<end of output>/ {exit} on' \
      "$dir/LastTest.log" | tail -n 60 >>"$failures"
  done <"$dir/LastTestsFailed.log"
}
presets=${SCALETWIN_PRESETS:-default asan}
for preset in $presets; do
  echo "== build ($preset)"
  scripts/build.sh "$preset"
  echo "== test ($preset)"
  if ! ctest --preset "$preset" -j "$jobs" --timeout 900; then
    status=1
    record_ctest_failures "$preset"
  fi
done

# The concurrent real-side code under ThreadSanitizer: only these binaries are
# built in the tsan preset (the simulator is single-threaded). BINARY:FILTER
# runs only the tests a gtest filter names (the real run's concurrency and
# Ctrl-C tests and the load generator's cancel, whose checks hold at TSan's
# speed; their timing and statistical siblings need full speed).
tsan_tests=(real/redis/real_redis_pool_test real/redis/real_redis_limiter_test
            real/redis/real_redis_limiter_race_test real/storage/real_storage_test
            real/telemetry/real_telemetry_test real/pod/real_pod_unit_test real/pod/real_pod_test
            real/harness/real_run_test:RealRunTest.ConcurrentPartsAgreeThroughAKillAndARestart:RealRunTest.AnInterrupt*
            real/harness/real_load_generator_test:LoadGeneratorTest.Cancel*)
if [ "${SCALETWIN_TSAN:-1}" != 0 ] && [ -z "${SCALETWIN_PRESETS:-}" ]; then
  echo "== build (tsan: the real side's concurrent code)"
  targets=()
  for t in "${tsan_tests[@]}"; do targets+=("$(basename "${t%%:*}")"); done
  scripts/build.sh tsan "${targets[@]}"
  echo "== test (tsan)"
  for t in "${tsan_tests[@]}"; do
    binary=${t%%:*}
    filter=*
    [[ $t == *:* ]] && filter=${t#*:}
    echo "-- $t"
    rc=0
    SCALETWIN_SOURCE_DIR="$PWD" TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
      "build/tsan/$binary" --gtest_brief=1 --gtest_filter="$filter" || rc=$?
    if [ "$rc" != 0 ]; then
      status=1
      echo "-- tsan: $t exited with $rc (its output is above)" >>"$failures"
    fi
  done
fi
if [ "$status" != 0 ]; then
  echo "== FAILED"
  cat "$failures"
fi
exit $status
