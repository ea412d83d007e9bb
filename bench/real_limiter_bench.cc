// The real limiter (real/redis/redis_limiter.h) against a throwaway
// redis-server: decisions per second and per-call latency for every algorithm
// and sliding-log strategy, with 1 and 50 client threads sharing one
// RedisLimiter pool (size 50); then, in the same process and against the same
// server, redis-benchmark sending the very EVALSHA the lua limiter sends, as
// the per-call baseline (target: lua within 1.1x of redis-benchmark at 1 client).
//
// Workload: one key per variant, limit 1 000 000 per 1 s window, so every
// request is admitted and takes each algorithm's most expensive path (for the
// sliding log: trim, count, ZADD, PEXPIRE; the zset holds the last second's
// requests). Time source pod_clock except "lua_redis_time", whose EVALSHA is
// byte-for-byte what redis-benchmark sends (ARGV[1] "redis": the script
// reads TIME, so a fixed command line does the same work as the limiter).
//
// Part 1 (Google Benchmark): items_per_second = decisions/s over all threads;
// p50_us / p99_us = per-call latency (mean over threads of each thread's
// percentile); errors = decisions that hit a Redis error (must be 0).
// Part 2 (after Google Benchmark, --compare_reps rounds, back to back and
// alternating which goes first): the limiter's lua_redis_time and
// `redis-benchmark -c C -n N -r 1e9 --csv EVALSHA <sha> 1 <key> redis 1000
// 1000000 m:__rand_int__ 2000` at C = 1 and C = 50; medians, ratios of the
// medians and medians of the per-round ratios are printed at the end.
//
//   real_limiter_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//                      --compare_reps=10 --compare_calls=5000
//
// Needs redis-server and redis-benchmark on PATH (Debian package redis-tools).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "model/limiter_plan.h"
#include "real/redis/redis_limiter.h"
#include "testsupport/redis_client.h"
#include "testsupport/redis_server.h"

namespace scaletwin::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

const LimitSpec kLimit{1'000'000, 1 * kNanosPerSecond};
constexpr int kPoolSize = 50;

RedisServer* g_server = nullptr;
RedisConnectionPool* g_pool = nullptr;

struct Variant {
  std::string name;
  LimiterConfig config;
};

std::vector<Variant> Variants() {
  auto sliding = [](SlidingLogStrategy s, LimiterTimeSource t = LimiterTimeSource::kPodClock) {
    LimiterConfig c;
    c.strategy = s;
    c.time_source = t;
    return c;
  };
  auto algorithm = [](LimiterAlgorithm a) {
    LimiterConfig c;
    c.algorithm = a;
    return c;
  };
  return {
      {"check_then_add", sliding(SlidingLogStrategy::kCheckThenAdd)},
      {"multi_add_then_count", sliding(SlidingLogStrategy::kMultiAddThenCount)},
      {"lua", sliding(SlidingLogStrategy::kLua)},
      {"lua_redis_time", sliding(SlidingLogStrategy::kLua, LimiterTimeSource::kRedisTime)},
      {"sliding_counter", algorithm(LimiterAlgorithm::kSlidingCounter)},
      {"fixed_window", algorithm(LimiterAlgorithm::kFixedWindow)},
      {"token_bucket", algorithm(LimiterAlgorithm::kTokenBucket)},
      {"gcra", algorithm(LimiterAlgorithm::kGcra)},
  };
}

// q-quantile of `v` in µs (reorders v).
double QuantileUs(std::vector<int64_t>& v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]) / 1000.0;
}

void BM_Decide(benchmark::State& state, const LimiterConfig& config, const std::string& key) {
  // One limiter per thread on the shared pool: limiters are cheap, and each
  // draws its own random member prefix, so members never collide.
  RedisLimiter limiter(*g_pool, config);
  std::vector<int64_t> latencies;
  latencies.reserve(1 << 16);
  int64_t errors = 0;
  for (auto _ : state) {
    const auto t0 = SteadyClock::now();
    Result<Decision> d = limiter.Decide(key, kLimit);
    const auto t1 = SteadyClock::now();
    latencies.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    if (!d.ok() || d->redis_error || !d->allowed) ++errors;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["p50_us"] = benchmark::Counter(QuantileUs(latencies, 0.50), benchmark::Counter::kAvgThreads);
  state.counters["p99_us"] = benchmark::Counter(QuantileUs(latencies, 0.99), benchmark::Counter::kAvgThreads);
  state.counters["errors"] = benchmark::Counter(static_cast<double>(errors));
}

// ---- part 2: against redis-benchmark -------------------------------------------

struct Measured {
  double rps = 0, mean_us = 0, p50_us = 0, p99_us = 0;
};

// `calls` lua_redis_time decisions spread over `threads` threads.
Measured MeasureLimiter(const LimiterConfig& config, int threads, int calls) {
  std::vector<std::vector<int64_t>> per_thread(threads);
  const auto start = SteadyClock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      RedisLimiter limiter(*g_pool, config);
      std::vector<int64_t>& lat = per_thread[t];
      lat.reserve(calls / threads + 1);
      for (int i = t; i < calls; i += threads) {
        const auto t0 = SteadyClock::now();
        Result<Decision> d = limiter.Decide("rl:bench:cmp:limiter", kLimit);
        lat.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - t0).count());
        if (!d.ok() || d->redis_error) std::fprintf(stderr, "limiter error: %s\n", d.ok() ? d->error.c_str() : "?");
      }
    });
  }
  for (std::thread& th : pool) th.join();
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  std::vector<int64_t> all;
  for (auto& v : per_thread) all.insert(all.end(), v.begin(), v.end());
  Measured m;
  m.rps = static_cast<double>(all.size()) / seconds;
  double sum = 0;
  for (int64_t x : all) sum += static_cast<double>(x);
  m.mean_us = sum / static_cast<double>(all.size()) / 1000.0;
  m.p50_us = QuantileUs(all, 0.50);
  m.p99_us = QuantileUs(all, 0.99);
  return m;
}

// redis-benchmark's CSV: "test","rps","avg_latency_ms","min_latency_ms",
// "p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms".
bool RunRedisBenchmark(int clients, int calls, Measured* out) {
  const std::string sha = LimiterScriptNamed("sliding_log").sha1;
  const std::string cmd = "redis-benchmark -h " + g_server->host() + " -p " + std::to_string(g_server->port()) +
                          " -c " + std::to_string(clients) + " -n " + std::to_string(calls) +
                          " -r 1000000000 --csv EVALSHA " + sha + " 1 rl:bench:cmp:rb redis " +
                          std::to_string(kLimit.window_ms()) + " " + std::to_string(kLimit.requests) +
                          " m:__rand_int__ " + std::to_string(2 * kLimit.window_ms()) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return false;
  char line[1024];
  bool ok = false;
  while (std::fgets(line, sizeof(line), p) != nullptr) {
    if (std::strncmp(line, "\"EVALSHA", 8) != 0) continue;
    std::vector<double> f;
    for (char* tok = std::strtok(line, ","); tok != nullptr; tok = std::strtok(nullptr, ",")) {
      if (*tok == '"') ++tok;
      f.push_back(std::atof(tok));
    }
    if (f.size() >= 8) {
      *out = {f[1], f[2] * 1000, f[4] * 1000, f[6] * 1000};
      ok = true;
    }
  }
  const int rc = pclose(p);
  return ok && rc == 0;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

void Compare(int reps, int calls) {
  LimiterConfig lua_redis_time;
  lua_redis_time.time_source = LimiterTimeSource::kRedisTime;
  std::printf(
      "\n== lua_redis_time limiter vs redis-benchmark EVALSHA, same script, same server (%d rounds, %d calls at 1 "
      "client, %d at 50)\n",
      reps, calls, calls * 5);
  std::printf("%-6s %-8s %-16s %10s %9s %9s %9s\n", "round", "clients", "client", "calls/s", "mean_us", "p50_us",
              "p99_us");
  for (int clients : {1, 50}) {
    std::vector<Measured> ours, rb;
    const int n = clients == 1 ? calls : calls * 5;
    for (int r = 0; r < reps; ++r) {
      // Back to back, alternating which goes first, so both see the same
      // background load; the paired ratios below use that.
      Measured o, b;
      bool rb_ok;
      if (r % 2 == 0) {
        o = MeasureLimiter(lua_redis_time, clients, n);
        rb_ok = RunRedisBenchmark(clients, n, &b);
      } else {
        rb_ok = RunRedisBenchmark(clients, n, &b);
        o = MeasureLimiter(lua_redis_time, clients, n);
      }
      if (!rb_ok) {
        std::printf("redis-benchmark failed (is it on PATH?)\n");
        return;
      }
      std::printf("%-6d %-8d %-16s %10.0f %9.1f %9.1f %9.1f\n", r, clients, "limiter", o.rps, o.mean_us, o.p50_us,
                  o.p99_us);
      std::printf("%-6d %-8d %-16s %10.0f %9.1f %9.1f %9.1f\n", r, clients, "redis-benchmark", b.rps, b.mean_us,
                  b.p50_us, b.p99_us);
      ours.push_back(o);
      rb.push_back(b);
    }
    auto median_of = [](const std::vector<Measured>& v, double Measured::*field) {
      std::vector<double> x;
      for (const Measured& m : v) x.push_back(m.*field);
      return Median(x);
    };
    auto paired = [&](double Measured::*field) {
      std::vector<double> x;
      for (size_t i = 0; i < ours.size(); ++i) x.push_back(ours[i].*field / rb[i].*field);
      return Median(x);
    };
    for (const auto& [name, v] :
         {std::pair<const char*, const std::vector<Measured>*>{"limiter", &ours}, {"redis-benchmark", &rb}}) {
      std::printf("median %-8d %-16s %10.0f %9.1f %9.1f %9.1f\n", clients, name, median_of(*v, &Measured::rps),
                  median_of(*v, &Measured::mean_us), median_of(*v, &Measured::p50_us),
                  median_of(*v, &Measured::p99_us));
    }
    // Every ratio is limiter / redis-benchmark: > 1 means more calls/s or a
    // longer latency than the baseline. "ratio of medians" compares the
    // median rows; "median paired ratio" takes each round's back-to-back
    // ratio first, which cancels load that drifts between rounds.
    std::printf("ratio  %-8d of medians        %9.2fx %8.2fx %8.2fx %8.2fx\n", clients,
                median_of(ours, &Measured::rps) / median_of(rb, &Measured::rps),
                median_of(ours, &Measured::mean_us) / median_of(rb, &Measured::mean_us),
                median_of(ours, &Measured::p50_us) / median_of(rb, &Measured::p50_us),
                median_of(ours, &Measured::p99_us) / median_of(rb, &Measured::p99_us));
    std::printf("ratio  %-8d median paired     %9.2fx %8.2fx %8.2fx %8.2fx\n", clients, paired(&Measured::rps),
                paired(&Measured::mean_us), paired(&Measured::p50_us), paired(&Measured::p99_us));
  }
}

// Consumes --name=value from argv (Google Benchmark rejects unknown flags).
int TakeIntFlag(int* argc, char** argv, const char* name, int fallback) {
  const std::string prefix = std::string("--") + name + "=";
  int value = fallback;
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      value = std::atoi(argv[i] + prefix.size());
    } else {
      argv[out++] = argv[i];
    }
  }
  *argc = out;
  return value;
}

}  // namespace
}  // namespace scaletwin::bench

int main(int argc, char** argv) {
  using namespace scaletwin;
  using namespace scaletwin::bench;
  const int compare_reps = TakeIntFlag(&argc, argv, "compare_reps", 10);
  const int compare_calls = TakeIntFlag(&argc, argv, "compare_calls", 5000);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;

  auto server = RedisServer::Start();
  if (!server.ok()) {
    std::fprintf(stderr, "real_limiter_bench: %s\n", server.status().ToString().c_str());
    return 1;
  }
  g_server = server->get();
  RedisPoolOptions options;
  options.endpoint = {g_server->host(), g_server->port(), 2 * kNanosPerSecond, 5 * kNanosPerSecond};
  options.size = kPoolSize;
  options.acquire_timeout = 5 * kNanosPerSecond;
  auto pool = RedisConnectionPool::Create(options);
  if (!pool.ok()) {
    std::fprintf(stderr, "real_limiter_bench: %s\n", pool.status().ToString().c_str());
    return 1;
  }
  g_pool = pool->get();
  {
    // Scripts loaded up front, so no measured call pays a NOSCRIPT reload.
    auto admin = RedisClient::Connect(g_server->host(), g_server->port());
    if (!admin.ok() || !(*admin)->Pipeline(LimiterScriptLoadCommands()).ok()) {
      std::fprintf(stderr, "real_limiter_bench: SCRIPT LOAD failed\n");
      return 1;
    }
  }
  std::printf("redis-server on 127.0.0.1:%d (pid %d), pool size %d\n", g_server->port(), (int)g_server->pid(),
              kPoolSize);

  for (const Variant& v : Variants()) {
    benchmark::RegisterBenchmark(("BM_Decide/" + v.name).c_str(), BM_Decide, v.config, "rl:bench:" + v.name)
        ->Threads(1)
        ->Threads(50)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();

  if (compare_reps > 0) Compare(compare_reps, compare_calls);
  return 0;
}
