// Test helpers for reports/: a small hand-written report.json in schema v1
// and unique scratch directories. Test-only; not part of scaletwin_reports.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace scaletwin::reports::testing {

// A complete, internally consistent report: 10 one-second intervals, two
// tenants, two routes, one passing and one failing expectation.
nlohmann::json SampleReport();

// A fresh, empty directory under the test temp dir; unique per call and process.
std::string NewTempDir(const std::string& name);

}  // namespace scaletwin::reports::testing
