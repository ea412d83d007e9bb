// Loading a scenario from disk: the I/O half of the scenario loader.
//
// model/ParseScenario() is pure; this unit reads the file, reports JSON syntax
// errors with line and column, applies `--set path=value` overrides, resolves
// files the scenario names (traces, samples) relative to the scenario's folder,
// and computes the scenario hash (SHA-256 of the canonical JSON after
// overrides) that identifies a run in reports and history.
#pragma once

#include <string>
#include <vector>

#include "model/scenario.h"
#include "model/status.h"

namespace scaletwin::cli {

struct LoadedScenario {
  Scenario scenario;
  std::string hash;  // lowercase hex SHA-256
  std::string path;
};

// `overrides` are "path=value" strings from --set.
Result<LoadedScenario> LoadScenarioFile(const std::string& path, const std::vector<std::string>& overrides);

// Reads a whole file; NotFound / IOError name the path. Refuses files over `max_bytes`.
Result<std::string> ReadFile(const std::string& path, size_t max_bytes = 512u << 20);

// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(const std::string& data);

}  // namespace scaletwin::cli
