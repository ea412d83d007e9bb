#include "cli/scenario_file.h"

#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace scaletwin::cli {

namespace fs = std::filesystem;

Result<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return Status::NotFound("no such file: " + path);
  if (fs::is_directory(st)) return Status::InvalidArgument(path + " is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open " + path);
  std::string data;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > max_bytes) {
      return Status::InvalidArgument(path + " is larger than " + std::to_string(max_bytes >> 20) + " MiB");
    }
  }
  if (in.bad()) return Status::IOError("error reading " + path);
  return data;
}

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

namespace {

// "line L, column C" for a byte offset, for JSON syntax errors.
std::string Position(const std::string& text, size_t byte) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

}  // namespace

Result<LoadedScenario> LoadScenarioFile(const std::string& path, const std::vector<std::string>& overrides) {
  Result<std::string> text = ReadFile(path, 64u << 20);
  if (!text.ok()) return text.status();
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(*text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    // nlohmann's message ends with the useful part after "parse error at ...: ".
    if (auto p = what.find(": syntax error"); p != std::string::npos) what = what.substr(p + 2);
    return Status::InvalidArgument(path + " is not valid JSON (" + Position(*text, e.byte ? e.byte - 1 : 0) +
                                   "): " + what);
  }
  for (const std::string& o : overrides) {
    const size_t eq = o.find('=');
    if (eq == std::string::npos) return Status::InvalidArgument("--set " + o + ": expected path=value, e.g. pods.workers=12");
    if (Status s = ApplyOverride(doc, o.substr(0, eq), o.substr(eq + 1)); !s.ok()) return s;
  }
  const fs::path base = fs::path(path).parent_path();
  FileReader reader = [&base](const std::string& name) -> Result<std::string> {
    fs::path p(name);
    if (p.is_relative()) p = base / p;
    return ReadFile(p.string());
  };
  Result<Scenario> scenario = ParseScenario(doc, reader);
  if (!scenario.ok()) {
    return Status::InvalidArgument(path + ": " + scenario.status().message());
  }
  LoadedScenario out{std::move(*scenario), Sha256Hex(doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)), path};
  return out;
}

}  // namespace scaletwin::cli
