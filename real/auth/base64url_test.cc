// Base64url against RFC 4648 §10 vectors, a seeded round trip, and every
// kind of text the strict decoder must refuse.
#include "real/auth/base64url.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace scaletwin {
namespace {

TEST(Base64Url, EncodesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(Base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
}

TEST(Base64Url, UsesDashAndUnderscoreWhereBase64UsesPlusAndSlash) {
  // Standard base64 of these bytes is "+/8=".
  EXPECT_EQ(Base64UrlEncode(std::string("\xfb\xff", 2)), "-_8");
  EXPECT_EQ(Base64UrlDecode("-_8"), std::string("\xfb\xff", 2));
}

TEST(Base64Url, DecodesRfc4648Vectors) {
  EXPECT_EQ(Base64UrlDecode(""), std::string());
  EXPECT_EQ(Base64UrlDecode("Zg"), "f");
  EXPECT_EQ(Base64UrlDecode("Zm8"), "fo");
  EXPECT_EQ(Base64UrlDecode("Zm9vYmFy"), "foobar");
}

TEST(Base64Url, RoundTripsArbitraryBytesOfEveryLengthResidue) {
  std::mt19937 rng(20240611);
  std::uniform_int_distribution<int> byte(0, 255);
  for (size_t len = 0; len < 200; ++len) {
    std::string bytes;
    for (size_t i = 0; i < len; ++i) bytes += static_cast<char>(byte(rng));
    const std::string text = Base64UrlEncode(bytes);
    EXPECT_EQ(text.size(), (len * 4 + 2) / 3) << len;
    EXPECT_EQ(Base64UrlDecode(text), bytes) << len;
  }
}

TEST(Base64Url, RefusesPadding) {
  EXPECT_EQ(Base64UrlDecode("Zg=="), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zm8="), std::nullopt);
}

TEST(Base64Url, RefusesCharactersOutsideTheUrlAlphabet) {
  EXPECT_EQ(Base64UrlDecode("Zm9+"), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zm9/"), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zm 9v"), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zm9v\n"), std::nullopt);
  EXPECT_EQ(Base64UrlDecode(std::string("Zm\0v", 4)), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zm9\xc3\xa9"), std::nullopt);
}

TEST(Base64Url, RefusesALoneTrailingCharacter) { EXPECT_EQ(Base64UrlDecode("Zm9vY"), std::nullopt); }

TEST(Base64Url, RefusesNonZeroUnusedBitsSoEachValueHasOneSpelling) {
  // "Zg" is "f"; "Zh" differs only in the 4 bits that carry no data.
  EXPECT_EQ(Base64UrlDecode("Zh"), std::nullopt);
  // "Zm8" is "fo"; "Zm9" sets one of the 2 unused bits.
  EXPECT_EQ(Base64UrlDecode("Zm9"), std::nullopt);
}

}  // namespace
}  // namespace scaletwin
