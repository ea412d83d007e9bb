#!/usr/bin/env bash
# Builds the benchmark targets (preset "default") and prints every figure that
# bench/RESULTS.md records: machine, event queue vs std::priority_queue (hold
# model), whole simulator runs (simulated requests/s vs the 3 M/s target) and
# peak RSS at 10 min vs 100 min of simulated time; then the real Redis limiter
# per strategy against redis-benchmark on a throwaway redis-server.
#
#   bench/run_benchmarks.sh                 # build + run everything (~7 min)
#   BENCH_REPS=3 bench/run_benchmarks.sh    # fewer repetitions (default 5)
#   bench/run_benchmarks.sh --no-build      # reuse build/default
#
# Medians of BENCH_REPS repetitions are reported. Timings are only worth
# recording on an otherwise idle machine: the script prints the load average
# before and after and warns when it is above 0.5 (other builds share the cores).
# Needs: cmake, ninja, Google Benchmark, python3 (tables), /usr/bin/time
# (Debian package "time") for the RSS figures.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build/default"
REPS="${BENCH_REPS:-5}"
OUT="$(mktemp -d "${TMPDIR:-/tmp}/scaletwin-bench.XXXXXX")"
BUILD_FIRST=1
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD_FIRST=0 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

load1() { cut -d' ' -f1 /proc/loadavg; }
check_load() {
  local l; l="$(load1)"
  echo "load average (1 min) $1: $l"
  if awk -v l="$l" 'BEGIN { exit !(l > 0.5) }'; then
    echo "WARNING: load average $l > 0.5 — other work is running; timings below may be inflated." >&2
  fi
}

if [[ $BUILD_FIRST == 1 ]]; then
  cmake --preset default -S "$ROOT" >/dev/null
  cmake --build "$BUILD" --target event_queue_bench sim_run_bench rss_probe real_limiter_bench
fi

echo "== machine"
echo "date:       $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu:        $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) logical CPUs"
echo "memory:     $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
CXX_BIN="$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")"
echo "compiler:   $("${CXX_BIN:-c++}" --version | head -1)"
echo "build type: $(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt")" \
     "($(sed -n 's/^CMAKE_CXX_FLAGS_RELWITHDEBINFO:[A-Z]*=//p' "$BUILD/CMakeCache.txt"))"
echo "git:        $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (+ local changes)')"
check_load "before"

BM_FLAGS=(--benchmark_repetitions="$REPS" --benchmark_enable_random_interleaving=true
          --benchmark_report_aggregates_only=true --benchmark_out_format=json)

echo
echo "== event queue, hold model (running, ~2-3 min)"
"$BUILD/bench/event_queue_bench" "${BM_FLAGS[@]}" --benchmark_out="$OUT/event_queue.json" >"$OUT/event_queue.txt"
echo
echo "== whole simulator runs (running, ~1 min)"
"$BUILD/bench/sim_run_bench" "${BM_FLAGS[@]}" --benchmark_out="$OUT/sim_run.json" >"$OUT/sim_run.txt"

python3 - "$OUT/event_queue.json" "$OUT/sim_run.json" <<'PY'
import json, re, sys

def medians(path):
    """Median rows by run name; plain rows when there was one repetition."""
    rows, plain = {}, {}
    for b in json.load(open(path))["benchmarks"]:
        if b.get("aggregate_name") == "median":
            rows[b["run_name"]] = b
        elif b.get("run_type") == "iteration":
            plain.setdefault(b["run_name"], b)
    return rows or plain

eq = medians(sys.argv[1])
def ns(name):
    b = eq.get(name)
    return None if b is None else b["cpu_time"] * {"ns": 1, "us": 1e3, "ms": 1e6}[b["time_unit"]]

print("\n== event queue, hold model: median CPU ns per hold (pop + push, RNG draw included)")
draw = ns("BM_DrawOnly")
if draw is not None:
    print(f"RNG draw alone (BM_DrawOnly): {draw:.1f} ns")
def table(title, pattern):
    print(title)
    print(f"{'case':>22} {'priority_queue':>15} {'EventQueue':>11} {'ratio':>6} {'QuadHeap (old)':>15}")
    found = []
    for name in eq:
        m = re.fullmatch(pattern.replace("Q", "PriorityQueue"), name)
        if m:
            found.append((int(m.group(1)), name))
    for arg, name in sorted(found):
        args = str(arg)
        base = ns(name)
        new = ns(name.replace("PriorityQueue", "sim::EventQueue"))
        quad = ns(name.replace("PriorityQueue", "QuadHeap"))
        ratio = f"{base / new:5.2f}x" if new else "   n/a"
        quad_s = f"{quad:13.1f}" if quad else "            -"
        new_s = f"{new:9.1f}" if new else "        -"
        print(f"{args:>22} {base:13.1f} {new_s} {ratio} {quad_s}")
table("mean 10 ms, N pending:", r"BM_Hold<Q>/(\d+)")
table("N = 1000, mean (ns):", r"BM_HoldMean<Q>/1000/(\d+)")
table("times rounded up to 1 ms (ties), N pending:", r"BM_HoldTies<Q>/(\d+)")

sim = medians(sys.argv[2])
print("\n== whole runs: median simulated requests per CPU second (target >= 3 M/s for mmc-check)")
print(f"{'scenario':>12} {'ms/run':>8} {'requests/run':>13} {'M req/s':>8} {'vs 3 M/s':>9} {'M events/s':>11} {'events/req':>11}")
for name, b in sorted(sim.items(), key=lambda kv: kv[0].startswith("BM_SimRun/flash")):
    label = name.split("/", 1)[1]
    print(f"{label:>12} {b['cpu_time']:8.1f} {b['requests_per_run']:13.0f} {b['items_per_second'] / 1e6:8.2f} "
          f"{b['items_per_second'] / 3e6:8.2f}x {b['events_per_second'] / 1e6:11.2f} {b['events_per_request']:11.2f}")
PY

echo
echo "== peak RSS, mmc-check, simulated duration 10 min vs 100 min (/usr/bin/time -v)"
if [[ ! -x /usr/bin/time ]]; then
  echo "/usr/bin/time not found: apt-get install time" >&2
else
  # The third row keeps 100 min but uses 60 s series intervals (100 instead of
  # 6000): what remains of the difference is not the per-interval series.
  printf '%-36s %10s %8s %12s %10s\n' run requests wall_s max_rss_kib vs_10m
  first=""
  for spec in "duration=10m" "duration=100m" "duration=100m series_interval=60s"; do
    args=()
    for kv in $spec; do args+=(--set "$kv"); done
    tag="${spec// /_}"
    /usr/bin/time -v "$BUILD/bench/rss_probe" "$ROOT/scenarios/mmc-check.json" "${args[@]}" \
      >"$OUT/rss_$tag.out" 2>"$OUT/rss_$tag.time"
    rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$OUT/rss_$tag.time")"
    req="$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' "$OUT/rss_$tag.out")"
    wall="$(sed -n 's/.*wall_s=\([0-9.]*\).*/\1/p' "$OUT/rss_$tag.out")"
    delta="-"; [[ -n $first ]] && delta="$((rss - first))"
    [[ -z $first ]] && first="$rss"
    printf '%-36s %10s %8s %12s %10s\n' "$spec" "$req" "$wall" "$rss" "$delta"
  done
fi

echo
echo "== real limiter on redis-server vs redis-benchmark EVALSHA (running, ~2 min)"
if ! command -v redis-benchmark >/dev/null || ! command -v redis-server >/dev/null; then
  echo "redis-server / redis-benchmark not found: apt-get install redis-server redis-tools" >&2
else
  "$BUILD/bench/real_limiter_bench" "${BM_FLAGS[@]}" --benchmark_out="$OUT/real_limiter.json" \
    --compare_reps=10 --compare_calls=5000 >"$OUT/real_limiter.txt"
  python3 - "$OUT/real_limiter.json" <<'PY'
import json, sys
rows = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("aggregate_name") == "median" or (b.get("run_type") == "iteration" and b["run_name"] not in rows):
        rows[b["run_name"]] = b
print(f"{'variant':>22} {'threads':>7} {'decisions/s':>12} {'p50 us':>8} {'p99 us':>9} {'errors':>6}")
for name, b in rows.items():
    _, variant, _, threads = name.split("/")
    print(f"{variant:>22} {threads.split(':')[1]:>7} {b['items_per_second']:12.0f} {b['p50_us']:8.1f} "
          f"{b['p99_us']:9.1f} {b['errors']:6.0f}")
PY
  sed -n '/^== lua_redis_time/,$p' "$OUT/real_limiter.txt"
fi

echo
check_load "after"
echo "raw output: $OUT"
