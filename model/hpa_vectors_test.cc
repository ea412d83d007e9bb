// Runs every public HPA test vector (../shared/reference/hpa-vectors.json,
// extracted from Kubernetes' own unit tests) through the model.
#include "model/hpa_vectors.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace scaletwin {
namespace {

nlohmann::json LoadReferenceVectors() {
  const char* root = std::getenv("SCALETWIN_SOURCE_DIR");
  const std::string path =
      std::string(root ? root : ".") + "/../shared/reference/hpa-vectors.json";
  std::ifstream in(path);
  if (!in) ADD_FAILURE() << "cannot open " << path << " (set SCALETWIN_SOURCE_DIR)";
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
}

TEST(HpaVectorsTest, EveryReferenceVectorAgrees) {
  const nlohmann::json vectors = LoadReferenceVectors();
  ASSERT_TRUE(vectors.is_array());
  ASSERT_GE(vectors.size(), 100u);
  Result<std::vector<VectorOutcome>> outcomes = RunHpaVectors(vectors);
  ASSERT_TRUE(outcomes.ok()) << outcomes.status().ToString();
  ASSERT_EQ(outcomes->size(), vectors.size());
  for (const VectorOutcome& o : *outcomes) {
    EXPECT_TRUE(o.agree) << o.id << ": expected " << o.expected.dump() << ", actual " << o.actual.dump();
  }
}

TEST(HpaVectorsTest, EveryKindIsCovered) {
  const nlohmann::json vectors = LoadReferenceVectors();
  ASSERT_TRUE(vectors.is_array());
  std::set<std::string> kinds;
  for (const auto& v : vectors) kinds.insert(v.value("kind", ""));
  EXPECT_EQ(kinds.size(), 10u);
}

TEST(HpaVectorsTest, AChangedExpectationDisagrees) {
  // The runner must be able to fail: bump every expected replica count by one.
  nlohmann::json vectors = LoadReferenceVectors();
  ASSERT_TRUE(vectors.is_array());
  size_t mutated = 0;
  for (auto& v : vectors) {
    for (const char* key : {"replicas", "desired_replicas", "limit", "ready_count"}) {
      if (v["expected"].contains(key)) {
        v["expected"][key] = v["expected"][key].get<int64_t>() + 1;
        ++mutated;
      }
    }
  }
  Result<std::vector<VectorOutcome>> outcomes = RunHpaVectors(vectors);
  ASSERT_TRUE(outcomes.ok()) << outcomes.status().ToString();
  size_t disagree = 0;
  for (const VectorOutcome& o : *outcomes) disagree += o.agree ? 0 : 1;
  EXPECT_EQ(disagree, mutated);
}

TEST(HpaVectorsTest, AnUnknownKeyIsAnErrorNamingItsPath) {
  nlohmann::json vectors = nlohmann::json::parse(R"([
    {"id": "legacy_clamp-1", "kind": "legacy_clamp", "source": {}, "notes": "",
     "input": {"current_replicas": 5, "desired_replicas": 7, "min_replicas": 3, "max_replicas": 8,
               "scale_up_limit_factor": 2.0, "scale_up_limit_minimum": 4.0, "maximum": 3},
     "expected": {"replicas": 7, "reason": "DesiredWithinRange"}}])");
  Result<std::vector<VectorOutcome>> outcomes = RunHpaVectors(vectors);
  ASSERT_FALSE(outcomes.ok());
  EXPECT_NE(outcomes.status().message().find("/0/input/maximum"), std::string::npos) << outcomes.status().message();
}

}  // namespace
}  // namespace scaletwin
