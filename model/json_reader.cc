#include "model/json_reader.h"

#include <algorithm>
#include <cmath>

namespace scaletwin {
namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string EscapePointerToken(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

// nlohmann validates UTF-8 when parsing text, but values set programmatically
// (e.g. from --set) are not; a report must never carry invalid UTF-8.
bool IsValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    size_t extra;
    if (lead < 0x80) extra = 0;
    else if ((lead & 0xE0) == 0xC0) extra = 1;
    else if ((lead & 0xF0) == 0xE0) extra = 2;
    else if ((lead & 0xF8) == 0xF0) extra = 3;
    else return false;
    if (extra > s.size() - i - 1) return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

std::string FormatNumber(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

}  // namespace

void ParseErrors::Add(const std::string& path, const std::string& expected, const std::string& found) {
  lines_.push_back((path.empty() ? "/" : path) + ": expected " + expected + ", found " + found);
}

void ParseErrors::AddMessage(const std::string& path, const std::string& message) {
  lines_.push_back((path.empty() ? "/" : path) + ": " + message);
}

Status ParseErrors::ToStatus(std::string_view what) const {
  if (lines_.empty()) return Status::Ok();
  std::string msg = std::string(what) + " has " + std::to_string(lines_.size()) +
                    (lines_.size() == 1 ? " error" : " errors") + ":";
  for (const std::string& l : lines_) msg += "\n  " + l;
  return Status::InvalidArgument(std::move(msg));
}

std::string DescribeJson(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case nlohmann::json::value_t::string: {
      std::string s = v.get<std::string>();
      if (s.size() > 40) s = s.substr(0, 37) + "...";
      return "string " + nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: {
      std::string s = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      if (s.size() > 40) s = s.substr(0, 40);
      return "number " + s;
    }
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    default: return "an unreadable value";
  }
}

std::string JoinPath(const std::string& path, std::string_view key) {
  return path + "/" + EscapePointerToken(key);
}
std::string JoinPath(const std::string& path, size_t index) { return path + "/" + std::to_string(index); }

ObjectReader::ObjectReader(const nlohmann::json& value, std::string path, ParseErrors& errors)
    : path_(std::move(path)), errors_(errors) {
  if (value.is_object()) object_ = &value;
  else errors_.Add(path_, "an object", DescribeJson(value));
}

bool ObjectReader::Has(std::string_view key) const {
  return object_ && object_->contains(key);
}

const nlohmann::json* ObjectReader::Get(std::string_view key) {
  known_.insert(std::string(key));
  if (!object_) return nullptr;
  auto it = object_->find(key);
  return it == object_->end() ? nullptr : &*it;
}

std::optional<std::string> ObjectReader::String(std::string_view key, bool required) {
  const nlohmann::json* v = Get(key);
  if (!v) {
    if (required && object_) errors_.AddMessage(JoinPath(path_, key), "required string is missing");
    return std::nullopt;
  }
  if (!v->is_string() || !IsValidUtf8(v->get_ref<const std::string&>())) {
    errors_.Add(JoinPath(path_, key), "a UTF-8 string", DescribeJson(*v));
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<int64_t> ObjectReader::Int(std::string_view key, int64_t min, int64_t max, bool required) {
  const nlohmann::json* v = Get(key);
  const std::string p = JoinPath(path_, key);
  const std::string want = "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  if (!v) {
    if (required && object_) errors_.AddMessage(p, "required " + want + " is missing");
    return std::nullopt;
  }
  int64_t value;
  if (v->is_number_integer() && !(v->is_number_unsigned() && v->get<uint64_t>() > INT64_MAX)) {
    value = v->get<int64_t>();
  } else if (v->is_number_float() && std::nearbyint(v->get<double>()) == v->get<double>() &&
             std::fabs(v->get<double>()) < 9e18) {
    value = static_cast<int64_t>(v->get<double>());
  } else {
    errors_.Add(p, want, DescribeJson(*v));
    return std::nullopt;
  }
  if (value < min || value > max) {
    errors_.Add(p, want, DescribeJson(*v));
    return std::nullopt;
  }
  return value;
}

std::optional<uint64_t> ObjectReader::Uint64(std::string_view key, bool required) {
  const nlohmann::json* v = Get(key);
  const std::string p = JoinPath(path_, key);
  if (!v) {
    if (required && object_) errors_.AddMessage(p, "required non-negative integer is missing");
    return std::nullopt;
  }
  if (v->is_number_unsigned()) return v->get<uint64_t>();
  if (v->is_number_integer() && v->get<int64_t>() >= 0) return static_cast<uint64_t>(v->get<int64_t>());
  // An integral float such as 42.0 is the same integer; beyond 2^53 it is not exact.
  if (v->is_number_float() && v->get<double>() >= 0 && v->get<double>() <= 9007199254740992.0 &&
      std::nearbyint(v->get<double>()) == v->get<double>()) {
    return static_cast<uint64_t>(v->get<double>());
  }
  errors_.Add(p, "a non-negative integer below 2^64", DescribeJson(*v));
  return std::nullopt;
}

std::optional<double> ObjectReader::Number(std::string_view key, double min, double max, bool required) {
  const nlohmann::json* v = Get(key);
  const std::string p = JoinPath(path_, key);
  const std::string want = "a number in [" + FormatNumber(min) + ", " + FormatNumber(max) + "]";
  if (!v) {
    if (required && object_) errors_.AddMessage(p, "required " + want + " is missing");
    return std::nullopt;
  }
  if (!v->is_number() || !std::isfinite(v->get<double>()) || v->get<double>() < min ||
      v->get<double>() > max) {
    errors_.Add(p, want, DescribeJson(*v));
    return std::nullopt;
  }
  return v->get<double>();
}

std::optional<bool> ObjectReader::Bool(std::string_view key, bool required) {
  const nlohmann::json* v = Get(key);
  if (!v) {
    if (required && object_) errors_.AddMessage(JoinPath(path_, key), "required boolean is missing");
    return std::nullopt;
  }
  if (!v->is_boolean()) {
    errors_.Add(JoinPath(path_, key), "true or false", DescribeJson(*v));
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<Nanos> ReadDuration(const nlohmann::json& v, const std::string& path, Nanos min, Nanos max,
                                  ParseErrors& errors) {
  const std::string want =
      "a duration string from " + FormatDuration(min) + " to " + FormatDuration(max) + " (e.g. \"250ms\")";
  if (!v.is_string()) {
    errors.Add(path, want, DescribeJson(v));
    return std::nullopt;
  }
  Result<Nanos> d = ParseDuration(v.get<std::string>());
  if (!d.ok()) {
    errors.AddMessage(path, d.status().message());
    return std::nullopt;
  }
  if (*d < min || *d > max) {
    errors.Add(path, want, DescribeJson(v));
    return std::nullopt;
  }
  return *d;
}

std::optional<Nanos> ObjectReader::Duration(std::string_view key, Nanos min, Nanos max, bool required) {
  const nlohmann::json* v = Get(key);
  if (!v) {
    if (required && object_) errors_.AddMessage(JoinPath(path_, key), "required duration is missing");
    return std::nullopt;
  }
  return ReadDuration(*v, JoinPath(path_, key), min, max, errors_);
}

std::optional<std::string> ObjectReader::Enum(std::string_view key, const std::vector<std::string>& choices,
                                              bool required) {
  const nlohmann::json* v = Get(key);
  std::string want = "one of";
  for (size_t i = 0; i < choices.size(); ++i) want += (i ? ", \"" : " \"") + choices[i] + "\"";
  if (!v) {
    if (required && object_) errors_.AddMessage(JoinPath(path_, key), "required " + want + " is missing");
    return std::nullopt;
  }
  if (!v->is_string() || std::find(choices.begin(), choices.end(), v->get<std::string>()) == choices.end()) {
    errors_.Add(JoinPath(path_, key), want, DescribeJson(*v));
    return std::nullopt;
  }
  return v->get<std::string>();
}

void ObjectReader::Finish() {
  if (!object_) return;
  for (const auto& [key, value] : object_->items()) {
    if (known_.count(key)) continue;
    std::string hint;
    size_t best = 3;
    for (const std::string& k : known_) {
      size_t d = EditDistance(key, k);
      if (d < best) {
        best = d;
        hint = " (did you mean \"" + k + "\"?)";
      }
    }
    errors_.AddMessage(JoinPath(path_, key), "unknown key" + hint);
  }
}

}  // namespace scaletwin
