// ObjectReader: strict, path-aware reading of JSON objects for input formats.
//
// Every scaletwin input (scenario files, state files, configs) is read through
// this unit so that every error names the JSON pointer of the offending value,
// what was expected and what was found, and so that unknown keys are errors —
// a typo must never silently change a run. Errors are collected, not thrown:
// a reader keeps going so one pass reports every problem in a file.
//
//   ParseErrors errors;
//   ObjectReader pods(doc["pods"], "/pods", errors);
//   int64_t workers = pods.Int("workers", /*min=*/1, /*max=*/100000).value_or(1);
//   pods.Finish();                     // reports keys nobody asked for
//   if (!errors.empty()) return errors.ToStatus();
//
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/duration.h"
#include "model/status.h"

namespace scaletwin {

// One line per problem: "<pointer>: expected <what>, found <what>".
class ParseErrors {
 public:
  void Add(const std::string& path, const std::string& expected, const std::string& found);
  void AddMessage(const std::string& path, const std::string& message);
  bool empty() const { return lines_.empty(); }
  size_t size() const { return lines_.size(); }
  const std::vector<std::string>& lines() const { return lines_; }
  // InvalidArgument with every line, or OK when there are none.
  Status ToStatus(std::string_view what) const;

 private:
  std::vector<std::string> lines_;
};

// A short description of a JSON value for error messages: `string "abc"`, `number -5`.
std::string DescribeJson(const nlohmann::json& value);
// Joins a pointer and a key or index: JoinPath("/pods", "workers") == "/pods/workers".
std::string JoinPath(const std::string& path, std::string_view key);
std::string JoinPath(const std::string& path, size_t index);

class ObjectReader {
 public:
  // `value` must outlive the reader. When it is not an object an error is
  // recorded and every lookup returns nothing.
  ObjectReader(const nlohmann::json& value, std::string path, ParseErrors& errors);

  const std::string& path() const { return path_; }
  bool valid() const { return object_ != nullptr; }
  bool Has(std::string_view key) const;
  // The raw value, marking the key as known; nullptr when absent.
  const nlohmann::json* Get(std::string_view key);
  // Marks a key as known without reading it (e.g. "$schema", comments).
  void Allow(std::string_view key) { known_.insert(std::string(key)); }

  // Typed getters: nullopt when absent (an error too when `required`) or
  // invalid (the error is recorded). Bounds are inclusive.
  std::optional<std::string> String(std::string_view key, bool required = false);
  std::optional<int64_t> Int(std::string_view key, int64_t min, int64_t max, bool required = false);
  std::optional<uint64_t> Uint64(std::string_view key, bool required = false);
  std::optional<double> Number(std::string_view key, double min, double max, bool required = false);
  std::optional<bool> Bool(std::string_view key, bool required = false);
  std::optional<Nanos> Duration(std::string_view key, Nanos min, Nanos max, bool required = false);
  // One of `choices`; the error lists them.
  std::optional<std::string> Enum(std::string_view key, const std::vector<std::string>& choices,
                                  bool required = false);

  // Records an error for every key no getter or Allow() asked for, with a
  // "did you mean" hint when a known key is close.
  void Finish();

  ParseErrors& errors() { return errors_; }

 private:
  const nlohmann::json* object_ = nullptr;
  std::string path_;
  ParseErrors& errors_;
  std::set<std::string> known_;
};

// Reads a duration string at `path` (shared with arrays of durations).
std::optional<Nanos> ReadDuration(const nlohmann::json& value, const std::string& path, Nanos min,
                                  Nanos max, ParseErrors& errors);

}  // namespace scaletwin
