#!/usr/bin/env bash
# The CLI's contract, end to end: exit codes (0 ok, 1 expectation failed,
# 2 bad input), byte-identical reports for the same scenario and seed, --set
# and --seed, history recording, and clear errors on every kind of bad file.
# usage: cli_contract_test.sh SCALETWIN SCENARIO_DIR WORK_DIR
set -u
bin=$1 scen=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
failures=0 passes=0
check() {  # check NAME EXPECTED_EXIT -- command...
  local name=$1 want=$2; shift 3
  "$@" >"$name.out" 2>"$name.err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL $name: exit $got, want $want"; sed 's/^/  | /' "$name.out" "$name.err" | head -20
    failures=$((failures + 1))
  else
    passes=$((passes + 1))
  fi
}
expect_in() {  # expect_in NAME FILE TEXT
  if grep -qF -- "$3" "$2"; then passes=$((passes + 1)); else
    echo "FAIL $1: \"$3\" not in $2:"; sed 's/^/  | /' "$2" | head -20; failures=$((failures + 1)); fi
}

short="--set duration=40s --set warmup=5s --set expect=[]"
check det1 0 -- "$bin" run "$scen/flash-sale.json" --quiet --no-history --out a $short
check det2 0 -- "$bin" run "$scen/flash-sale.json" --quiet --no-history --out b $short
if cmp -s a/report.json b/report.json; then passes=$((passes + 1)); else echo "FAIL determinism: reports differ"; failures=$((failures + 1)); fi
[ -s a/report.html ] && grep -q "<svg" a/report.html && passes=$((passes + 1)) || { echo "FAIL html: no report.html with charts"; failures=$((failures + 1)); }
check seed 0 -- "$bin" run "$scen/flash-sale.json" --quiet --no-history --out c --seed 7 $short
if cmp -s a/report.json c/report.json; then echo "FAIL --seed: report unchanged"; failures=$((failures + 1)); else passes=$((passes + 1)); fi

# Expectation failure exits 1 and says FAIL.
check expect_fail 1 -- "$bin" run "$scen/mmc-check.json" --no-history --out d --set duration=20s --set warmup=2s --set pods.workers=9
expect_in expect_fail expect_fail.out "FAIL"

# History: two recorded runs, listed newest first.
check hist_run1 0 -- "$bin" run "$scen/erlang-b.json" --quiet --out e --set duration=30s --set warmup=1s --set expect=[] --history h.sqlite
check hist_run2 0 -- "$bin" run "$scen/erlang-b.json" --quiet --out e --set duration=30s --set warmup=1s --set expect=[] --history h.sqlite --seed 3
check hist 0 -- "$bin" history --history h.sqlite --scenario erlang-b
expect_in hist hist.out "erlang-b"
[ "$(grep -c erlang-b hist.out)" -eq 2 ] && passes=$((passes + 1)) || { echo "FAIL history: want 2 rows"; failures=$((failures + 1)); }
check hist_json 0 -- "$bin" history --history h.sqlite --json --limit 1
[ "$(wc -l < hist_json.out)" -eq 1 ] && expect_in hist_json hist_json.out '"seed":3'

# Bad input of every kind exits 2 with a clear message.
printf '{"version": 1, "name": "x",' > truncated.json
check truncated 2 -- "$bin" validate truncated.json
expect_in truncated truncated.err "not valid JSON (line 1"
printf '{"version":1,"name":"x","duration":"10s","traffic":{"rate":[{"at":"0s","qps":5}]},"podz":{}}' > unknown.json
check unknown 2 -- "$bin" validate unknown.json
expect_in unknown unknown.err '/podz: unknown key (did you mean "pods"?)'
printf '{"version":1,"name":"x","duration":"10s","traffic":{"arrivals":"trace","trace_file":"missing.csv"}}' > trace.json
check trace 2 -- "$bin" run trace.json --no-history --out f
expect_in trace trace.err "/traffic/trace_file: no such file"
check badset 2 -- "$bin" run "$scen/mm1.json" --no-history --out g --set pods.workers=-1
expect_in badset badset.err "/pods/workers: expected an integer in [1, 100000], found number -1"
check missing 2 -- "$bin" run nope.json
check noarg 2 -- "$bin" run
check badflag 2 -- "$bin" run "$scen/mm1.json" --bogus
check unknown_cmd 2 -- "$bin" frobnicate
check help 0 -- "$bin" run --help
expect_in help help.out "--set"
check validate_ok 0 -- "$bin" validate "$scen/flash-sale.json"
expect_in validate_ok validate_ok.out "ok: flash-sale"

# `real`: the same scenario on a real redis-server and real pods, the same
# report format with "mode": "real", expectations and history as for `run`.
check real_help 0 -- "$bin" real --help
expect_in real_help real_help.out "--work-dir"
check real_hpa 2 -- "$bin" real "$scen/hpa-flash-sale.json" --no-history --out r0
expect_in real_hpa real_hpa.err "/hpa:"
# (On Redis TIME, so "0 excess" is certain: with pod clocks a stamp reaching
# Redis out of order can, rarely, let even the script admit one too many.)
check real_run 0 -- "$bin" real "$scen/race-lua.json" --quiet --out r1 --history h.sqlite --set duration=4s \
  --set warmup=0s --set limiter.time_source=redis_time --set 'expect=[{"metric":"summary.limiter.excess_admits","max":0},{"metric":"summary.requests.offered","min":1}]'
expect_in real_run r1/report.json '"mode": "real"'
expect_in real_run r1/report.json '"audit": ['
expect_in real_run r1/report.json '"not_applied": ['
check real_hist 0 -- "$bin" history --history h.sqlite --json --limit 1
expect_in real_hist real_hist.out '"mode":"real"'
check real_fail 1 -- "$bin" real "$scen/race-lua.json" --no-history --out r2 --set duration=2s --set warmup=0s \
  --set limiter.time_source=redis_time --set 'expect=[{"metric":"summary.limiter.excess_admits","min":1}]'
expect_in real_fail real_fail.out "FAIL"
# Ctrl-C mid-run: the pods and Redis stop, the work dir's Redis directory is
# removed, nothing is written and nothing recorded, exit 130.
mkdir -p wd
"$bin" history --history h.sqlite --json >hist_before_int.out 2>&1
"$bin" real "$scen/race-lua.json" --out r3 --history h.sqlite --work-dir wd --set duration=60s \
  >real_int.out 2>real_int.err &
pid=$!
for _ in $(seq 100); do grep -q "replaying" real_int.err && break; sleep 0.1; done
sleep 1
kill -INT "$pid"
started=$SECONDS
wait "$pid"
got=$?
if [ "$got" -eq 130 ] && [ $((SECONDS - started)) -lt 20 ]; then passes=$((passes + 1)); else
  echo "FAIL real_interrupt: exit $got after $((SECONDS - started)) s, want 130 at once"
  sed 's/^/  | /' real_int.out real_int.err | head -20; failures=$((failures + 1)); fi
expect_in real_interrupt real_int.err "interrupted"
if [ ! -e r3/report.json ] && ! ls -d wd/scaletwin-redis-* >/dev/null 2>&1; then passes=$((passes + 1)); else
  echo "FAIL real_interrupt: a report or Redis's directory was left:"; ls -R r3 wd 2>&1 | head; failures=$((failures + 1)); fi
check real_int_hist 0 -- "$bin" history --history h.sqlite --json
if cmp -s real_int_hist.out hist_before_int.out; then passes=$((passes + 1)); else
  echo "FAIL real_interrupt: the interrupted run changed the history"; failures=$((failures + 1)); fi

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
