// Command/Reply values and Redis's number parsing and formatting rules.
#include "model/redis_command.h"

#include <cerrno>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace scaletwin {

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Command::Name() const {
  if (args.empty()) return "";
  std::string n = args[0];
  for (char& c : n) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return n;
}

std::string Command::ToString() const {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i) out += ' ';
    const std::string& a = args[i];
    bool plain = !a.empty();
    for (char c : a) plain = plain && std::isgraph(static_cast<unsigned char>(c)) && c != '"';
    out += plain ? a : "\"" + a + "\"";
  }
  return out;
}

Reply Reply::Integer(int64_t v) {
  Reply r;
  r.kind_ = Kind::kInteger;
  r.integer_ = v;
  return r;
}

Reply Reply::Bulk(std::string s) {
  Reply r;
  r.kind_ = Kind::kBulk;
  r.text_ = std::move(s);
  return r;
}

Reply Reply::Array(std::vector<Reply> elements) {
  Reply r;
  r.kind_ = Kind::kArray;
  r.elements_ = std::move(elements);
  return r;
}

Reply Reply::Error(std::string text) {
  Reply r;
  r.kind_ = Kind::kError;
  r.text_ = std::move(text);
  return r;
}

Reply Reply::Simple(std::string text) {
  Reply r;
  r.kind_ = Kind::kSimple;
  r.text_ = std::move(text);
  return r;
}

std::string Reply::ToString() const {
  switch (kind_) {
    case Kind::kNil: return "(nil)";
    case Kind::kInteger: return "(integer) " + std::to_string(integer_);
    case Kind::kBulk: return "\"" + text_ + "\"";
    case Kind::kError: return "(error) " + text_;
    case Kind::kSimple: return text_;
    case Kind::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < elements_.size(); ++i) {
        if (i) out += ", ";
        out += elements_[i].ToString();
      }
      return out + "]";
    }
  }
  return "?";
}

// A transcription of Redis's util.c string2ll.
bool ParseRedisInt(std::string_view s, int64_t* out) {
  const size_t n = s.size();
  if (n == 0 || n > 20) return false;
  if (n == 1 && s[0] == '0') {
    *out = 0;
    return true;
  }
  size_t i = 0;
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    i = 1;
    if (n == 1) return false;
  }
  if (s[i] < '1' || s[i] > '9') return false;
  uint64_t v = 0;
  for (; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    const uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return false;
    v = v * 10 + d;
  }
  if (negative) {
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) return false;
    *out = static_cast<int64_t>(0 - v);
  } else {
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
    *out = static_cast<int64_t>(v);
  }
  return true;
}

bool ParseRedisDouble(std::string_view s, double* out) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  const std::string buf(s);  // strtod needs a terminator; binary-safe check below
  if (buf.size() != std::char_traits<char>::length(buf.c_str())) return false;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(buf.c_str(), &end);
  if (static_cast<size_t>(end - buf.c_str()) != buf.size()) return false;
  if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || std::fpclassify(v) == FP_ZERO)) return false;
  if (std::isnan(v)) return false;
  *out = v;
  return true;
}

std::string FormatRedisDouble(double d) {
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", d);
  return buf;
}

}  // namespace scaletwin
