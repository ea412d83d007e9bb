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
presets=${SCALETWIN_PRESETS:-default asan}
for preset in $presets; do
  echo "== build ($preset)"
  scripts/build.sh "$preset"
  echo "== test ($preset)"
  ctest --preset "$preset" -j "$jobs" --timeout 900 || status=1
done

# The concurrent real-side code under ThreadSanitizer: only these binaries are
# built in the tsan preset (the simulator is single-threaded). BINARY:FILTER
# runs only the tests a gtest filter names (the real run's concurrency test,
# whose checks hold at TSan's speed; its statistical siblings need full speed).
tsan_tests=(real/redis/real_redis_pool_test real/redis/real_redis_limiter_test
            real/redis/real_redis_limiter_race_test real/storage/real_storage_test
            real/telemetry/real_telemetry_test real/pod/real_pod_unit_test real/pod/real_pod_test
            real/harness/real_run_test:RealRunTest.ConcurrentPartsAgreeThroughAKillAndARestart)
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
    SCALETWIN_SOURCE_DIR="$PWD" TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
      "build/tsan/$binary" --gtest_brief=1 --gtest_filter="$filter" || status=1
  done
fi
exit $status
