// Short codes of the URL shortener: random base62 generation and validation
// of user-chosen ("custom") codes.
//
// A short code is the path of a public redirect (GET /{code}), so it must be
// URL-safe without escaping and must never shadow one of the pod's own routes
// (/api/..., /healthz, /readyz, /metrics). Generated codes use the 62
// alphanumerics only; custom codes may also use '-' and '_' (readable slugs
// such as "spring-sale") but must start with an alphanumeric.
//
// Randomness is passed in (model/ reads no clock and owns no entropy): the
// caller supplies a source of uniformly random 64-bit words — a CSPRNG in the
// real pod, an Rng stream or a rigged sequence in tests.
//
//   std::string code = GenerateShortCode(7, [&] { return rng.Next(); });
//   Status s = ValidateCustomCode("spring-sale", ShortCodeRules{});
//
// Thread-safety: pure functions; GenerateShortCode calls `next_word` from the
// calling thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "model/status.h"

namespace scaletwin {

// The alphabet of generated codes, in the order a random draw indexes it.
inline constexpr std::string_view kBase62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// Longest code any rule may allow: keeps codes, indexes and log lines small.
inline constexpr int kMaxShortCodeLength = 64;

struct ShortCodeRules {
  int min_length = 3;   // custom codes only; generated codes have an exact length
  int max_length = 32;  // custom codes only
  // Codes that would collide with the pod's routes; compared case-insensitively
  // so "Metrics" is refused as well (a human reading a link cannot tell them apart).
  std::vector<std::string> reserved = {"api", "healthz", "readyz", "livez", "metrics"};
};

// A uniformly random 64-bit word per call.
using RandomWords = std::function<uint64_t()>;

// Returns `length` characters of kBase62Alphabet, each drawn uniformly: a word
// w maps to kBase62Alphabet[w % 62] unless w falls in the last, incomplete
// cycle of 62 below 2^64, in which case it is redrawn (no modulo bias). So a
// source that always returns 0 yields "000...".
// REQUIRES: 1 <= length <= kMaxShortCodeLength.
std::string GenerateShortCode(int length, const RandomWords& next_word);

// OK iff `rules` are usable: 1 <= min_length <= max_length <= kMaxShortCodeLength.
Status ValidateShortCodeRules(const ShortCodeRules& rules);

// OK iff `code` may be chosen by a user: length within the rules, characters in
// [A-Za-z0-9_-], first character alphanumeric, not a reserved word.
// The message names the first problem found.
Status ValidateCustomCode(std::string_view code, const ShortCodeRules& rules);

// True iff `code` equals one of rules.reserved, ignoring case. Generated codes
// are checked too: a 7-letter draw can spell "healthz" or "metrics".
bool IsReservedCode(std::string_view code, const ShortCodeRules& rules);

// True iff `code` could name a stored link at all (generated or custom): 1 to
// kMaxShortCodeLength characters from [A-Za-z0-9_-]. Lets a resolver answer
// "not found" for junk paths without a database round trip.
bool IsWellFormedShortCode(std::string_view code);

}  // namespace scaletwin
