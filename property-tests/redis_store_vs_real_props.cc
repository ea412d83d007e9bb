// RedisStore against a real redis-server: random sequences of sorted-set,
// string and expiry commands (plus MULTI/EXEC blocks and time advances) are
// sent to both, and every reply must agree.
//
// The real server's clock runs in real time, so the test runs the model at the
// real clock (CLOCK_REALTIME, the server's clock on this machine) and makes
// expiry outcomes unambiguous with a time grid of kSlotMs slots:
// - every round trip starts and ends inside the middle of a slot
//   ([kWindowLo, kWindowHi] ms into it); between round trips the test sleeps to
//   the next window when it has drifted out, and a "time advance" step sleeps
//   whole slots;
// - every expire time falls near a slot boundary: absolute ones (PEXPIREAT,
//   SET PXAT) are slot boundaries, relative ones (PEXPIRE, SET PX) are
//   m * kSlotMs + kSlotMs / 2 ms from a command run mid-slot.
// So no command ever runs within 4 ms of an expire time, and the model and the
// server agree on which keys exist. PTTL/TTL may still differ by the round-trip
// time: PTTL must lie in [model - round trip - 2 ms, model + 2 ms], TTL
// within 1 s. A round trip that overruns its window (a scheduler stall) makes
// RapidCheck discard the case rather than report a false mismatch.
//
// The server is started once for the binary on a free loopback port in a temp
// directory and stopped at exit (and killed with the process if it crashes).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "model/redis_store.h"
#include "testsupport/redis_client.h"
#include "testsupport/redis_server.h"

namespace scaletwin {
namespace {

constexpr int64_t kSlotMs = 20;
constexpr int64_t kWindowLo = 6;
constexpr int64_t kWindowHi = 14;

RedisServer* g_server = nullptr;

struct Stats {
  int64_t cases = 0;
  int64_t commands = 0;
  int64_t multi_blocks = 0;
  int64_t advances = 0;
  int64_t ttl_checks = 0;
  int64_t expired_seen = 0;
  int64_t errors_compared = 0;
};
Stats g_stats;

class RealRedisEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    auto server = RedisServer::Start();
    if (!server.ok()) {
      std::fprintf(stderr, "redis_store_vs_real: %s\n", server.status().ToString().c_str());
      return;
    }
    server_ = std::move(*server);
    g_server = server_.get();
  }
  void TearDown() override {
    std::fprintf(stderr,
                 "redis_store_vs_real: %lld sequences, %lld commands agreed (%lld MULTI blocks, %lld time advances, "
                 "%lld TTL checks, %lld error replies, %lld GET/ZCARD answering nil or 0)\n",
                 static_cast<long long>(g_stats.cases), static_cast<long long>(g_stats.commands),
                 static_cast<long long>(g_stats.multi_blocks), static_cast<long long>(g_stats.advances),
                 static_cast<long long>(g_stats.ttl_checks), static_cast<long long>(g_stats.errors_compared),
                 static_cast<long long>(g_stats.expired_seen));
    g_server = nullptr;
    server_.reset();  // SIGTERM, reap, remove the directory
  }

 private:
  std::unique_ptr<RedisServer> server_;
};

const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new RealRedisEnvironment);

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
int64_t SlotOf(int64_t ms) { return ms / kSlotMs; }
int64_t PhaseOf(int64_t ms) { return ms % kSlotMs; }

void SleepUntilMs(int64_t target_ms) {
  while (true) {
    const int64_t now_ms = NowNs() / kNanosPerMilli;
    if (now_ms >= target_ms) return;
    std::this_thread::sleep_for(std::chrono::microseconds((target_ms - now_ms) * 1000 - 200 > 0
                                                              ? (target_ms - now_ms) * 1000 - 200
                                                              : 50));
  }
}

// Returns once the clock is inside a slot's safe window with room for a round trip.
void AlignToWindow() {
  const int64_t ms = NowNs() / kNanosPerMilli;
  if (PhaseOf(ms) >= kWindowLo && PhaseOf(ms) < kWindowHi - 2) return;
  const int64_t slot = PhaseOf(ms) < kWindowLo ? SlotOf(ms) : SlotOf(ms) + 1;
  SleepUntilMs(slot * kSlotMs + kWindowLo);
}

// ---- command generation ------------------------------------------------------
// Time-dependent arguments are placeholders resolved when the command is sent:
// "@at:N" = start of the current slot + N slots (ms); "@sat:N" = whole Unix
// seconds now + N.

rc::Gen<std::string> Key() { return rc::gen::element<std::string>("k1", "k2", "k3"); }
rc::Gen<std::string> Member() { return rc::gen::element<std::string>("a", "b", "c", "d", "e", ""); }
rc::Gen<std::string> Score() {
  return rc::gen::weightedOneOf<std::string>(
      {{12, rc::gen::map(rc::gen::inRange(-3, 11), [](int i) { return std::to_string(i); })},
       {3, rc::gen::element<std::string>("1.5", "0.1", "-2.25", "1e3", "inf", "-inf", "+inf")},
       {1, rc::gen::element<std::string>("nan", "x", "", "1e400", "0x10")}});
}
rc::Gen<std::string> Bound() {
  return rc::gen::weightedOneOf<std::string>(
      {{8, rc::gen::map(rc::gen::inRange(-3, 11), [](int i) { return std::to_string(i); })},
       {4, rc::gen::map(rc::gen::inRange(-3, 11), [](int i) { return "(" + std::to_string(i); })},
       {4, rc::gen::element<std::string>("-inf", "+inf", "(-inf", "inf", "1.5", "(0.1")},
       {1, rc::gen::element<std::string>("x", "(", "nan")}});
}
// A relative TTL that lands an expiry on a slot boundary: m slots and a half.
rc::Gen<std::string> RelTtlMs() {
  return rc::gen::map(rc::gen::inRange(0, 6), [](int m) { return std::to_string(m * kSlotMs + kSlotMs / 2); });
}
rc::Gen<std::string> AbsMs() {
  return rc::gen::map(rc::gen::inRange(-2, 7), [](int n) { return "@at:" + std::to_string(n); });
}
rc::Gen<std::string> SmallInt() {
  return rc::gen::weightedOneOf<std::string>(
      {{6, rc::gen::map(rc::gen::inRange(-5, 6), [](int i) { return std::to_string(i); })},
       {1, rc::gen::element<std::string>("9223372036854775807", "-9223372036854775808", "x", "01", "+1")}});
}

rc::Gen<Command> ZaddCmd() {
  return rc::gen::exec([] {
    Command c{"ZADD", *Key()};
    for (const char* opt : {"NX", "XX", "GT", "LT", "CH", "INCR"}) {
      if (*rc::gen::inRange(0, 6) == 0) c.args.push_back(opt);
    }
    const int pairs = *rc::gen::weightedElement<int>({{8, 1}, {4, 2}, {2, 3}, {1, 0}});
    for (int i = 0; i < pairs; ++i) {
      c.args.push_back(*Score());
      c.args.push_back(*Member());
    }
    return c;
  });
}

rc::Gen<Command> ZrangeCmd() {
  return rc::gen::exec([] {
    const int form = *rc::gen::inRange(0, 3);
    Command c{"ZRANGE", *Key()};
    if (form == 0) {  // by rank
      c.args.push_back(std::to_string(*rc::gen::inRange(-4, 5)));
      c.args.push_back(std::to_string(*rc::gen::inRange(-4, 5)));
      if (*rc::gen::arbitrary<bool>()) c.args.push_back("REV");
    } else {
      const bool rev = *rc::gen::arbitrary<bool>();
      c.args.push_back(*Bound());
      c.args.push_back(*Bound());
      if (form == 2) c.args[0] = "ZRANGEBYSCORE";
      else c.args.push_back("BYSCORE");
      if (rev && form == 1) c.args.push_back("REV");
      if (*rc::gen::arbitrary<bool>()) {
        c.args.push_back("LIMIT");
        c.args.push_back(std::to_string(*rc::gen::inRange(-1, 4)));
        c.args.push_back(std::to_string(*rc::gen::inRange(-2, 4)));
      }
    }
    if (*rc::gen::arbitrary<bool>()) c.args.push_back("WITHSCORES");
    return c;
  });
}

rc::Gen<Command> SetCmd() {
  return rc::gen::exec([] {
    Command c{"SET", *Key(), *rc::gen::element<std::string>("1", "v", "-3", "01", "9223372036854775806", "")};
    const int cond = *rc::gen::inRange(0, 5);
    if (cond == 0) c.args.push_back("NX");
    if (cond == 1) c.args.push_back("XX");
    if (*rc::gen::inRange(0, 4) == 0) c.args.push_back("GET");
    switch (*rc::gen::inRange(0, 6)) {
      case 0: c.args.insert(c.args.end(), {"PX", *RelTtlMs()}); break;
      case 1: c.args.insert(c.args.end(), {"EX", "100"}); break;
      case 2: c.args.push_back("KEEPTTL"); break;
      case 3: c.args.insert(c.args.end(), {"PXAT", *AbsMs()}); break;
      default: break;
    }
    return c;
  });
}

rc::Gen<Command> ExpireCmd() {
  return rc::gen::exec([] {
    Command c;
    switch (*rc::gen::inRange(0, 4)) {
      case 0: c = Command{"PEXPIRE", *Key(), *RelTtlMs()}; break;
      case 1: c = Command{"PEXPIREAT", *Key(), *AbsMs()}; break;
      case 2: c = Command{"EXPIRE", *Key(), *rc::gen::element<std::string>("100", "0", "-1")}; break;
      default: c = Command{"EXPIREAT", *Key(), *rc::gen::element<std::string>("@sat:-1", "@sat:100")}; break;
    }
    const int opt = *rc::gen::inRange(0, 8);
    if (opt < 4) c.args.push_back(std::vector<std::string>{"NX", "XX", "GT", "LT"}[opt]);
    return c;
  });
}

rc::Gen<Command> AnyCommand() {
  return rc::gen::weightedOneOf<Command>({
      {10, ZaddCmd()},
      {3, rc::gen::exec([] {
         Command c{"ZREM", *Key()};
         for (int i = *rc::gen::inRange(1, 4); i > 0; --i) c.args.push_back(*Member());
         return c;
       })},
      {3, rc::gen::exec([] { return Command{"ZREMRANGEBYSCORE", *Key(), *Bound(), *Bound()}; })},
      {3, rc::gen::exec([] { return Command{"ZCARD", *Key()}; })},
      {3, rc::gen::exec([] { return Command{"ZCOUNT", *Key(), *Bound(), *Bound()}; })},
      {3, rc::gen::exec([] { return Command{"ZSCORE", *Key(), *Member()}; })},
      {5, ZrangeCmd()},
      {6, SetCmd()},
      {3, rc::gen::exec([] { return Command{"GET", *Key()}; })},
      {2, rc::gen::exec([] {
         Command c{*rc::gen::element<std::string>("DEL", "EXISTS"), *Key()};
         if (*rc::gen::arbitrary<bool>()) c.args.push_back(*Key());
         return c;
       })},
      {3, rc::gen::exec([] { return Command{"INCR", *Key()}; })},
      {2, rc::gen::exec([] { return Command{*rc::gen::element<std::string>("INCRBY", "DECRBY"), *Key(), *SmallInt()}; })},
      {9, ExpireCmd()},
      {8, rc::gen::exec([] { return Command{*rc::gen::element<std::string>("PTTL", "TTL"), *Key()}; })},
      {2, rc::gen::exec([] { return Command{"PERSIST", *Key()}; })},
      {2, rc::gen::exec([] { return Command{"TYPE", *Key()}; })},
      {1, rc::gen::element(Command{"ZCARD"}, Command{"GET", "k1", "k2"}, Command{"NOSUCH", "k1"})},
  });
}

// ---- execution -----------------------------------------------------------------

Command Resolve(const Command& c, int64_t now_ms) {
  Command out = c;
  for (std::string& a : out.args) {
    if (a.rfind("@at:", 0) == 0) {
      a = std::to_string((SlotOf(now_ms) + std::stoll(a.substr(4))) * kSlotMs);
    } else if (a.rfind("@sat:", 0) == 0) {
      a = std::to_string(now_ms / 1000 + std::stoll(a.substr(5)));
    }
  }
  return out;
}

// Whether the model's reply to `c` is what the server said, allowing TTLs to
// differ by the round trip.
bool Agree(const Command& c, const Reply& model, const Reply& real, int64_t rtt_ms) {
  const std::string name = c.Name();
  if ((name == "PTTL" || name == "TTL") && model.kind() == Reply::Kind::kInteger &&
      real.kind() == Reply::Kind::kInteger && model.integer() >= 0 && real.integer() >= 0) {
    ++g_stats.ttl_checks;
    if (name == "PTTL") return real.integer() >= model.integer() - rtt_ms - 2 && real.integer() <= model.integer() + 2;
    return real.integer() >= model.integer() - 1 && real.integer() <= model.integer() + 1;
  }
  return model == real;
}

bool AgreeExec(const std::vector<Command>& queued, const Reply& model, const Reply& real, int64_t rtt_ms) {
  if (model.kind() != Reply::Kind::kArray || real.kind() != Reply::Kind::kArray ||
      model.elements().size() != queued.size() || real.elements().size() != queued.size()) {
    return model == real;
  }
  for (size_t i = 0; i < queued.size(); ++i) {
    if (!Agree(queued[i], model.elements()[i], real.elements()[i], rtt_ms)) return false;
  }
  return true;
}

struct Harness {
  RedisClient& real;
  RedisStore model;
  RedisSession session;
  std::vector<std::string> transcript;

  // One round trip to both; returns the two replies. Discards the case if the
  // real command may have run outside the safe window.
  std::pair<Reply, Reply> RoundTrip(const Command& templ, int64_t* rtt_ms) {
    AlignToWindow();
    const int64_t before = NowNs();
    const Command c = Resolve(templ, before / kNanosPerMilli);
    Result<Reply> real_reply = real.Run(c);
    const int64_t after = NowNs();
    RC_ASSERT(real_reply.ok());
    const int64_t b_ms = before / kNanosPerMilli, a_ms = after / kNanosPerMilli;
    if (SlotOf(a_ms) != SlotOf(b_ms) || PhaseOf(a_ms) > kWindowHi) {
      RC_DISCARD("round trip overran its time window (scheduler stall)");
    }
    *rtt_ms = (after - before + kNanosPerMilli - 1) / kNanosPerMilli;
    Reply model_reply = session.Execute(model, c, before);
    transcript.push_back(c.ToString() + "  -> real " + real_reply->ToString() + " | model " + model_reply.ToString());
    return {model_reply, *real_reply};
  }

  void Check(const Command& c, const std::pair<Reply, Reply>& r, bool ok) {
    if (!ok) {
      std::string log;
      for (const std::string& line : transcript) log += "  " + line + "\n";
      RC_FAIL("model and redis-server disagree on " + c.ToString() + ": model " + r.first.ToString() +
              ", real " + r.second.ToString() + "\ntranscript:\n" + log);
    }
    ++g_stats.commands;
    if (r.second.is_error()) ++g_stats.errors_compared;
  }
};

RC_GTEST_PROP(RedisStoreVsReal, RandomCommandSequencesGetTheSameReplies, ()) {
  // No server is a failure, not a skip: CI installs redis-server and these tests must run.
  RC_ASSERT(g_server != nullptr);
  static std::unique_ptr<RedisClient> client;
  if (!client) {
    auto c = RedisClient::Connect(g_server->host(), g_server->port());
    RC_ASSERT(c.ok());
    client = std::move(*c);
  }
  // A case discarded or failed inside a MULTI block (a scheduler stall) leaves
  // the shared connection in MULTI: leave it first, or FLUSHALL and everything
  // after would only be QUEUED. "ERR DISCARD without MULTI" is the usual answer.
  RC_ASSERT(client->Run({"DISCARD"}).ok());
  RC_ASSERT(client->Run({"FLUSHALL"}).ok());
  Harness h{*client, RedisStore(RedisConfig{}), RedisSession(), {}};
  ++g_stats.cases;

  const int steps = *rc::gen::inRange(1, 40);
  for (int s = 0; s < steps; ++s) {
    const int kind = *rc::gen::weightedElement<int>({{16, 0}, {2, 1}, {3, 2}});
    if (kind == 2) {  // time advance: 1-3 slots
      const int slots = *rc::gen::inRange(1, 4);
      const int64_t ms = NowNs() / kNanosPerMilli;
      SleepUntilMs((SlotOf(ms) + slots) * kSlotMs + kWindowLo);
      h.transcript.push_back("(sleep " + std::to_string(slots) + " slots)");
      ++g_stats.advances;
      continue;
    }
    if (kind == 1) {  // MULTI block
      std::vector<Command> queued;
      for (int i = *rc::gen::inRange(1, 5); i > 0; --i) queued.push_back(*AnyCommand());
      const std::string end = *rc::gen::weightedElement<std::string>({{8, "EXEC"}, {1, "DISCARD"}});
      int64_t rtt = 0;
      auto r = h.RoundTrip({"MULTI"}, &rtt);
      h.Check({"MULTI"}, r, r.first == r.second);
      std::vector<Command> resolved;
      for (const Command& q : queued) {
        auto qr = h.RoundTrip(q, &rtt);
        h.Check(q, qr, qr.first == qr.second);
      }
      // EXEC resolves placeholders at its own time; queued commands were
      // resolved when queued, which is the same slot or earlier — absolute
      // times stay on slot boundaries either way.
      auto er = h.RoundTrip({end}, &rtt);
      h.Check({end}, er, end == "EXEC" ? AgreeExec(queued, er.first, er.second, rtt) : er.first == er.second);
      ++g_stats.multi_blocks;
      continue;
    }
    const Command c = *AnyCommand();
    int64_t rtt = 0;
    auto r = h.RoundTrip(c, &rtt);
    h.Check(c, r, Agree(c, r.first, r.second, rtt));
    if ((c.Name() == "GET" || c.Name() == "ZCARD") && (r.second.is_nil() || r.second == Reply::Integer(0))) {
      ++g_stats.expired_seen;
    }
  }
}

}  // namespace
}  // namespace scaletwin
