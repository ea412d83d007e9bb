// RapidCheck fuzzing of the scenario loader: generated documents — valid
// scenarios with random mutations (wrong types, absurd numbers, deleted and
// unknown keys, random strings where durations go) — must never crash the
// loader; every rejection is an InvalidArgument naming at least one JSON
// pointer, and every acceptance is a scenario the simulator can run.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "model/scenario.h"
#include "sim/run.h"

namespace scaletwin {
namespace {

using nlohmann::json;

json ValidDoc() {
  return json::parse(R"({
    "version": 1, "name": "fuzz", "seed": 3, "duration": "2s", "warmup": "100ms",
    "tenants": [ { "id": "a", "weight": 2 }, { "id": "b" } ],
    "traffic": { "arrivals": "poisson", "rate": [ { "at": "0s", "qps": 200 }, { "at": "1s", "qps": 400, "ramp": "200ms" } ],
                 "mix": { "redirect": 0.9, "create": 0.1 } },
    "ingress": { "policy": "random" },
    "pods": { "replicas": 2, "workers": 3, "queue": 5,
              "service_time": { "dist": "lognormal", "p50": "2ms", "p99": "20ms" } },
    "expect": [ { "metric": "summary.requests.offered", "min": 0 } ]
  })");
}

rc::Gen<json> ArbitraryScalar() {
  return rc::gen::oneOf(
      rc::gen::just(json(nullptr)), rc::gen::map(rc::gen::arbitrary<bool>(), [](bool b) { return json(b); }),
      rc::gen::map(rc::gen::arbitrary<int64_t>(), [](int64_t i) { return json(i); }),
      rc::gen::map(rc::gen::arbitrary<double>(), [](double d) { return std::isfinite(d) ? json(d) : json(0.5); }),
      rc::gen::map(rc::gen::arbitrary<std::string>(), [](std::string s) { return json(s); }),
      rc::gen::element(json("10ms"), json("-3s"), json("1e9h"), json("unbounded"), json("0"), json(""),
                       json("99999999999h"), json(-1), json(0), json(1e300), json::array(), json::object()));
}

// Every pointer into `doc`, so a mutation can target any node.
void CollectPointers(const json& doc, const std::string& at, std::vector<std::string>& out) {
  out.push_back(at);
  if (doc.is_object()) {
    for (const auto& [k, v] : doc.items()) CollectPointers(v, at + "/" + k, out);
  } else if (doc.is_array()) {
    for (size_t i = 0; i < doc.size(); ++i) CollectPointers(doc[i], at + "/" + std::to_string(i), out);
  }
}

const FileReader kNoFiles = [](const std::string& name) -> Result<std::string> {
  return Status::NotFound("no such file: " + name);
};

RC_GTEST_PROP(ScenarioLoader, MutatedDocumentsAreRejectedWithAPathOrRunCleanly, ()) {
  json doc = ValidDoc();
  const int mutations = *rc::gen::inRange(1, 4);
  for (int m = 0; m < mutations; ++m) {
    std::vector<std::string> pointers;
    CollectPointers(doc, "", pointers);
    const std::string target = *rc::gen::elementOf(pointers);
    const int kind = *rc::gen::inRange(0, 3);
    if (target.empty()) {
      if (kind == 0) doc = *ArbitraryScalar();
      continue;
    }
    json::json_pointer ptr(target);
    if (kind == 0) {
      doc[ptr] = *ArbitraryScalar();
    } else if (kind == 1) {
      json& parent = doc[ptr.parent_pointer()];
      if (parent.is_object()) parent.erase(ptr.back());
      else if (parent.is_array() && !parent.empty()) parent.erase(parent.size() - 1);
    } else if (doc[ptr].is_object()) {
      doc[ptr][*rc::gen::nonEmpty(rc::gen::string<std::string>())] = *ArbitraryScalar();
    }
  }
  Result<Scenario> s = ParseScenario(doc, kNoFiles);
  if (!s.ok()) {
    RC_ASSERT(s.status().code() == StatusCode::kInvalidArgument);
    // Each error line starts with a JSON pointer.
    RC_ASSERT(s.status().message().find("\n  /") != std::string::npos);
    return;
  }
  // Accepted: it must run, and conservation must hold.
  Scenario run = *s;
  run.duration = std::min<Nanos>(run.duration, 2 * kNanosPerSecond);
  run.warmup = std::min(run.warmup, run.duration / 2);
  run.drain = 0;
  const RunResult r = sim::Run(run);
  RC_ASSERT(r.summary.offered == r.summary.completed + r.summary.rejected + r.in_flight_at_end);
}

RC_GTEST_PROP(ScenarioLoader, RandomBytesNeverCrashTheJsonPathOrTheLoader, (const std::string& text)) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return;  // not JSON: the CLI reports the syntax error before the loader
  Result<Scenario> s = ParseScenario(doc, kNoFiles);
  RC_ASSERT(!s.ok());
}

RC_GTEST_PROP(ApplyOverride, NeverCrashesAndKeepsTheDocumentParseable, (const std::string& path, const std::string& value)) {
  json doc = ValidDoc();
  Status st = ApplyOverride(doc, path, value);
  if (st.ok()) {
    // The result is still a JSON document the loader can judge.
    (void)ParseScenario(doc, kNoFiles);
  } else {
    RC_ASSERT(st.message().find("--set") != std::string::npos);
  }
}

}  // namespace
}  // namespace scaletwin
