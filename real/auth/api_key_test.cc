// API keys: the minted form, Bearer parsing, and the hash → tenant table.
#include "real/auth/api_key.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <thread>

#include "real/auth/base64url.h"
#include "real/storage/api_key_hash.h"

namespace scaletwin {
namespace {

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

// --- NewApiKey ------------------------------------------------------------------

TEST(NewApiKey, HasThePrefixAnd32RandomBytesInBase64Url) {
  Result<std::string> key = NewApiKey();
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->size(), kApiKeyLength);
  ASSERT_TRUE(key->starts_with("stk_")) << *key;
  std::optional<std::string> bytes = Base64UrlDecode(std::string_view(*key).substr(4));
  ASSERT_TRUE(bytes.has_value()) << *key;
  EXPECT_EQ(bytes->size(), kApiKeyRandomBytes);
  EXPECT_EQ(BearerToken("Bearer " + *key), std::optional<std::string_view>(*key)) << "usable as a bearer token";
}

TEST(NewApiKey, GivesDistinctKeys) {
  std::set<std::string> keys;
  for (int i = 0; i < 1000; ++i) keys.insert(NewApiKey().value());
  EXPECT_EQ(keys.size(), 1000u);
}

// --- BearerToken -----------------------------------------------------------------

TEST(BearerToken, ReturnsTheTokenAfterTheScheme) {
  const std::string header = "Bearer stk_abc-DEF_123";
  std::optional<std::string_view> token = BearerToken(header);
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(*token, "stk_abc-DEF_123");
  EXPECT_EQ(token->data(), header.data() + 7) << "a view into the header, not a copy";
}

TEST(BearerToken, SchemeIsCaseInsensitive) {
  EXPECT_EQ(BearerToken("bearer abc"), "abc");
  EXPECT_EQ(BearerToken("BEARER abc"), "abc");
  EXPECT_EQ(BearerToken("bEaReR abc"), "abc");
}

TEST(BearerToken, AcceptsSeveralSpacesAfterTheSchemeAndOwsAround) {
  EXPECT_EQ(BearerToken("Bearer    abc"), "abc");
  EXPECT_EQ(BearerToken("  Bearer abc \t"), "abc");
}

TEST(BearerToken, AcceptsJwtsAndB64TokenPadding) {
  EXPECT_EQ(BearerToken("Bearer eyJh.eyJ0.sig-_"), "eyJh.eyJ0.sig-_");
  EXPECT_EQ(BearerToken("Bearer a+b/c~d=="), "a+b/c~d==");
}

TEST(BearerToken, RefusesOtherSchemesAndMissingTokens) {
  EXPECT_EQ(BearerToken(""), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer "), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer     "), std::nullopt);
  EXPECT_EQ(BearerToken("Bearerabc"), std::nullopt);
  EXPECT_EQ(BearerToken("Basic YWxhZGRpbjpvcGVuc2VzYW1l"), std::nullopt);
  EXPECT_EQ(BearerToken("Bear abc"), std::nullopt);
  EXPECT_EQ(BearerToken("stk_abc"), std::nullopt);
}

TEST(BearerToken, RefusesTokensWithSpacesOrOtherCharacters) {
  EXPECT_EQ(BearerToken("Bearer abc def"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer\tabc"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer abc\tdef"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer a=b"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer =abc"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer abc,def"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer abc\r\nX-Injected: 1"), std::nullopt);
  EXPECT_EQ(BearerToken(std::string("Bearer ab\0c", 11)), std::nullopt);
}

// --- ApiKeyTable ------------------------------------------------------------------

TEST(ApiKeyTable, FindsTheTenantOfEachKey) {
  Result<ApiKeyTable> table = ApiKeyTable::Build({
      {"acme", {ApiKeySha256Hex("acme-key-1"), ApiKeySha256Hex("acme-key-2")}},
      {"globex", {ApiKeySha256Hex("globex-key")}},
  });
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->size(), 3u);
  EXPECT_EQ(table->TenantForKey("acme-key-1"), "acme");
  EXPECT_EQ(table->TenantForKey("acme-key-2"), "acme");
  EXPECT_EQ(table->TenantForKey("globex-key"), "globex");
}

TEST(ApiKeyTable, UnknownKeyHasNoTenant) {
  Result<ApiKeyTable> table = ApiKeyTable::Build({{"acme", {ApiKeySha256Hex("acme-key")}}});
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->TenantForKey("acme-key2"), std::nullopt);
  EXPECT_EQ(table->TenantForKey("acme-ke"), std::nullopt);
  EXPECT_EQ(table->TenantForKey(ApiKeySha256Hex("acme-key")), std::nullopt) << "the hash is not the key";
}

TEST(ApiKeyTable, EmptyKeyHasNoTenantEvenIfItsHashIsListed) {
  Result<ApiKeyTable> table = ApiKeyTable::Build({{"acme", {ApiKeySha256Hex("")}}});
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->TenantForKey(""), std::nullopt);
}

TEST(ApiKeyTable, EmptyTableHasNoTenants) {
  Result<ApiKeyTable> table = ApiKeyTable::Build({});
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->size(), 0u);
  EXPECT_EQ(table->TenantForKey("anything"), std::nullopt);
}

TEST(ApiKeyTable, FindsTenantsWhateverTheirPositionInALargeTable) {
  std::vector<std::pair<std::string, std::vector<std::string>>> tenants;
  for (int t = 0; t < 50; ++t) {
    std::vector<std::string> hashes;
    for (int k = 0; k < 4; ++k) hashes.push_back(ApiKeySha256Hex("key-" + std::to_string(t) + "-" + std::to_string(k)));
    tenants.emplace_back("tenant-" + std::to_string(t), std::move(hashes));
  }
  Result<ApiKeyTable> table = ApiKeyTable::Build(tenants);
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->size(), 200u);
  for (int t = 0; t < 50; ++t) {
    for (int k = 0; k < 4; ++k) {
      EXPECT_EQ(table->TenantForKey("key-" + std::to_string(t) + "-" + std::to_string(k)),
                "tenant-" + std::to_string(t));
    }
  }
}

TEST(ApiKeyTable, RefusesOneHashUnderTwoTenants) {
  Result<ApiKeyTable> table = ApiKeyTable::Build({
      {"acme", {ApiKeySha256Hex("shared")}},
      {"globex", {Upper(ApiKeySha256Hex("shared"))}},
  });
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(table.status().message().find("acme"), std::string::npos) << table.status().message();
  EXPECT_NE(table.status().message().find("globex"), std::string::npos) << table.status().message();
}

TEST(ApiKeyTable, KeepsAHashRepeatedUnderOneTenantOnce) {
  Result<ApiKeyTable> table = ApiKeyTable::Build({
      {"acme", {ApiKeySha256Hex("k"), ApiKeySha256Hex("k")}},
      {"acme", {ApiKeySha256Hex("k"), ApiKeySha256Hex("k2")}},
  });
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->size(), 2u);
  EXPECT_EQ(table->TenantForKey("k"), "acme");
  EXPECT_EQ(table->TenantForKey("k2"), "acme");
}

TEST(ApiKeyTable, RefusesMalformedHex) {
  const std::string good = ApiKeySha256Hex("k");
  for (const std::string& bad : {good.substr(1), good + "0", "g" + good.substr(1), std::string("stk_not-a-hash"),
                                 std::string(), " " + good.substr(1), "0x" + good.substr(2)}) {
    Result<ApiKeyTable> table = ApiKeyTable::Build({{"acme", {bad}}});
    ASSERT_FALSE(table.ok()) << bad;
    EXPECT_EQ(table.status().code(), StatusCode::kInvalidArgument);
    if (!bad.empty()) {
      EXPECT_EQ(table.status().message().find(bad), std::string::npos) << "no echo of the value";
    }
  }
}

TEST(ApiKeyTable, AcceptsUpperCaseHex) {
  Result<ApiKeyTable> table = ApiKeyTable::Build({{"acme", {Upper(ApiKeySha256Hex("acme-key"))}}});
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->TenantForKey("acme-key"), "acme");
}

TEST(ApiKeyTable, RefusesEmptyTenantId) {
  Result<ApiKeyTable> table = ApiKeyTable::Build({{"", {ApiKeySha256Hex("k")}}});
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), StatusCode::kInvalidArgument);
}

TEST(ApiKeyTable, ConcurrentLookupsAgree) {
  Result<ApiKeyTable> built =
      ApiKeyTable::Build({{"acme", {ApiKeySha256Hex("a")}}, {"globex", {ApiKeySha256Hex("g")}}});
  ASSERT_TRUE(built.ok());
  const ApiKeyTable& table = *built;
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (table.TenantForKey("a") != "acme" || table.TenantForKey("g") != "globex" || table.TenantForKey("x")) {
          ++wrong[t];
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace scaletwin
