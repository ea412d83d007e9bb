#include "model/quantity.h"

#include <cmath>
#include <limits>

namespace scaletwin {
namespace {

// Exact rational value = digits × 10^exp10 × 2^exp2, kept in integers so that
// "0.1" is exactly one tenth and the milli rounding matches the apimachinery.
struct Decimal {
  __int128 digits = 0;
  int exp10 = 0;
  int exp2 = 0;
  bool negative = false;
};

constexpr __int128 kDigitLimit = static_cast<__int128>(1) << 100;

bool ParseSuffix(std::string_view s, Decimal& d) {
  if (s.empty()) return true;
  struct Si { const char* name; int exp10; int exp2; };
  static constexpr Si kSuffixes[] = {
      {"n", -9, 0}, {"u", -6, 0}, {"m", -3, 0}, {"k", 3, 0}, {"M", 6, 0}, {"G", 9, 0}, {"T", 12, 0},
      {"P", 15, 0}, {"E", 18, 0}, {"Ki", 0, 10}, {"Mi", 0, 20}, {"Gi", 0, 30}, {"Ti", 0, 40},
      {"Pi", 0, 50}, {"Ei", 0, 60},
  };
  for (const Si& si : kSuffixes) {
    if (s == si.name) {
      d.exp10 += si.exp10;
      d.exp2 += si.exp2;
      return true;
    }
  }
  if (s[0] != 'e' && s[0] != 'E') return false;
  s.remove_prefix(1);
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 3) return false;
  int e = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    e = e * 10 + (c - '0');
  }
  d.exp10 += neg ? -e : e;
  return true;
}

}  // namespace

Result<Quantity> ParseQuantity(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("quantity \"" + std::string(text) + "\" " + why +
                                   " (e.g. \"100\", \"500m\", \"1k\", \"1Ki\", \"1.5\", \"2e3\")");
  };
  Decimal d;
  std::string_view s = text;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    d.negative = s[0] == '-';
    s.remove_prefix(1);
  }
  size_t i = 0;
  bool seen_dot = false;
  int digit_count = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '.') {
      if (seen_dot) return bad("has two decimal points");
      seen_dot = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    ++digit_count;
    if (d.digits >= kDigitLimit) {
      // Digits beyond ~30 significant ones cannot change a milli value that fits int64.
      if (!seen_dot) ++d.exp10;
      continue;
    }
    d.digits = d.digits * 10 + (c - '0');
    if (seen_dot) --d.exp10;
  }
  if (digit_count == 0) return bad("has no digits");
  if (!ParseSuffix(s.substr(i), d)) return bad("has an unknown suffix");

  // milli = ceil(digits × 10^(exp10+3) × 2^exp2), rounding toward +infinity as MilliValue does.
  __int128 v = d.digits;
  const __int128 kLimit = static_cast<__int128>(std::numeric_limits<int64_t>::max());
  int e10 = d.exp10 + 3;
  for (int k = 0; k < d.exp2; ++k) {
    v *= 2;
    if (v > kLimit) return bad("is too large");
  }
  for (; e10 > 0; --e10) {
    v *= 10;
    if (v > kLimit) return bad("is too large");
  }
  bool inexact = false;
  for (; e10 < 0 && v != 0; ++e10) {
    if (v % 10 != 0) inexact = true;
    v /= 10;
  }
  if (e10 < 0 && d.digits != 0) inexact = true;
  if (d.digits != 0 && v == 0) inexact = true;
  int64_t milli = static_cast<int64_t>(v);
  if (d.negative) milli = -milli;
  else if (inexact) ++milli;  // toward +infinity

  Quantity q;
  q.text = std::string(text);
  q.milli = milli;
  q.value = static_cast<double>(d.digits) * std::pow(10.0, d.exp10) * std::ldexp(1.0, d.exp2) *
            (d.negative ? -1.0 : 1.0);
  return q;
}

std::string FormatMilli(int64_t milli) {
  if (milli % 1000 == 0) return std::to_string(milli / 1000);
  return std::to_string(milli) + "m";
}

}  // namespace scaletwin
