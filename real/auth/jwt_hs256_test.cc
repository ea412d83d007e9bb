// HS256 JWT verification: the RFC 7515 A.1 vector, round trips, and one test
// per refusal. Forged tokens are built either with SignJwtHs256's header patch
// or, for JSON the signer cannot produce (duplicate members, arrays), from raw
// text signed here with OpenSSL directly.
#include "real/auth/jwt_hs256.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>

#include "real/auth/base64url.h"

namespace scaletwin {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1'700'000'000;
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";

// Each test checks one rule; the exp requirement has a test of its own
// (JwtHs256RequireExp), so tokens here may omit exp.
JwtPolicy Policy() {
  JwtPolicy policy;
  policy.secret = kSecret;
  policy.require_exp = false;
  return policy;
}

// A compact token from raw header and payload text, validly signed.
std::string SignRaw(const std::string& header_text, const std::string& payload_text,
                    const std::string& secret = kSecret) {
  const std::string input = Base64UrlEncode(header_text) + "." + Base64UrlEncode(payload_text);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + Base64UrlEncode(std::string(reinterpret_cast<const char*>(mac), len));
}

// Asserts that verification fails with `error`, and returns the message.
std::string RefusalOf(std::string_view token, const JwtPolicy& policy, JwtError error, int64_t now = kNow) {
  Result<JwtClaims> r = VerifyJwtHs256(token, policy, now);
  EXPECT_FALSE(r.ok()) << "accepted; expected " << JwtErrorName(error);
  if (r.ok()) return "";
  EXPECT_EQ(JwtErrorOf(r.status()), error) << r.status().message();
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

// Valid for an hour from kNow: the policy requires exp by default.
const json kClaims = {{"tenant", "acme"}, {"sub", "user-1"}, {"exp", kNow + 3600}};

// --- Known-answer vector ------------------------------------------------------

// RFC 7515 Appendix A.1: its JWK "k" is the base64url of the 64-byte key.
constexpr char kRfcKey[] = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
constexpr char kRfcToken[] =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

JwtPolicy RfcPolicy() {
  JwtPolicy policy;
  policy.secret = Base64UrlDecode(kRfcKey).value();
  policy.tenant_claim = "iss";
  return policy;
}

TEST(JwtHs256, VerifiesRfc7515AppendixA1Example) {
  Result<JwtClaims> r = VerifyJwtHs256(kRfcToken, RfcPolicy(), /*now=*/1300819379);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tenant, "joe");
  EXPECT_EQ(r->payload["exp"], 1300819380);
  EXPECT_EQ(r->payload["http://example.com/is_root"], true);
}

TEST(JwtHs256, Rfc7515AppendixA1ExampleExpiresAtItsExp) {
  RefusalOf(kRfcToken, RfcPolicy(), JwtError::kExpired, /*now=*/1300819380);
}

TEST(JwtHs256, Rfc7515AppendixA1ExampleFailsUnderAnotherKey) {
  JwtPolicy policy = RfcPolicy();
  policy.secret[0] ^= 1;
  RefusalOf(kRfcToken, policy, JwtError::kBadSignature, 1300819379);
}

// --- Round trips ---------------------------------------------------------------

TEST(JwtHs256, RoundTripsSignedClaims) {
  json claims = kClaims;
  claims["exp"] = kNow + 60;
  claims["nbf"] = kNow - 60;
  const std::string token = SignJwtHs256(claims, kSecret);
  Result<JwtClaims> r = VerifyJwtHs256(token, Policy(), kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tenant, "acme");
  EXPECT_EQ(r->payload, claims);
}

TEST(JwtHs256, SignedHeaderNamesHs256AndJwt) {
  const std::string token = SignJwtHs256(kClaims, kSecret);
  EXPECT_EQ(Base64UrlDecode(token.substr(0, token.find('.'))), R"({"alg":"HS256","typ":"JWT"})");
}

TEST(JwtHs256, ReadsTheTenantFromTheConfiguredClaim) {
  JwtPolicy policy = Policy();
  policy.tenant_claim = "org";
  Result<JwtClaims> r = VerifyJwtHs256(SignJwtHs256({{"org", "globex"}, {"tenant", "acme"}}, kSecret), policy, kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tenant, "globex");
}

TEST(JwtHs256, AcceptsMatchingIssuerAndAudience) {
  JwtPolicy policy = Policy();
  policy.issuer = "https://idp.example";
  policy.audience = "scaletwin";
  json claims = kClaims;
  claims["iss"] = "https://idp.example";
  claims["aud"] = "scaletwin";
  EXPECT_TRUE(VerifyJwtHs256(SignJwtHs256(claims, kSecret), policy, kNow).ok());
  claims["aud"] = {"other", "scaletwin"};
  EXPECT_TRUE(VerifyJwtHs256(SignJwtHs256(claims, kSecret), policy, kNow).ok());
}

// --- Validity window -------------------------------------------------------------

TEST(JwtHs256, RefusesTokenAtAndAfterExp) {
  json claims = kClaims;
  claims["exp"] = kNow;
  const std::string token = SignJwtHs256(claims, kSecret);
  EXPECT_TRUE(VerifyJwtHs256(token, Policy(), kNow - 1).ok());
  RefusalOf(token, Policy(), JwtError::kExpired, kNow);
  RefusalOf(token, Policy(), JwtError::kExpired, kNow + 1000);
}

TEST(JwtHs256, RefusesTokenBeforeNbf) {
  json claims = kClaims;
  claims["nbf"] = kNow + 1;
  const std::string token = SignJwtHs256(claims, kSecret);
  RefusalOf(token, Policy(), JwtError::kNotYetValid, kNow);
  EXPECT_TRUE(VerifyJwtHs256(token, Policy(), kNow + 1).ok());
}

TEST(JwtHs256, HonoursLeewayOnExp) {
  json claims = kClaims;
  claims["exp"] = kNow - 5;
  const std::string token = SignJwtHs256(claims, kSecret);
  JwtPolicy policy = Policy();
  policy.leeway_seconds = 6;
  EXPECT_TRUE(VerifyJwtHs256(token, policy, kNow).ok());
  policy.leeway_seconds = 5;
  RefusalOf(token, policy, JwtError::kExpired);
}

TEST(JwtHs256, HonoursLeewayOnNbf) {
  json claims = kClaims;
  claims["nbf"] = kNow + 5;
  const std::string token = SignJwtHs256(claims, kSecret);
  JwtPolicy policy = Policy();
  policy.leeway_seconds = 5;
  EXPECT_TRUE(VerifyJwtHs256(token, policy, kNow).ok());
  policy.leeway_seconds = 4;
  RefusalOf(token, policy, JwtError::kNotYetValid);
}

TEST(JwtHs256, RoundsFractionalDatesWithoutExtendingValidity) {
  json claims = kClaims;
  claims["exp"] = kNow + 0.5;
  EXPECT_TRUE(VerifyJwtHs256(SignJwtHs256(claims, kSecret), Policy(), kNow).ok());
  RefusalOf(SignJwtHs256(claims, kSecret), Policy(), JwtError::kExpired, kNow + 1);
  claims = kClaims;
  claims["nbf"] = kNow + 0.5;
  RefusalOf(SignJwtHs256(claims, kSecret), Policy(), JwtError::kNotYetValid, kNow);
  EXPECT_TRUE(VerifyJwtHs256(SignJwtHs256(claims, kSecret), Policy(), kNow + 1).ok());
}

TEST(JwtHs256, ExtremeDatesSaturateInsteadOfOverflowing) {
  JwtPolicy policy = Policy();
  policy.leeway_seconds = 100;
  for (const json& far :
       {json(std::numeric_limits<int64_t>::max()), json(std::numeric_limits<uint64_t>::max()), json(1e300)}) {
    json claims = kClaims;
    claims["exp"] = far;
    EXPECT_TRUE(VerifyJwtHs256(SignJwtHs256(claims, kSecret), policy, kNow).ok()) << far;
    claims = kClaims;
    claims["nbf"] = far;
    RefusalOf(SignJwtHs256(claims, kSecret), policy, JwtError::kNotYetValid);
  }
  json claims = kClaims;
  claims["exp"] = -1e300;
  RefusalOf(SignJwtHs256(claims, kSecret), policy, JwtError::kExpired);
  claims = kClaims;
  claims["nbf"] = std::numeric_limits<int64_t>::min();
  EXPECT_TRUE(VerifyJwtHs256(SignJwtHs256(claims, kSecret), policy, kNow).ok());
}

TEST(JwtHs256, RefusesNonNumericExpOrNbfAsMalformed) {
  for (const char* name : {"exp", "nbf"}) {
    for (const json& bad : {json("1700000060"), json(nullptr), json(true), json::array({kNow + 60})}) {
      json claims = kClaims;
      claims[name] = bad;
      RefusalOf(SignJwtHs256(claims, kSecret), Policy(), JwtError::kMalformed);
    }
  }
}

// --- Issuer and audience -----------------------------------------------------------

TEST(JwtHs256, RefusesWrongIssuer) {
  JwtPolicy policy = Policy();
  policy.issuer = "https://idp.example";
  json claims = kClaims;
  claims["iss"] = "https://evil.example";
  RefusalOf(SignJwtHs256(claims, kSecret), policy, JwtError::kWrongIssuer);
  claims["iss"] = json::array({"https://idp.example"});
  RefusalOf(SignJwtHs256(claims, kSecret), policy, JwtError::kWrongIssuer);
}

TEST(JwtHs256, RefusesMissingIssuerWhenOneIsConfigured) {
  JwtPolicy policy = Policy();
  policy.issuer = "https://idp.example";
  RefusalOf(SignJwtHs256(kClaims, kSecret), policy, JwtError::kWrongIssuer);
}

TEST(JwtHs256, RefusesWrongAudienceString) {
  JwtPolicy policy = Policy();
  policy.audience = "scaletwin";
  json claims = kClaims;
  claims["aud"] = "scaletwin-staging";
  RefusalOf(SignJwtHs256(claims, kSecret), policy, JwtError::kWrongAudience);
}

TEST(JwtHs256, RefusesWrongAudienceArray) {
  JwtPolicy policy = Policy();
  policy.audience = "scaletwin";
  json claims = kClaims;
  claims["aud"] = {"billing", "scaletwin-staging", 7};
  RefusalOf(SignJwtHs256(claims, kSecret), policy, JwtError::kWrongAudience);
  claims["aud"] = json::array();
  RefusalOf(SignJwtHs256(claims, kSecret), policy, JwtError::kWrongAudience);
}

TEST(JwtHs256, RefusesMissingAudienceWhenOneIsConfigured) {
  JwtPolicy policy = Policy();
  policy.audience = "scaletwin";
  RefusalOf(SignJwtHs256(kClaims, kSecret), policy, JwtError::kWrongAudience);
}

TEST(JwtHs256, RefusesAudienceRestrictedTokenWhenNoAudienceIsConfigured) {
  // RFC 7519 §4.1.3: a token meant for "billing" must not open the shortener.
  json claims = kClaims;
  claims["aud"] = "billing";
  RefusalOf(SignJwtHs256(claims, kSecret), Policy(), JwtError::kWrongAudience);
}

// --- Algorithm ------------------------------------------------------------------------

TEST(JwtHs256, RefusesAlgNoneEvenWithEmptySignature) {
  const std::string token =
      Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." + Base64UrlEncode(kClaims.dump()) + ".";
  RefusalOf(token, Policy(), JwtError::kAlgorithmNotAllowed);
}

TEST(JwtHs256, RefusesAlgNoneEvenWithAValidHmacSignature) {
  RefusalOf(SignJwtHs256(kClaims, kSecret, {{"alg", "none"}}), Policy(), JwtError::kAlgorithmNotAllowed);
}

TEST(JwtHs256, RefusesOtherAlgorithmsInTheHeader) {
  for (const char* alg : {"HS512", "HS384", "RS256", "ES256", "hs256", "HS256 "}) {
    RefusalOf(SignJwtHs256(kClaims, kSecret, {{"alg", alg}}), Policy(), JwtError::kAlgorithmNotAllowed);
  }
}

TEST(JwtHs256, RefusesHeaderWithoutAStringAlg) {
  RefusalOf(SignJwtHs256(kClaims, kSecret, {{"alg", nullptr}}), Policy(), JwtError::kAlgorithmNotAllowed);
  RefusalOf(SignJwtHs256(kClaims, kSecret, {{"alg", 256}}), Policy(), JwtError::kAlgorithmNotAllowed);
  RefusalOf(SignJwtHs256(kClaims, kSecret, {{"alg", {"HS256"}}}), Policy(), JwtError::kAlgorithmNotAllowed);
}

TEST(JwtHs256, RefusesEveryTokenWhenThePolicyNamesAnotherAlgorithm) {
  JwtPolicy policy = Policy();
  policy.algorithm = "RS256";
  RefusalOf(SignJwtHs256(kClaims, kSecret, {{"alg", "RS256"}}), policy, JwtError::kAlgorithmNotAllowed);
  policy.algorithm = "none";
  RefusalOf(Base64UrlEncode(R"({"alg":"none"})") + "." + Base64UrlEncode(kClaims.dump()) + ".", policy,
            JwtError::kAlgorithmNotAllowed);
}

// --- Signature --------------------------------------------------------------------------

TEST(JwtHs256, RefusesTamperedPayload) {
  const std::string good = SignJwtHs256(kClaims, kSecret);
  json evil = kClaims;
  evil["tenant"] = "globex";
  const std::string other = SignJwtHs256(evil, "attacker's own secret");
  // acme's header and signature around globex's payload.
  const size_t d1 = good.find('.'), d2 = good.rfind('.');
  const std::string tampered = good.substr(0, d1 + 1) +
                               other.substr(other.find('.') + 1, other.rfind('.') - other.find('.') - 1) +
                               good.substr(d2);
  RefusalOf(tampered, Policy(), JwtError::kBadSignature);
}

TEST(JwtHs256, RefusesTamperedSignature) {
  std::string token = SignJwtHs256(kClaims, kSecret);
  char& c = token[token.rfind('.') + 1];
  c = c == 'A' ? 'B' : 'A';
  RefusalOf(token, Policy(), JwtError::kBadSignature);
}

TEST(JwtHs256, RefusesTruncatedOrEmptySignature) {
  const std::string token = SignJwtHs256(kClaims, kSecret);
  const std::string input = token.substr(0, token.rfind('.'));
  const std::string mac = Base64UrlDecode(token.substr(token.rfind('.') + 1)).value();
  RefusalOf(input + "." + Base64UrlEncode(mac.substr(0, 31)), Policy(), JwtError::kBadSignature);
  RefusalOf(input + "." + Base64UrlEncode(mac + "x"), Policy(), JwtError::kBadSignature);
  RefusalOf(input + ".", Policy(), JwtError::kBadSignature);
}

TEST(JwtHs256, RefusesTokenSignedWithAnotherSecret) {
  RefusalOf(SignJwtHs256(kClaims, "another secret of thirty-two byt"), Policy(), JwtError::kBadSignature);
}

TEST(JwtHs256, RefusesEveryTokenWhenNoSecretIsConfigured) {
  JwtPolicy policy = Policy();
  policy.secret.clear();
  RefusalOf(SignJwtHs256(kClaims, ""), policy, JwtError::kBadSignature);
}

TEST(JwtHs256, RefusesEverySingleCharacterChange) {
  const std::string token = SignJwtHs256(kClaims, kSecret);
  for (size_t i = 0; i < token.size(); ++i) {
    for (char replacement : {'A', 'b', '-', '.', '='}) {
      if (token[i] == replacement) continue;
      std::string changed = token;
      changed[i] = replacement;
      EXPECT_FALSE(VerifyJwtHs256(changed, Policy(), kNow).ok()) << "position " << i << " -> " << replacement;
    }
  }
}

// --- Malformed ------------------------------------------------------------------------------

TEST(JwtHs256, RefusesTwoOrFourSegmentsAsMalformed) {
  const std::string token = SignJwtHs256(kClaims, kSecret);
  RefusalOf(token.substr(0, token.rfind('.')), Policy(), JwtError::kMalformed);
  RefusalOf(token + "." + token.substr(token.rfind('.') + 1), Policy(), JwtError::kMalformed);
  RefusalOf("", Policy(), JwtError::kMalformed);
  RefusalOf("..", Policy(), JwtError::kMalformed);
}

TEST(JwtHs256, RefusesBadBase64AsMalformed) {
  const std::string token = SignJwtHs256(kClaims, kSecret);
  std::string plus = token;
  plus[3] = '+';
  RefusalOf(plus, Policy(), JwtError::kMalformed);
  // Standard padding on a segment is not base64url as JOSE uses it.
  const size_t d1 = token.find('.');
  std::string padded = token.substr(0, d1) + "==" + token.substr(d1);
  RefusalOf(padded, Policy(), JwtError::kMalformed);
  RefusalOf(token + " ", Policy(), JwtError::kMalformed);
}

TEST(JwtHs256, RefusesNonJsonHeaderAsMalformed) {
  RefusalOf(SignRaw("alg=HS256", kClaims.dump()), Policy(), JwtError::kMalformed);
  RefusalOf(SignRaw("", kClaims.dump()), Policy(), JwtError::kMalformed);
  RefusalOf(SignRaw(R"({"alg":"HS256"} {})", kClaims.dump()), Policy(), JwtError::kMalformed);
  RefusalOf(SignJwtHs256(kClaims, kSecret, json::array({"HS256"})), Policy(), JwtError::kMalformed);
}

TEST(JwtHs256, RefusesNonObjectPayloadAsMalformed) {
  const std::string header = R"({"alg":"HS256"})";
  RefusalOf(SignRaw(header, R"([{"tenant":"acme"}])"), Policy(), JwtError::kMalformed);
  RefusalOf(SignRaw(header, R"("acme")"), Policy(), JwtError::kMalformed);
  RefusalOf(SignRaw(header, ""), Policy(), JwtError::kMalformed);
  RefusalOf(SignRaw(header, R"({"tenant":"acme")"), Policy(), JwtError::kMalformed);
  RefusalOf(SignRaw(header, "{\"tenant\":\"\xff\"}"), Policy(), JwtError::kMalformed);  // not UTF-8
}

TEST(JwtHs256, RefusesDuplicateHeaderMembersThatCouldHideAnAlgorithm) {
  // nlohmann alone would keep the last "alg" and accept this token.
  RefusalOf(SignRaw(R"({"alg":"none","alg":"HS256"})", kClaims.dump()), Policy(), JwtError::kMalformed);
}

TEST(JwtHs256, RefusesDuplicateClaimsThatCouldNameTwoTenants) {
  const std::string header = R"({"alg":"HS256"})";
  RefusalOf(SignRaw(header, R"({"tenant":"acme","tenant":"globex"})"), Policy(), JwtError::kMalformed);
  RefusalOf(SignRaw(header, R"({"tenant":"acme","ctx":{"a":1,"a":2}})"), Policy(), JwtError::kMalformed);
  // The same name in sibling objects is not a duplicate.
  EXPECT_TRUE(VerifyJwtHs256(SignRaw(header, R"({"tenant":"acme","x":{"a":1},"y":{"a":2}})"), Policy(), kNow).ok());
}

TEST(JwtHs256, RefusesCriticalHeaderExtensions) {
  RefusalOf(SignJwtHs256(kClaims, kSecret, {{"crit", {"b64"}}, {"b64", false}}), Policy(), JwtError::kMalformed);
}

TEST(JwtHs256, RefusesTokensLongerThanTheLimitAsMalformed) {
  // Grow one claim until the token crosses kMaxJwtBytes: the last token within
  // the limit verifies, the first one beyond it is refused.
  std::string last_within, first_beyond;
  for (size_t pad = 0; first_beyond.empty(); ++pad) {
    json claims = kClaims;
    claims["pad"] = std::string(pad, 'x');
    std::string token = SignJwtHs256(claims, kSecret);
    (token.size() <= kMaxJwtBytes ? last_within : first_beyond) = std::move(token);
  }
  EXPECT_TRUE(VerifyJwtHs256(last_within, Policy(), kNow).ok());
  const std::string message = RefusalOf(first_beyond, Policy(), JwtError::kMalformed);
  EXPECT_NE(message.find("longer than 8192"), std::string::npos) << message;
}

// --- Tenant -------------------------------------------------------------------------------------

TEST(JwtHs256, RefusesMissingTenantClaim) {
  RefusalOf(SignJwtHs256({{"sub", "user-1"}}, kSecret), Policy(), JwtError::kMissingTenant);
}

TEST(JwtHs256, RefusesNonStringOrEmptyTenantClaim) {
  for (const json& bad : {json(42), json(nullptr), json(""), json::array({"acme"}), json::object()}) {
    RefusalOf(SignJwtHs256({{"tenant", bad}}, kSecret), Policy(), JwtError::kMissingTenant);
  }
}

// --- Errors ---------------------------------------------------------------------------------------

TEST(JwtHs256, ErrorNamesAreStableAndRecoverableFromTheStatus) {
  const std::pair<JwtError, const char*> names[] = {
      {JwtError::kMalformed, "malformed"},          {JwtError::kAlgorithmNotAllowed, "algorithm_not_allowed"},
      {JwtError::kBadSignature, "bad_signature"},   {JwtError::kExpired, "expired"},
      {JwtError::kNotYetValid, "not_yet_valid"},    {JwtError::kWrongIssuer, "wrong_issuer"},
      {JwtError::kWrongAudience, "wrong_audience"}, {JwtError::kMissingTenant, "missing_tenant"},
  };
  for (const auto& [error, name] : names) {
    EXPECT_STREQ(JwtErrorName(error), name);
    EXPECT_EQ(JwtErrorOf(Status::InvalidArgument(std::string(name) + ": detail")), error) << name;
  }
  EXPECT_EQ(JwtErrorOf(Status::IOError("disk on fire")), JwtError::kMalformed);
}

TEST(JwtHs256, ErrorMessagesDoNotEchoTokenContent) {
  JwtPolicy policy = Policy();
  policy.issuer = "https://idp.example";
  const std::string message =
      RefusalOf(SignJwtHs256({{"tenant", "acme"}, {"iss", "\x1b[2Jevil\nforged log line"}}, kSecret), policy,
                JwtError::kWrongIssuer);
  EXPECT_EQ(message.find("evil"), std::string::npos) << message;
  EXPECT_NE(message.find("https://idp.example"), std::string::npos) << message;
}

TEST(JwtHs256, NeverThrowsOnRandomInput) {
  std::mt19937 rng(7515);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(0, 300);
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
  for (int i = 0; i < 3000; ++i) {
    std::string token;
    const int n = length(rng);
    for (int j = 0; j < n; ++j) {
      // Half the cases stay within the token alphabet to get past the shape check.
      token += i % 2 ? static_cast<char>(byte(rng)) : alphabet[byte(rng) % alphabet.size()];
    }
    EXPECT_NO_THROW(EXPECT_FALSE(VerifyJwtHs256(token, Policy(), kNow).ok()));
  }
  for (const char* json_text : {"[[[[[[[[[[[[[[[[[[[[", "{\"a\":", "1e400", "\"\\ud800\"", "{\"a\":nan}"}) {
    EXPECT_NO_THROW(RefusalOf(SignRaw(R"({"alg":"HS256"})", json_text), Policy(), JwtError::kMalformed));
  }
}

// --- Secret file ----------------------------------------------------------------------------------

class JwtSecretFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("jwt_secret_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& bytes) {
    const std::string path = (dir_ / "secret").string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(JwtSecretFileTest, StripsExactlyOneTrailingNewline) {
  EXPECT_EQ(ReadJwtSecretFile(Write("s3cret\n")).value(), "s3cret");
  EXPECT_EQ(ReadJwtSecretFile(Write("s3cret\r\n")).value(), "s3cret");
  EXPECT_EQ(ReadJwtSecretFile(Write("s3cret\n\n")).value(), "s3cret\n");
  EXPECT_EQ(ReadJwtSecretFile(Write("s3cret")).value(), "s3cret");
  EXPECT_EQ(ReadJwtSecretFile(Write(" s3cret \t")).value(), " s3cret \t");
}

TEST_F(JwtSecretFileTest, KeepsBinarySecretsIntact) {
  const std::string binary("\0\x01\xff\n\x7f", 5);
  EXPECT_EQ(ReadJwtSecretFile(Write(binary + "\n")).value(), binary);
}

TEST_F(JwtSecretFileTest, ReadsSecretsLargerThanOneBuffer) {
  const std::string big(10000, 'k');
  EXPECT_EQ(ReadJwtSecretFile(Write(big)).value(), big);
}

TEST_F(JwtSecretFileTest, MissingFileIsAnIOErrorNamingThePath) {
  const std::string path = (dir_ / "absent").string();
  Result<std::string> r = ReadJwtSecretFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIOError);
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
}

TEST_F(JwtSecretFileTest, DirectoryIsAnIOError) {
  Result<std::string> r = ReadJwtSecretFile(dir_.string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIOError) << r.status().ToString();
}

TEST_F(JwtSecretFileTest, EmptySecretIsInvalid) {
  for (const char* bytes : {"", "\n", "\r\n"}) {
    Result<std::string> r = ReadJwtSecretFile(Write(bytes));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST_F(JwtSecretFileTest, OversizedFileIsInvalid) {
  Result<std::string> r = ReadJwtSecretFile(Write(std::string(64 * 1024 + 1, 'k')));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ReadJwtSecretFile(Write(std::string(64 * 1024, 'k'))).ok());
}

TEST_F(JwtSecretFileTest, SecretFromFileVerifiesTokensSignedWithoutTheNewline) {
  JwtPolicy policy;
  policy.secret = ReadJwtSecretFile(Write(std::string(kSecret) + "\n")).value();
  EXPECT_TRUE(VerifyJwtHs256(SignJwtHs256(kClaims, kSecret), policy, kNow).ok());
}

}  // namespace
}  // namespace scaletwin

namespace scaletwin {
namespace {

TEST(JwtHs256RequireExp, ATokenWithoutExpIsRefusedUnlessThePolicyAllowsIt) {
  JwtPolicy policy;
  policy.secret = "0123456789abcdef0123456789abcdef";
  const std::string token = SignJwtHs256({{"tenant", "acme"}}, policy.secret);
  Result<JwtClaims> refused = VerifyJwtHs256(token, policy, 1'700'000'000);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(JwtErrorOf(refused.status()), JwtError::kExpired);
  policy.require_exp = false;
  Result<JwtClaims> allowed = VerifyJwtHs256(token, policy, 1'700'000'000);
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  EXPECT_EQ(allowed->tenant, "acme");
}

}  // namespace
}  // namespace scaletwin
