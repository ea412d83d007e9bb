// Short codes: generation is uniform over base62 and deterministic given the
// random words; custom codes follow the charset, length and reserved-word rules.
#include "model/short_code.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "model/rng.h"

namespace scaletwin {
namespace {

TEST(ShortCode, MapsEachWordToOneBase62Character) {
  std::vector<uint64_t> words = {0, 1, 61, 62, 123};
  size_t next = 0;
  EXPECT_EQ(GenerateShortCode(5, [&] { return words[next++]; }), "01z0z");
  EXPECT_EQ(next, words.size());
}

TEST(ShortCode, RedrawsWordsFromTheIncompleteLastCycle) {
  // 2^64 mod 62 = 16, so the 16 largest words are redrawn rather than folded
  // onto '0'..'F' (which would bias those characters).
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  std::vector<uint64_t> words = {kMax, kMax - 15, kMax - 16, 5};
  size_t next = 0;
  const std::string code = GenerateShortCode(2, [&] { return words[next++]; });
  EXPECT_EQ(next, 4u) << "two redraws";
  EXPECT_EQ(code[0], kBase62Alphabet[(kMax - 16) % 62]);
  EXPECT_EQ(code[1], '5');
}

TEST(ShortCode, IsUniformOverTheAlphabet) {
  Rng rng(42, "short-code");
  std::array<int, 62> counts{};
  constexpr int kCodes = 62 * 1000;
  for (int i = 0; i < kCodes; ++i) {
    const std::string c = GenerateShortCode(1, [&] { return rng.Next(); });
    ASSERT_EQ(c.size(), 1u);
    ++counts[kBase62Alphabet.find(c[0])];
  }
  // Chi-square with 61 degrees of freedom: mean 61, sd ~11; 120 is beyond p = 1e-5.
  double chi2 = 0;
  for (int n : counts) chi2 += std::pow(n - 1000.0, 2) / 1000.0;
  EXPECT_LT(chi2, 120.0);
}

TEST(ShortCode, GeneratedCodesHaveTheRequestedLengthAndAreWellFormed) {
  Rng rng(7, "short-code");
  for (int len = 1; len <= kMaxShortCodeLength; ++len) {
    const std::string c = GenerateShortCode(len, [&] { return rng.Next(); });
    EXPECT_EQ(static_cast<int>(c.size()), len);
    EXPECT_TRUE(IsWellFormedShortCode(c)) << c;
  }
}

TEST(CustomCode, AcceptsSlugsWithinTheLengthBounds) {
  ShortCodeRules rules;
  EXPECT_TRUE(ValidateCustomCode("spring-sale", rules).ok());
  EXPECT_TRUE(ValidateCustomCode("A_b-9", rules).ok());
  EXPECT_TRUE(ValidateCustomCode("abc", rules).ok());
  EXPECT_TRUE(ValidateCustomCode(std::string(32, 'x'), rules).ok());
}

TEST(CustomCode, RefusesBadLengthCharactersAndLeadingPunctuation) {
  ShortCodeRules rules;
  EXPECT_EQ(ValidateCustomCode("ab", rules).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateCustomCode(std::string(33, 'x'), rules).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ValidateCustomCode("", rules).ok());
  for (const char* bad :
       {"has space", "a/b/c", "dot.ted", "q?x=1", "per%41", "tab\tx", "caf\xc3\xa9", "-lead", "_lead"}) {
    EXPECT_EQ(ValidateCustomCode(bad, rules).code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(CustomCode, RefusesReservedWordsInAnyCase) {
  ShortCodeRules rules;
  for (const char* word : {"api", "healthz", "readyz", "metrics", "Metrics", "API", "HealthZ"}) {
    const Status s = ValidateCustomCode(word, rules);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << word;
    EXPECT_NE(s.message().find("reserved"), std::string::npos) << s.message();
  }
  EXPECT_TRUE(ValidateCustomCode("apis", rules).ok()) << "only whole words are reserved";
}

TEST(CustomCode, RulesThemselvesAreValidated) {
  EXPECT_TRUE(ValidateShortCodeRules({}).ok());
  EXPECT_FALSE(ValidateShortCodeRules({.min_length = 0, .max_length = 5}).ok());
  EXPECT_FALSE(ValidateShortCodeRules({.min_length = 6, .max_length = 5}).ok());
  EXPECT_FALSE(ValidateShortCodeRules({.min_length = 1, .max_length = kMaxShortCodeLength + 1}).ok());
}

TEST(ShortCode, WellFormednessScreensJunkPaths) {
  EXPECT_TRUE(IsWellFormedShortCode("a"));
  EXPECT_TRUE(IsWellFormedShortCode("Ab-_9"));
  EXPECT_FALSE(IsWellFormedShortCode(""));
  EXPECT_FALSE(IsWellFormedShortCode("a/b"));
  EXPECT_FALSE(IsWellFormedShortCode("..%2f"));
  EXPECT_FALSE(IsWellFormedShortCode(std::string(kMaxShortCodeLength + 1, 'a')));
}

}  // namespace
}  // namespace scaletwin
