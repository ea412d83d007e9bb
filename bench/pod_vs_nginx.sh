#!/usr/bin/env bash
# One real pod (`scaletwin pod`) against nginx's `return 302` on the same
# machine: the redirect of a cached code with the rate limiter on, under wrk.
# Prints requests/s, p50 and p99 per target (medians of N wrk runs, nginx and
# the pod alternating, which one goes first swapped every round), the ratio
# pod / nginx, the pod's peak RSS (VmHWM) and CPU per request, and what the
# pod counted (cache hits, limiter decisions, statuses) from its /metrics.
#
#   bench/pod_vs_nginx.sh                       # 5 rounds of wrk -t2 -c50 -d10s --latency (~2 min)
#   POD_BENCH_RUNS=3 bench/pod_vs_nginx.sh      # rounds (default 5)
#   POD_BENCH_LIMITER='{"algorithm":"gcra"}' bench/pod_vs_nginx.sh
#
# Environment (defaults in brackets):
#   SCALETWIN               the binary [build/default/cli/scaletwin]
#   POD_BENCH_RUNS          wrk runs per target [5]
#   POD_BENCH_DURATION      seconds per wrk run [10]
#   POD_BENCH_THREADS       wrk threads [2]
#   POD_BENCH_CONNECTIONS   wrk connections [50]
#   POD_BENCH_WARMUP        seconds of unrecorded wrk per target first, 0 = none [2]
#   POD_BENCH_WORKERS       pod `workers` and nginx `worker_processes` [nproc]
#   POD_BENCH_LIMITER       the pod's `limiter` section [{"algorithm":"sliding_log","strategy":"lua"}]
#   POD_BENCH_OVERRIDE      JSON deep-merged into the pod config, null deletes a key
#                           (diagnostics, e.g. '{"workers":8}'; "@KEY_SHA@" stands for the
#                           tenant's key hash); the headline run uses none
#   POD_BENCH_KEEP=DIR      copy the raw wrk outputs, configs and the pod's log to DIR
#
# Everything listens on 127.0.0.1 on free ports; redis-server, nginx and the
# pod are started in a temporary directory and stopped (and the directory
# removed) on exit, also on failure. Installs wrk and nginx (Debian packages)
# when missing. Needs redis-server, curl, python3. Timings are only worth
# recording on an otherwise idle machine: the load average is printed before
# and after; wrk, the pod, nginx and Redis all share the same cores.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${SCALETWIN:-$ROOT/build/default/cli/scaletwin}"
RUNS="${POD_BENCH_RUNS:-5}"
DURATION="${POD_BENCH_DURATION:-10}"
THREADS="${POD_BENCH_THREADS:-2}"
CONNS="${POD_BENCH_CONNECTIONS:-50}"
WARMUP="${POD_BENCH_WARMUP:-2}"
WORKERS="${POD_BENCH_WORKERS:-$(nproc)}"
DEFAULT_LIMITER='{"algorithm":"sliding_log","strategy":"lua"}'
LIMITER="${POD_BENCH_LIMITER:-$DEFAULT_LIMITER}"
KEEP="${POD_BENCH_KEEP:-}"
OVERRIDE="${POD_BENCH_OVERRIDE:-}"

for arg in "$@"; do
  case "$arg" in
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg (settings are environment variables, see --help)" >&2; exit 2 ;;
  esac
done
for v in RUNS DURATION THREADS CONNS WARMUP WORKERS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "$v must be a whole number, found '${!v}'" >&2; exit 2; }
done
(( RUNS >= 1 && DURATION >= 1 && THREADS >= 1 && CONNS >= THREADS && WORKERS >= 1 )) ||
  { echo "need RUNS, DURATION, THREADS, WORKERS >= 1 and CONNECTIONS >= THREADS" >&2; exit 2; }

die() { echo "pod_vs_nginx: $*" >&2; exit 1; }

# ---- tools ------------------------------------------------------------------
as_root() { if [[ $(id -u) == 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
if ! command -v wrk >/dev/null || { ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; }; then
  pkgs=(wrk)
  # nginx-light where the release still has it (Debian <= 12), else nginx.
  if apt-cache policy nginx-light 2>/dev/null | grep -q 'Candidate: [0-9]'; then pkgs+=(nginx-light); else pkgs+=(nginx); fi
  echo "installing ${pkgs[*]} (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null ||
    { as_root apt-get update >/dev/null && as_root apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null; } ||
    die "could not install ${pkgs[*]}"
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
for t in wrk redis-server curl python3 timeout; do command -v "$t" >/dev/null || die "$t not found"; done
[[ -x $BIN ]] || die "$BIN not found (build it: cmake --build build/default --target scaletwin)"

# ---- processes and cleanup -----------------------------------------------------
TMP="$(mktemp -d "${TMPDIR:-/tmp}/pod-vs-nginx.XXXXXX")"
REDIS_PID="" NGINX_PID="" POD_PID=""
stop() {  # stop PID [signal]: signal, wait up to 5 s, then SIGKILL
  local pid="$1" i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill "-${2:-TERM}" "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop "$POD_PID"
  stop "$NGINX_PID" QUIT  # graceful: the master stops its workers
  stop "$REDIS_PID"
  if [[ -n $KEEP && -d $TMP ]]; then
    mkdir -p "$KEEP" && cp -r "$TMP"/wrk-*.txt "$TMP"/*.json "$TMP"/*.conf "$TMP"/metrics.txt "$TMP"/pod.log "$KEEP"/ 2>/dev/null || true
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" || true; }
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...: poll every 0.1 s
  local secs="$1" what="$2" i; shift 2
  for ((i = 0; i < secs * 10; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "$what did not come up within ${secs}s"
}
alive() { kill -0 "$1" 2>/dev/null; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }  # utime + stime

echo "== machine"
echo "date:       $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu:        $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), nproc $(nproc)"
echo "memory:     $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "git:        $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (+ local changes)')"
echo "binary:     $BIN ($(date -u -r "$BIN" '+%Y-%m-%d %H:%M UTC'))"
if [[ -f $ROOT/build/default/CMakeCache.txt && $BIN == "$ROOT/build/default/"* ]]; then
  echo "build type: $(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$ROOT/build/default/CMakeCache.txt")"
fi
echo "versions:   $("$NGINX" -v 2>&1 | sed 's/.*: //'), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"
echo "uptime before: $(uptime)"

# ---- redis --------------------------------------------------------------------
REDIS_PORT="$(free_port)"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$TMP" \
  --daemonize no --logfile "$TMP/redis.log" &
REDIS_PID=$!
wait_for 10 "redis-server" redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping

# ---- nginx --------------------------------------------------------------------
NGINX_PORT="$(free_port)"
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx.conf" <<EOF
daemon off;
worker_processes $WORKERS;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / { return 302 https://example.com/; }
  }
}
EOF
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx.conf" -e "$TMP/nginx/error.log" >"$TMP/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
NGINX_URL="http://127.0.0.1:$NGINX_PORT/abc1234"
nginx_up() { alive "$NGINX_PID" && [[ $(http_code "$NGINX_URL") == 302 ]]; }
wait_for 10 "nginx (see $TMP/nginx/error.log)" nginx_up

# ---- the pod ------------------------------------------------------------------
KEY="$("$BIN" apikey new | sed -n 's/^key  *//p')" || die "$BIN apikey new failed"
[[ -n $KEY ]] || die "$BIN apikey new printed no key"
KEY_SHA="$("$BIN" apikey hash "$KEY")" || die "$BIN apikey hash failed"
# The config; POD_BENCH_OVERRIDE is deep-merged into it (null deletes a key).
python3 - "$TMP/pod.json" "$WORKERS" "$TMP/links.db" "$REDIS_PORT" "$LIMITER" "$KEY_SHA" "$OVERRIDE" <<'PY' ||
import json, sys
out, workers, db, redis_port, limiter, key_sha, override = sys.argv[1:]
cfg = {
    "pod": "bench", "listen": "127.0.0.1:0", "workers": int(workers), "io_threads": 1,
    "storage": {"backend": "sqlite", "path": db},
    "redis": {"url": f"redis://127.0.0.1:{redis_port}"},
    "limiter": json.loads(limiter),
    "tenants": [{"id": "bench", "api_key_sha256": [key_sha], "limit": {"requests": 1000000, "window": "1s"}}],
    "log": {"level": "warn"},
    "shutdown": {"grace_period": "5s", "drain_delay": "0s"},
}
def merge(base, over):
    for k, v in over.items():
        if v is None: base.pop(k, None)
        elif isinstance(v, dict) and isinstance(base.get(k), dict): merge(base[k], v)
        else: base[k] = v
merge(cfg, json.loads((override or "{}").replace("@KEY_SHA@", key_sha)))
json.dump(cfg, open(out, "w"), indent=2)
PY
  die "bad POD_BENCH_LIMITER or POD_BENCH_OVERRIDE"
"$BIN" pod --config "$TMP/pod.json" --port-file "$TMP/pod.port" >"$TMP/pod.log" 2>&1 &
POD_PID=$!
pod_port_known() { alive "$POD_PID" && [[ -s $TMP/pod.port ]]; }
wait_for 15 "the pod (log: $(tail -3 "$TMP/pod.log" 2>/dev/null))" pod_port_known
POD_PORT="$(cat "$TMP/pod.port")"
POD_BASE="http://127.0.0.1:$POD_PORT"
pod_ready() { alive "$POD_PID" && [[ $(http_code "$POD_BASE/readyz") == 200 ]]; }
wait_for 15 "the pod's /readyz" pod_ready

created="$(curl -s --max-time 5 -XPOST "$POD_BASE/api/v1/links" -H "Authorization: Bearer $KEY" \
  -H 'Content-Type: application/json' -d '{"url":"https://example.com/"}')"
CODE="$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["code"])' "$created" 2>/dev/null)" ||
  die "creating the link failed: $created"
POD_URL="$POD_BASE/$CODE"
[[ $(http_code "$POD_URL") == 302 ]] || die "GET $POD_URL did not answer 302"  # miss: fills the cache
[[ $(http_code "$POD_URL") == 302 ]] || die "GET $POD_URL did not answer 302"  # hit
echo "pod:        workers $WORKERS, io_threads 1, sqlite, limiter $LIMITER, tenant limit 1000000 per 1s${OVERRIDE:+, override $OVERRIDE}"
echo "nginx:      worker_processes $WORKERS, return 302"
echo "targets:    nginx $NGINX_URL   pod $POD_URL (cache warmed)"

# ---- wrk ----------------------------------------------------------------------
WRK=(wrk "-t$THREADS" "-c$CONNS" --latency)
run_wrk() {  # run_wrk TARGET URL SECONDS OUTFILE
  timeout -k 5 $(($3 + 30)) "${WRK[@]}" "-d${3}s" "$2" >"$4" 2>&1 || echo "wrk exited with $? (target $1)" >>"$4"
}
if (( WARMUP > 0 )); then
  run_wrk nginx "$NGINX_URL" "$WARMUP" "$TMP/warmup-nginx.txt"
  run_wrk pod "$POD_URL" "$WARMUP" "$TMP/warmup-pod.txt"
fi
echo "wrk:        ${WRK[*]} -d${DURATION}s, $RUNS rounds, order alternating"
echo "load average (1/5/15 min) at start of timed runs: $(cut -d' ' -f1-3 /proc/loadavg)"
POD_T0="$(cpu_ticks "$POD_PID")" REDIS_T0="$(cpu_ticks "$REDIS_PID")"
for ((i = 1; i <= RUNS; i++)); do
  if (( i % 2 )); then order=(nginx pod); else order=(pod nginx); fi
  for t in "${order[@]}"; do
    if [[ $t == nginx ]]; then url="$NGINX_URL"; else url="$POD_URL"; fi
    run_wrk "$t" "$url" "$DURATION" "$TMP/wrk-$t-$i.txt"
    alive "$POD_PID" || { cat "$TMP/wrk-$t-$i.txt"; tail -20 "$TMP/pod.log"; die "the pod died during run $i ($t)"; }
  done
done
POD_T1="$(cpu_ticks "$POD_PID")" REDIS_T1="$(cpu_ticks "$REDIS_PID")"
echo "load average (1/5/15 min) at end of timed runs:   $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- what the pod saw ------------------------------------------------------------
POD_HWM="$(awk '/^VmHWM/ { print $2 }' "/proc/$POD_PID/status")"
POD_RSS="$(awk '/^VmRSS/ { print $2 }' "/proc/$POD_PID/status")"
curl -s --max-time 5 "$POD_BASE/metrics" >"$TMP/metrics.txt" || true
REDIS_KEYS="$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --scan 2>/dev/null | head -20 | while read -r k; do
  t="$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" type "$k")"
  [[ $t == zset ]] && t="zset of $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" zcard "$k")"
  echo -n "$k ($t); "; done)" || true
REDIS_MEM="$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" info memory | sed -n 's/^used_memory_peak_human://p' | tr -d '\r')"

python3 - "$TMP" "$RUNS" "$DURATION" "$((POD_T1 - POD_T0))" "$((REDIS_T1 - REDIS_T0))" "$(getconf CLK_TCK)" <<'PY'
import glob, os, re, statistics, sys

tmp, runs, duration = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pod_ticks, redis_ticks, hz = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}

def ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * UNIT[m.group(2)]

def parse(path):
    text = open(path).read()
    r = {"rps": None, "p50": None, "p99": None, "requests": 0, "non2xx3xx": 0, "socket": "", "other": []}
    if m := re.search(r"Requests/sec:\s+([0-9.]+)", text): r["rps"] = float(m.group(1))
    if m := re.search(r"^\s+50%\s+(\S+)", text, re.M): r["p50"] = ms(m.group(1))
    if m := re.search(r"^\s+99%\s+(\S+)", text, re.M): r["p99"] = ms(m.group(1))
    if m := re.search(r"(\d+) requests in", text): r["requests"] = int(m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text): r["non2xx3xx"] = int(m.group(1))
    if m := re.search(r"Socket errors:.*", text): r["socket"] = m.group(0).strip()
    r["other"] = [l.strip() for l in text.splitlines() if l.startswith("wrk exited")]
    return r

res = {t: [parse(f"{tmp}/wrk-{t}-{i}.txt") for i in range(1, runs + 1)] for t in ("nginx", "pod")}
print("\n== per run (order alternates: odd rounds nginx first)")
print(f"{'round':>5} {'target':>6} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'non-2xx/3xx':>11}  socket errors")
problems = []
for i in range(runs):
    for t in ("nginx", "pod"):
        r = res[t][i]
        f = lambda x, p: "n/a" if x is None else f"{x:.{p}f}"
        print(f"{i + 1:>5} {t:>6} {f(r['rps'], 0):>10} {f(r['p50'], 3):>8} {f(r['p99'], 3):>8} {r['requests']:>9} "
              f"{r['non2xx3xx']:>11}  {r['socket'] or '-'}")
        if r["non2xx3xx"] or r["socket"] or r["other"] or r["rps"] is None:
            problems.append(f"round {i + 1} {t}: non-2xx/3xx {r['non2xx3xx']}; {r['socket'] or 'no socket errors'}"
                            + ("; " + "; ".join(r["other"]) if r["other"] else "")
                            + ("; no Requests/sec line" if r["rps"] is None else ""))

def med(t, k):
    xs = [r[k] for r in res[t] if r[k] is not None]
    return statistics.median(xs) if xs else float("nan")

print(f"\n== medians of {runs} runs")
print(f"{'target':>18} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
for t in ("nginx", "pod"):
    print(f"{t:>18} {med(t, 'rps'):10.0f} {med(t, 'p50'):8.3f} {med(t, 'p99'):8.3f}")
print(f"{'ratio pod / nginx':>18} {med('pod', 'rps') / med('nginx', 'rps'):9.2f}x "
      f"{med('pod', 'p50') / med('nginx', 'p50'):7.2f}x {med('pod', 'p99') / med('nginx', 'p99'):7.2f}x")
paired = [p["rps"] / n["rps"] for p, n in zip(res["pod"], res["nginx"]) if p["rps"] and n["rps"]]
if paired:
    print(f"paired req/s ratio (median over rounds of pod / nginx in the same round): {statistics.median(paired):.2f}x "
          f"(min {min(paired):.2f}, max {max(paired):.2f}); target >= 0.5")

pod_requests = sum(r["requests"] for r in res["pod"])
if pod_requests:
    print(f"\npod CPU during the timed pod runs: {pod_ticks / hz:.1f} s = {pod_ticks / hz / pod_requests * 1e6:.1f} us "
          f"per request; redis-server: {redis_ticks / hz:.1f} s = {redis_ticks / hz / pod_requests * 1e6:.1f} us "
          f"per pod request ({pod_requests} pod requests, {runs * duration} s of pod load)")

# What the pod itself counted, from its /metrics.
try:
    metrics = open(f"{tmp}/metrics.txt").read()
except OSError:
    metrics = ""
def series(name):
    out = []
    for line in metrics.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            out.append(line)
    return out
print("\n== the pod's /metrics after the runs")
for name in ("shortener_requests_total", "shortener_limiter_decisions_total", "shortener_cache_events_total",
             "shortener_request_part_seconds_total", "shortener_request_duration_seconds_sum",
             "shortener_request_duration_seconds_count", "shortener_queue_rejected_total", "shortener_redis_pool_timeouts_total", "shortener_db_pool_timeouts_total"):
    for line in series(name):
        print("  " + line)
if problems:
    print("\n== PROBLEMS (non-2xx/3xx answers, socket errors, wrk failures)")
    for p in problems:
        print("  " + p)
PY

echo
echo "pod peak RSS (VmHWM): $POD_HWM kB (VmRSS at the end: $POD_RSS kB); redis used_memory_peak: $REDIS_MEM"
echo "redis keys at the end: $REDIS_KEYS"
warns="$(grep -c '"level"' "$TMP/pod.log" || true)"
echo "pod log lines (level warn and above): $warns"
[[ $warns == 0 ]] || { echo "first / last of them:"; grep '"level"' "$TMP/pod.log" | head -3; grep '"level"' "$TMP/pod.log" | tail -3; }
grep -v '"level"' "$TMP/pod.log" | head -5 | sed 's/^/pod stdout\/stderr: /' || true
echo "uptime after: $(uptime)"
