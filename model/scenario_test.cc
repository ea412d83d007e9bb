#include "model/scenario.h"

#include <gtest/gtest.h>

#include <map>

namespace scaletwin {
namespace {

using nlohmann::json;

json Minimal() {
  return json::parse(R"({
    "version": 1, "name": "t", "duration": "60s",
    "traffic": { "rate": [ { "at": "0s", "qps": 100 } ] }
  })");
}

FileReader Files(std::map<std::string, std::string> files = {}) {
  return [files](const std::string& name) -> Result<std::string> {
    auto it = files.find(name);
    if (it == files.end()) return Status::NotFound("no such file: " + name);
    return it->second;
  };
}

// The loader's message for `doc`, which must be rejected.
std::string ErrorOf(const json& doc, const FileReader& files = Files()) {
  Result<Scenario> s = ParseScenario(doc, files);
  EXPECT_FALSE(s.ok()) << doc.dump();
  return s.ok() ? "" : s.status().message();
}

TEST(ParseScenario, MinimalScenarioGetsDocumentedDefaults) {
  Result<Scenario> s = ParseScenario(Minimal(), Files());
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->seed, 1u);
  EXPECT_EQ(s->warmup, 0);
  EXPECT_EQ(s->tenants.size(), 1u);
  EXPECT_EQ(s->tenants[0].id, "default");
  EXPECT_EQ(s->pods.replicas, 1);
  EXPECT_EQ(s->pods.workers, 1);
  EXPECT_EQ(s->pods.queue_limit, -1);
  EXPECT_EQ(s->ingress.policy, IngressPolicy::kRoundRobin);
  EXPECT_EQ(s->traffic.arrivals, ArrivalProcess::kPoisson);
  EXPECT_DOUBLE_EQ(s->traffic.mix[0], 1.0);
}

TEST(ParseScenario, TheIssueExampleParses) {
  json doc = json::parse(R"({
    "version": 1, "name": "mmc-check",
    "description": "One pod, 10 workers, Poisson arrivals, exponential service.",
    "seed": 42, "duration": "600s", "warmup": "60s",
    "tenants": [ { "id": "acme", "weight": 1 } ],
    "traffic": { "arrivals": "poisson",
      "rate": [ { "at": "0s", "qps": 900 }, { "at": "300s", "qps": 1800, "ramp": "30s" } ],
      "mix": { "redirect": 0.9, "create": 0.1 } },
    "ingress": { "policy": "round_robin" },
    "pods": { "replicas": 1, "workers": 10, "queue": "unbounded",
              "service_time": { "dist": "exponential", "mean": "10ms" } },
    "expect": [ { "metric": "summary.latency_ms.p99", "max": 250 } ]
  })");
  Result<Scenario> s = ParseScenario(doc, Files());
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->duration, 600 * kNanosPerSecond);
  EXPECT_EQ(s->pods.workers, 10);
  EXPECT_DOUBLE_EQ(s->traffic.profile.RateAt(315), 1350);
  ASSERT_EQ(s->expect.size(), 1u);
  EXPECT_EQ(*s->expect[0].max, 250);
}

TEST(ParseScenario, UnknownKeysAreErrorsWithPathAndHint) {
  json doc = Minimal();
  doc["pods"] = {{"workrs", 4}};
  EXPECT_NE(ErrorOf(doc).find("/pods/workrs: unknown key (did you mean \"workers\"?)"), std::string::npos);
  doc = Minimal();
  doc["hpa_typo"] = 1;
  EXPECT_NE(ErrorOf(doc).find("/hpa_typo: unknown key"), std::string::npos);
}

TEST(ParseScenario, WrongTypesNameThePathTheExpectationAndTheFinding) {
  json doc = Minimal();
  doc["pods"] = {{"service_time", {{"dist", "exponential"}, {"mean", 10}}}};
  const std::string e = ErrorOf(doc);
  EXPECT_NE(e.find("/pods/service_time/mean: expected a duration string"), std::string::npos) << e;
  EXPECT_NE(e.find("found number 10"), std::string::npos) << e;
}

TEST(ParseScenario, NegativeAndAbsurdValuesAreRejected) {
  json doc = Minimal();
  doc["pods"] = {{"workers", -3}, {"replicas", 1e12}, {"queue", -1}};
  const std::string e = ErrorOf(doc);
  EXPECT_NE(e.find("/pods/workers"), std::string::npos);
  EXPECT_NE(e.find("/pods/replicas"), std::string::npos);
  EXPECT_NE(e.find("/pods/queue"), std::string::npos);
  doc = Minimal();
  doc["duration"] = "-5s";
  EXPECT_NE(ErrorOf(doc).find("/duration"), std::string::npos);
  doc = Minimal();
  doc["traffic"]["rate"][0]["qps"] = -1;
  EXPECT_NE(ErrorOf(doc).find("/traffic/rate/0/qps"), std::string::npos);
}

TEST(ParseScenario, AllErrorsAreReportedInOnePass) {
  json doc = Minimal();
  doc["seed"] = "x";
  doc["warmup"] = "2h";
  doc["pods"] = {{"workers", 0}};
  const std::string e = ErrorOf(doc);
  EXPECT_NE(e.find("3 errors"), std::string::npos) << e;
}

TEST(ParseScenario, VersionIsChecked) {
  json doc = Minimal();
  doc["version"] = 2;
  EXPECT_NE(ErrorOf(doc).find("/version: expected version 1"), std::string::npos);
  doc.erase("version");
  EXPECT_NE(ErrorOf(doc).find("/version: required"), std::string::npos);
}

TEST(ParseScenario, NotAnObjectAtTheTopIsAnError) {
  EXPECT_NE(ErrorOf(json::array()).find("/: expected an object"), std::string::npos);
  EXPECT_NE(ErrorOf(json(nullptr)).find("expected an object"), std::string::npos);
}

TEST(ParseScenario, TrafficNeedsExactlyOneShape) {
  json doc = Minimal();
  doc["traffic"]["spike"] = {{"base_qps", 1}, {"peak_qps", 2}, {"at", "1s"}, {"hold", "1s"}};
  EXPECT_NE(ErrorOf(doc).find("exactly one of"), std::string::npos);
  doc["traffic"].erase("spike");
  doc["traffic"].erase("rate");
  EXPECT_NE(ErrorOf(doc).find("exactly one of"), std::string::npos);
}

TEST(ParseScenario, RatePointsMustBeOrderedAndNotOverlapRamps) {
  json doc = Minimal();
  doc["traffic"]["rate"] = json::parse(R"([{"at":"0s","qps":1},{"at":"10s","qps":2,"ramp":"20s"},{"at":"20s","qps":3}])");
  EXPECT_NE(ErrorOf(doc).find("/traffic/rate/2/at"), std::string::npos);
}

TEST(ParseScenario, TraceFilesAreReadThroughTheReaderAndValidated) {
  json doc = Minimal();
  doc["tenants"] = json::parse(R"([{"id":"acme"},{"id":"globex"}])");
  doc["traffic"] = {{"arrivals", "trace"}, {"trace_file", "t.csv"}};
  Result<Scenario> s = ParseScenario(doc, Files({{"t.csv", "time,tenant,route\n0.5 acme\n1.25,globex,create\n# c\n2\n"}}));
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->traffic.trace.size(), 3u);
  EXPECT_EQ(s->traffic.trace[1].time, 1'250'000'000);
  EXPECT_EQ(s->traffic.trace[1].tenant, 1);
  EXPECT_EQ(s->traffic.trace[1].route, static_cast<int>(Route::kCreate));
  EXPECT_EQ(s->traffic.trace[2].tenant, -1);

  EXPECT_NE(ErrorOf(doc, Files()).find("/traffic/trace_file: no such file: t.csv"), std::string::npos);
  EXPECT_NE(ErrorOf(doc, Files({{"t.csv", "1\n0.5\n"}})).find("line 2: times must not decrease"), std::string::npos);
  EXPECT_NE(ErrorOf(doc, Files({{"t.csv", "1 nobody\n"}})).find("unknown tenant \"nobody\""), std::string::npos);
  EXPECT_NE(ErrorOf(doc, Files({{"t.csv", "abc\n"}})).find("holds no arrivals"), std::string::npos);
  EXPECT_NE(ErrorOf(doc, Files({{"t.csv", "1\nxyz\n"}})).find("line 2"), std::string::npos);
}

TEST(ParseScenario, DistributionsOfEveryKind) {
  auto with = [](json dist) {
    json doc = Minimal();
    doc["pods"] = {{"service_time", dist}};
    return doc;
  };
  EXPECT_TRUE(ParseScenario(with({{"dist", "constant"}, {"value", "5ms"}}), Files()).ok());
  EXPECT_TRUE(ParseScenario(with({{"dist", "uniform"}, {"min", "1ms"}, {"max", "3ms"}}), Files()).ok());
  EXPECT_TRUE(ParseScenario(with({{"dist", "lognormal"}, {"p50", "5ms"}, {"p99", "50ms"}}), Files()).ok());
  EXPECT_TRUE(ParseScenario(with({{"dist", "empirical"}, {"samples", {"1ms", "2ms"}}}), Files()).ok());
  Result<Scenario> f = ParseScenario(with({{"dist", "empirical"}, {"file", "s.txt"}}), Files({{"s.txt", "1.5\n2ms\n"}}));
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_NEAR(f->pods.service_time.MeanSeconds(), 0.00175, 1e-12);

  EXPECT_NE(ErrorOf(with({{"dist", "lognormal"}, {"p50", "5ms"}, {"p99", "1ms"}})).find("p99 > p50"), std::string::npos);
  EXPECT_NE(ErrorOf(with({{"dist", "uniform"}, {"min", "5ms"}, {"max", "1ms"}})).find("max >= min"), std::string::npos);
  EXPECT_NE(ErrorOf(with({{"dist", "gamma"}})).find("/pods/service_time/dist: expected one of"), std::string::npos);
  EXPECT_NE(ErrorOf(with({{"dist", "empirical"}, {"samples", json::array()}})).find("non-empty"), std::string::npos);
  EXPECT_NE(ErrorOf(with({{"dist", "empirical"}, {"file", "nope"}})).find("no such file"), std::string::npos);
}

TEST(ParseScenario, DuplicateTenantsAndBadIdsAreRejected) {
  json doc = Minimal();
  doc["tenants"] = json::parse(R"([{"id":"a"},{"id":"a"}])");
  EXPECT_NE(ErrorOf(doc).find("duplicate tenant id"), std::string::npos);
  doc["tenants"] = json::parse(R"([{"id":"a b"}])");
  EXPECT_NE(ErrorOf(doc).find("/tenants/0/id"), std::string::npos);
}

TEST(ApplyOverride, SetsNestedFieldsReadingJsonOrString) {
  json doc = Minimal();
  ASSERT_TRUE(ApplyOverride(doc, "pods.workers", "12").ok());
  ASSERT_TRUE(ApplyOverride(doc, "duration", "90s").ok());
  ASSERT_TRUE(ApplyOverride(doc, "traffic.rate.0.qps", "250").ok());
  EXPECT_EQ(doc["pods"]["workers"], 12);
  EXPECT_EQ(doc["duration"], "90s");
  EXPECT_EQ(doc["traffic"]["rate"][0]["qps"], 250);
  Result<Scenario> s = ParseScenario(doc, Files());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->pods.workers, 12);
}

TEST(ApplyOverride, BadPathsAreErrors) {
  json doc = Minimal();
  EXPECT_FALSE(ApplyOverride(doc, "traffic.rate.5.qps", "1").ok());
  EXPECT_FALSE(ApplyOverride(doc, "duration.x", "1").ok());
  EXPECT_FALSE(ApplyOverride(doc, "", "1").ok());
  EXPECT_FALSE(ApplyOverride(doc, "pods..workers", "1").ok());
}

}  // namespace
}  // namespace scaletwin

namespace scaletwin {
namespace {

TEST(ParseScenario, InvalidUtf8FromOverridesIsAnErrorNotACrash) {
  nlohmann::json doc = nlohmann::json::parse(R"({"version": 1, "name": "t", "duration": "60s",
    "traffic": { "rate": [ { "at": "0s", "qps": 100 } ] }})");
  ASSERT_TRUE(ApplyOverride(doc, "description", "caf\xC3").ok());
  Result<Scenario> s = ParseScenario(doc, [](const std::string&) -> Result<std::string> { return std::string(); });
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("/description: expected a UTF-8 string"), std::string::npos);
  ASSERT_TRUE(ApplyOverride(doc, "description", "caf\xC3\xA9 ok").ok());
  EXPECT_TRUE(ParseScenario(doc, [](const std::string&) -> Result<std::string> { return std::string(); }).ok());
}

}  // namespace
}  // namespace scaletwin

namespace scaletwin {
namespace {

const FileReader kFiles = [](const std::string& name) -> Result<std::string> {
  if (name == "t.csv") return std::string("# replay of 2026-11-01\ntime,tenant\n0.5 default\n");
  if (name == "slow.txt") return std::string("5ms\n2h\n");
  return Status::NotFound("no such file: " + name);
};

nlohmann::json Doc(const char* extra_traffic_or_pods) {
  nlohmann::json doc = nlohmann::json::parse(R"({"version": 1, "name": "t", "duration": "60s",
    "traffic": { "rate": [ { "at": "0s", "qps": 100 } ] }})");
  doc.update(nlohmann::json::parse(extra_traffic_or_pods));
  return doc;
}

TEST(ParseScenario, IntegralFloatsAreIntegers) {
  Result<Scenario> s = ParseScenario(Doc(R"({"seed": 42.0, "pods": {"queue": 64.0, "workers": 4.0}})"), kFiles);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->seed, 42u);
  EXPECT_EQ(s->pods.queue_limit, 64);
  EXPECT_FALSE(ParseScenario(Doc(R"({"pods": {"queue": 6.5}})"), kFiles).ok());
}

TEST(ParseScenario, TracesMayNameTheImplicitTenantAndHaveAHeaderAfterComments) {
  Result<Scenario> s =
      ParseScenario(Doc(R"({"traffic": {"arrivals": "trace", "trace_file": "t.csv"}})"), kFiles);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->traffic.trace.size(), 1u);
  EXPECT_EQ(s->traffic.trace[0].tenant, 0);
}

TEST(ParseScenario, SampleFilesObeyTheSameBoundAsInlineSamples) {
  Result<Scenario> s = ParseScenario(Doc(R"({"pods": {"service_time": {"dist": "empirical", "file": "slow.txt"}}})"), kFiles);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("line 2: sample 2h is longer than 1h"), std::string::npos) << s.status().message();
}

}  // namespace
}  // namespace scaletwin

namespace scaletwin {
namespace {

TEST(ParseScenario, DatabasePoolsAndRoutesSections) {
  nlohmann::json doc = nlohmann::json::parse(R"({"version": 1, "name": "t", "duration": "60s",
    "traffic": { "rate": [ { "at": "0s", "qps": 100 } ] },
    "database": { "max_connections": 50, "superuser_reserved_connections": 5,
                  "query_time": { "create": { "dist": "constant", "value": "3ms" } } },
    "pools": { "postgres": { "size": 4, "min_idle": 2, "acquire_timeout": "250ms", "connect_time": "6ms" } },
    "routes": { "redirect": { "db_queries": 2, "cache_hit_ratio": 0.5 } }})");
  Result<Scenario> s = ParseScenario(doc, kFiles);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_TRUE(s->database.has_value());
  EXPECT_EQ(s->database->usable_connections(), 45);
  EXPECT_EQ(s->database->max_active_queries, 8);
  EXPECT_DOUBLE_EQ(s->database->query_time[static_cast<int>(Route::kCreate)].MeanSeconds(), 0.003);
  EXPECT_EQ(s->postgres_pool.size, 4);
  EXPECT_EQ(s->postgres_pool.acquire_timeout, 250 * kNanosPerMilli);
  EXPECT_EQ(s->routes[0].db_queries, 2);
  EXPECT_DOUBLE_EQ(s->routes[0].cache_hit_ratio, 0.5);
  EXPECT_EQ(s->routes[1].db_queries, 1) << "defaults for routes not named";
}

TEST(ParseScenario, DatabaseSectionErrors) {
  nlohmann::json doc = nlohmann::json::parse(R"({"version": 1, "name": "t", "duration": "60s",
    "traffic": { "rate": [ { "at": "0s", "qps": 100 } ] },
    "database": { "max_connections": 3, "superuser_reserved_connections": 3 },
    "pools": { "postgres": { "size": 2, "min_idle": 5, "sise": 1 } },
    "routes": { "redirect": { "cache_hit_ratio": 1.5 } }})");
  Result<Scenario> s = ParseScenario(doc, kFiles);
  ASSERT_FALSE(s.ok());
  const std::string m = s.status().message();
  EXPECT_NE(m.find("/database/superuser_reserved_connections: must be below max_connections"), std::string::npos) << m;
  EXPECT_NE(m.find("/pools/postgres/min_idle: must not exceed size"), std::string::npos) << m;
  EXPECT_NE(m.find("/pools/postgres/sise: unknown key (did you mean \"size\"?)"), std::string::npos) << m;
  EXPECT_NE(m.find("/routes/redirect/cache_hit_ratio"), std::string::npos) << m;
  doc.erase("database");
  s = ParseScenario(doc, kFiles);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("only matters with a \"database\" section"), std::string::npos);
}

}  // namespace
}  // namespace scaletwin
