// HS256 JWT verification. Error messages never quote token content: a token
// is attacker-controlled and messages end up in logs (newlines, terminal
// escapes, sheer size); numbers and the policy's own values are safe to show.
#include "real/auth/jwt_hs256.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "real/auth/base64url.h"

namespace scaletwin {
namespace {

using nlohmann::json;

constexpr size_t kHs256Bytes = 32;
constexpr size_t kMaxSecretFileBytes = 64 * 1024;

Status Fail(JwtError error, const std::string& detail) {
  return Status::InvalidArgument(std::string(JwtErrorName(error)) + ": " + detail);
}

// HMAC-SHA256 per RFC 2104. Aborts only if OpenSSL cannot allocate: returning
// a wrong MAC would silently refuse (or, worse, accept) every token.
std::array<unsigned char, kHs256Bytes> HmacSha256(std::string_view key, std::string_view data) {
  // HMAC() takes an int key length. RFC 2104 replaces a key longer than the
  // block size by its hash, so pre-hashing an oversized key changes nothing.
  std::string hashed_key;
  if (key.size() > static_cast<size_t>(INT_MAX)) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(key.data(), key.size(), digest, &len, EVP_sha256(), nullptr) != 1) std::abort();
    hashed_key.assign(reinterpret_cast<const char*>(digest), len);
    key = hashed_key;
  }
  // OpenSSL 3.0's HMAC() fails on a null key pointer even with length 0.
  static const unsigned char kNoKey = 0;
  const void* key_bytes = key.empty() ? static_cast<const void*>(&kNoKey) : key.data();
  std::array<unsigned char, kHs256Bytes> mac{};
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), out, &len) == nullptr ||
      len != kHs256Bytes) {
    std::abort();
  }
  std::memcpy(mac.data(), out, kHs256Bytes);
  return mac;
}

// Returns the JSON object `text` holds, or nullopt unless it is exactly one
// JSON object (valid UTF-8) in which no object repeats a member name.
// nlohmann keeps the last of duplicate members; another component reading the
// same token (a gateway, an audit job) may keep the first, and then the two
// would disagree about "alg" or the tenant. RFC 7515 §5.2 allows refusing.
std::optional<json> ParseObject(std::string_view text) {
  std::vector<std::set<std::string>> open_objects;
  bool duplicate = false;
  json::parser_callback_t on_event = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (const auto* name = parsed.get_ptr<const std::string*>();
            name != nullptr && !open_objects.empty() && !open_objects.back().insert(*name).second) {
          duplicate = true;
        }
        break;
      default:
        break;
    }
    return true;
  };
  try {
    json doc = json::parse(text.begin(), text.end(), on_event, /*allow_exceptions=*/false);
    if (doc.is_discarded() || duplicate || !doc.is_object()) return std::nullopt;
    return doc;
  } catch (const json::exception&) {
    // allow_exceptions=false covers syntax errors; this is belt and braces.
    return std::nullopt;
  }
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return sum;
}

// The smallest whole second not before NumericDate `v`, saturated to int64.
// For a whole `now`, "now >= x" and "now < x" mean the same with x replaced by
// ceil(x), so fractional dates need no floating-point comparison later.
// REQUIRES: v.is_number().
int64_t CeilSeconds(const json& v) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    return u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                          : static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  const double d = std::ceil(v.get<double>());  // finite: nlohmann refuses overflowing literals
  constexpr double kTwoTo63 = 9223372036854775808.0;
  if (d >= kTwoTo63) return std::numeric_limits<int64_t>::max();
  if (d < -kTwoTo63) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}

bool AudienceNames(const json& aud, const std::string& audience) {
  if (aud.is_string()) return aud.get_ref<const std::string&>() == audience;
  if (!aud.is_array()) return false;
  for (const json& entry : aud) {
    if (entry.is_string() && entry.get_ref<const std::string&>() == audience) return true;
  }
  return false;
}

}  // namespace

const char* JwtErrorName(JwtError error) {
  switch (error) {
    case JwtError::kMalformed:
      return "malformed";
    case JwtError::kAlgorithmNotAllowed:
      return "algorithm_not_allowed";
    case JwtError::kBadSignature:
      return "bad_signature";
    case JwtError::kExpired:
      return "expired";
    case JwtError::kNotYetValid:
      return "not_yet_valid";
    case JwtError::kWrongIssuer:
      return "wrong_issuer";
    case JwtError::kWrongAudience:
      return "wrong_audience";
    case JwtError::kMissingTenant:
      return "missing_tenant";
  }
  return "malformed";
}

JwtError JwtErrorOf(const Status& status) {
  const std::string& message = status.message();
  const size_t colon = message.find(": ");
  if (colon == std::string::npos) return JwtError::kMalformed;
  const std::string_view name(message.data(), colon);
  for (JwtError e :
       {JwtError::kMalformed, JwtError::kAlgorithmNotAllowed, JwtError::kBadSignature, JwtError::kExpired,
        JwtError::kNotYetValid, JwtError::kWrongIssuer, JwtError::kWrongAudience, JwtError::kMissingTenant}) {
    if (name == JwtErrorName(e)) return e;
  }
  return JwtError::kMalformed;
}

Result<JwtClaims> VerifyJwtHs256(std::string_view token, const JwtPolicy& policy, int64_t now_unix_seconds) {
  // 1. Shape. Everything before the signature check is done on untrusted
  // input, so it is bounded and never interprets a claim.
  if (token.size() > kMaxJwtBytes) {
    return Fail(JwtError::kMalformed, "token longer than " + std::to_string(kMaxJwtBytes) + " bytes");
  }
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Fail(JwtError::kMalformed, "a JWS compact token has exactly three '.'-separated segments");
  }
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_b64 = token.substr(dot2 + 1);
  std::optional<std::string> header_text = Base64UrlDecode(header_b64);
  std::optional<std::string> payload_text = Base64UrlDecode(payload_b64);
  std::optional<std::string> signature = Base64UrlDecode(signature_b64);
  if (!header_text || !payload_text || !signature) {
    return Fail(JwtError::kMalformed, "a segment is not canonical unpadded base64url");
  }
  std::optional<json> header = ParseObject(*header_text);
  if (!header) return Fail(JwtError::kMalformed, "header is not a JSON object with unique member names");
  // RFC 7515 §4.1.11: extensions listed in "crit" must be understood; we
  // understand none (e.g. RFC 7797 "b64":false would change what is signed).
  if (header->contains("crit")) return Fail(JwtError::kMalformed, "\"crit\" header extensions are not supported");

  // 2. Algorithm: fixed by policy, never chosen by the token.
  if (policy.algorithm != "HS256") {
    return Fail(JwtError::kAlgorithmNotAllowed, "policy algorithm '" + policy.algorithm + "' is not supported");
  }
  const auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string() || alg->get_ref<const std::string&>() != policy.algorithm) {
    return Fail(JwtError::kAlgorithmNotAllowed, "header \"alg\" is not " + policy.algorithm);
  }

  // 3. Signature, over the segments exactly as received.
  if (policy.secret.empty()) return Fail(JwtError::kBadSignature, "no secret configured");
  const std::array<unsigned char, kHs256Bytes> expected = HmacSha256(policy.secret, token.substr(0, dot2));
  // The length of a MAC is public; only its bytes need the constant-time compare.
  if (signature->size() != kHs256Bytes || CRYPTO_memcmp(expected.data(), signature->data(), kHs256Bytes) != 0) {
    return Fail(JwtError::kBadSignature, "HMAC-SHA256 signature does not match");
  }

  // 4. Claims set: trusted from here on, still type-checked.
  std::optional<json> payload = ParseObject(*payload_text);
  if (!payload) return Fail(JwtError::kMalformed, "payload is not a JSON object with unique member names");
  std::optional<int64_t> exp;
  std::optional<int64_t> nbf;
  if (const auto it = payload->find("exp"); it != payload->end()) {
    if (!it->is_number()) return Fail(JwtError::kMalformed, "\"exp\" is not a number");
    exp = CeilSeconds(*it);
  }
  if (const auto it = payload->find("nbf"); it != payload->end()) {
    if (!it->is_number()) return Fail(JwtError::kMalformed, "\"nbf\" is not a number");
    nbf = CeilSeconds(*it);
  }
  const std::string leeway = " (leeway " + std::to_string(policy.leeway_seconds) + " s)";

  // 5, 6. Validity window (RFC 7519 §4.1.4, §4.1.5).
  if (!exp && policy.require_exp) return Fail(JwtError::kExpired, "the token has no \"exp\" claim");
  if (exp && now_unix_seconds >= SaturatingAdd(*exp, policy.leeway_seconds)) {
    return Fail(JwtError::kExpired,
                "exp " + std::to_string(*exp) + " <= now " + std::to_string(now_unix_seconds) + leeway);
  }
  if (nbf && SaturatingAdd(now_unix_seconds, policy.leeway_seconds) < *nbf) {
    return Fail(JwtError::kNotYetValid,
                "nbf " + std::to_string(*nbf) + " > now " + std::to_string(now_unix_seconds) + leeway);
  }

  // 7. Issuer.
  if (policy.issuer) {
    const auto iss = payload->find("iss");
    if (iss == payload->end() || !iss->is_string() || iss->get_ref<const std::string&>() != *policy.issuer) {
      return Fail(JwtError::kWrongIssuer, "\"iss\" is not '" + *policy.issuer + "'");
    }
  }

  // 8. Audience.
  const auto aud = payload->find("aud");
  if (policy.audience) {
    if (aud == payload->end() || !AudienceNames(*aud, *policy.audience)) {
      return Fail(JwtError::kWrongAudience, "\"aud\" does not name '" + *policy.audience + "'");
    }
  } else if (aud != payload->end()) {
    return Fail(JwtError::kWrongAudience, "token is restricted by \"aud\" but this pod has no audience configured");
  }

  // 9. Tenant.
  const auto tenant = payload->find(policy.tenant_claim);
  if (tenant == payload->end() || !tenant->is_string() || tenant->get_ref<const std::string&>().empty()) {
    return Fail(JwtError::kMissingTenant, "no non-empty string claim \"" + policy.tenant_claim + "\"");
  }
  JwtClaims claims;
  claims.tenant = tenant->get<std::string>();
  claims.payload = std::move(*payload);
  return claims;
}

std::string SignJwtHs256(const nlohmann::json& payload, std::string_view secret, const nlohmann::json& extra_header) {
  json header = {{"alg", "HS256"}, {"typ", "JWT"}};
  // A null patch would null the header under RFC 7386; here it is the default
  // argument and means "no change".
  if (!extra_header.is_null()) header.merge_patch(extra_header);
  const auto dump = [](const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); };
  std::string signing_input = Base64UrlEncode(dump(header)) + "." + Base64UrlEncode(dump(payload));
  const std::array<unsigned char, kHs256Bytes> mac = HmacSha256(secret, signing_input);
  return signing_input + "." + Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
}

Result<std::string> ReadJwtSecretFile(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) return Status::IOError("cannot open JWT secret file " + path + ": " + std::strerror(errno));
  std::string secret;
  char buffer[4096];
  while (secret.size() <= kMaxSecretFileBytes) {
    const size_t n = std::fread(buffer, 1, sizeof(buffer), file.get());
    secret.append(buffer, n);
    if (n < sizeof(buffer)) break;
  }
  if (std::ferror(file.get())) {
    return Status::IOError("cannot read JWT secret file " + path + ": " + std::strerror(errno));
  }
  if (secret.size() > kMaxSecretFileBytes) {
    return Status::InvalidArgument("JWT secret file " + path + " is larger than " +
                                   std::to_string(kMaxSecretFileBytes) + " bytes");
  }
  if (secret.ends_with("\r\n")) {
    secret.resize(secret.size() - 2);
  } else if (secret.ends_with('\n')) {
    secret.pop_back();
  }
  if (secret.empty()) return Status::InvalidArgument("JWT secret file " + path + " holds an empty secret");
  return secret;
}

}  // namespace scaletwin
