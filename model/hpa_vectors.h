// Runs a file of HPA test vectors (hpa.md §1, ten kinds) through the model:
// replica_calc, group_pods, stabilize_legacy, stabilize_behavior,
// legacy_clamp, policy_limit, rate_limit_behavior, store_scale_events,
// behavior_defaults and controller_reconcile. Each kind calls the same model
// functions the simulator uses; no case id is special.
//
//   Result<std::vector<VectorOutcome>> out = RunHpaVectors(doc);   // doc: the parsed JSON array
//   for (const VectorOutcome& o : *out) if (!o.agree) print(o.id, o.expected, o.actual);
//
// A case agrees when every key of its `expected` object is matched by the
// actual result (conditions compare as a whole map; an expected error text
// ending in "..." is a prefix). A malformed file or case is an error naming
// the JSON pointer; it never counts as a disagreement.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/status.h"

namespace scaletwin {

struct VectorOutcome {
  std::string id;
  std::string kind;
  bool agree = false;
  nlohmann::json expected;
  nlohmann::json actual;
};

// Runs one case (an element of the vector array) found at `path`.
Result<VectorOutcome> RunHpaVector(const nlohmann::json& vector, const std::string& path);

// Runs every case of a vector file; fails on the first malformed case.
Result<std::vector<VectorOutcome>> RunHpaVectors(const nlohmann::json& vectors);

}  // namespace scaletwin
