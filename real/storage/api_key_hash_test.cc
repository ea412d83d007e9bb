// SHA-256 of API keys against FIPS 180-2 vectors.
#include "real/storage/api_key_hash.h"

#include <gtest/gtest.h>

namespace scaletwin {
namespace {

TEST(ApiKeyHash, MatchesKnownSha256Digests) {
  EXPECT_EQ(ApiKeySha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ApiKeySha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ApiKeySha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

}  // namespace
}  // namespace scaletwin
