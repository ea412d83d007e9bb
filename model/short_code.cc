// Base62 generation without modulo bias, and the custom-code rules.
#include "model/short_code.h"

#include <cassert>
#include <limits>

namespace scaletwin {

namespace {

bool IsAlnum(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsCodeChar(char c) { return IsAlnum(c) || c == '-' || c == '_'; }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

}  // namespace

std::string GenerateShortCode(int length, const RandomWords& next_word) {
  assert(length >= 1 && length <= kMaxShortCodeLength);
  constexpr uint64_t kBase = kBase62Alphabet.size();
  // Words above kLimit belong to the incomplete last cycle of 62 and would make
  // the first (2^64 mod 62) characters slightly likelier. Words in [0, kLimit]
  // are 2^64 - (2^64 mod 62) values: a whole number of cycles.
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  constexpr uint64_t kRemainder = (kMax % kBase + 1) % kBase;  // 2^64 mod 62
  constexpr uint64_t kLimit = kMax - kRemainder;
  std::string code;
  code.reserve(static_cast<size_t>(length));
  while (static_cast<int>(code.size()) < length) {
    const uint64_t w = next_word();
    if (w > kLimit) continue;
    code.push_back(kBase62Alphabet[w % kBase]);
  }
  return code;
}

Status ValidateShortCodeRules(const ShortCodeRules& rules) {
  if (rules.min_length < 1 || rules.min_length > rules.max_length || rules.max_length > kMaxShortCodeLength) {
    return Status::InvalidArgument("custom code lengths must satisfy 1 <= min (" + std::to_string(rules.min_length) +
                                   ") <= max (" + std::to_string(rules.max_length) +
                                   ") <= " + std::to_string(kMaxShortCodeLength));
  }
  return Status::Ok();
}

Status ValidateCustomCode(std::string_view code, const ShortCodeRules& rules) {
  const auto n = static_cast<int>(code.size());
  if (n < rules.min_length || n > rules.max_length) {
    return Status::InvalidArgument("custom code must be " + std::to_string(rules.min_length) + " to " +
                                   std::to_string(rules.max_length) + " characters, got " + std::to_string(n));
  }
  for (size_t i = 0; i < code.size(); ++i) {
    if (!IsCodeChar(code[i])) {
      return Status::InvalidArgument("custom code may contain only A-Z, a-z, 0-9, '-' and '_' (bad character at " +
                                     std::to_string(i) + ")");
    }
  }
  if (!IsAlnum(code.front())) return Status::InvalidArgument("custom code must start with a letter or digit");
  if (IsReservedCode(code, rules)) {
    return Status::InvalidArgument("custom code \"" + std::string(code) + "\" is reserved");
  }
  return Status::Ok();
}

bool IsReservedCode(std::string_view code, const ShortCodeRules& rules) {
  for (const std::string& word : rules.reserved) {
    if (EqualsIgnoreCase(code, word)) return true;
  }
  return false;
}

bool IsWellFormedShortCode(std::string_view code) {
  if (code.empty() || code.size() > static_cast<size_t>(kMaxShortCodeLength)) return false;
  for (char c : code) {
    if (!IsCodeChar(c)) return false;
  }
  return true;
}

}  // namespace scaletwin
