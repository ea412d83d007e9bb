// Test helper: a scenario from an inline JSON document, through the real
// loader (so tests exercise the same validation users get). A document the
// loader rejects fails the calling test with the loader's message.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "model/scenario.h"

namespace scaletwin::sim {

inline Scenario ParseForTest(const nlohmann::json& doc) {
  Result<Scenario> s = ParseScenario(doc, [](const std::string& p) -> Result<std::string> {
    return Status::NotFound("no files in this test: " + p);
  });
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : Scenario{};
}

}  // namespace scaletwin::sim
