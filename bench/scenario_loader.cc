#include "bench/scenario_loader.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#ifndef SCALETWIN_SOURCE_DIR
#define SCALETWIN_SOURCE_DIR "."
#endif

namespace scaletwin::bench {
namespace {

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError("error reading " + path);
  return text.str();
}

}  // namespace

Result<Scenario> LoadScenarioForBench(const std::string& path, const std::vector<std::string>& overrides) {
  Result<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  nlohmann::json doc = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::InvalidArgument(path + " is not valid JSON");
  for (const std::string& o : overrides) {
    const size_t eq = o.find('=');
    if (eq == std::string::npos) return Status::InvalidArgument("override \"" + o + "\": expected path=value");
    if (Status s = ApplyOverride(doc, o.substr(0, eq), o.substr(eq + 1)); !s.ok()) return s;
  }
  const std::filesystem::path base = std::filesystem::path(path).parent_path();
  FileReader reader = [&base](const std::string& name) -> Result<std::string> {
    std::filesystem::path p(name);
    if (p.is_relative()) p = base / p;
    return ReadWholeFile(p.string());
  };
  Result<Scenario> scenario = ParseScenario(doc, reader);
  if (!scenario.ok()) return Status::InvalidArgument(path + ": " + scenario.status().message());
  return scenario;
}

std::string BenchScenarioPath(const std::string& name) {
  const char* env = std::getenv("SCALETWIN_SOURCE_DIR");
  const std::string root = env && *env ? env : SCALETWIN_SOURCE_DIR;
  return root + "/scenarios/" + name;
}

}  // namespace scaletwin::bench
