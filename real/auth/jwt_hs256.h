// JWT bearer tokens signed with HS256: how a shortener pod learns a request's
// tenant from a token minted by the operator's identity provider.
//
// Verifies a JWS compact serialization (RFC 7515 §7.1) carrying a JWT claims
// set (RFC 7519) against one shared secret. Only HMAC-SHA256 is ever
// accepted, whatever the token's header says: a verifier that lets the token
// choose its algorithm can be fooled by "alg":"none" or by an RSA public key
// reused as an HMAC secret. The checks run in this order, and the first
// failure is reported:
//
//   1. shape: at most kMaxJwtBytes, three canonical unpadded base64url
//      segments (see base64url.h), a JSON-object header without
//      duplicate members or "crit"                          → kMalformed
//   2. header "alg" == policy.algorithm == "HS256"          → kAlgorithmNotAllowed
//   3. HMAC-SHA256(secret, "<header>.<payload>"), compared
//      in constant time; an empty secret matches nothing   → kBadSignature
//   4. payload: a JSON object without duplicate members;
//      "exp"/"nbf", when present, numbers                  → kMalformed
//   5. now >= exp + leeway                                  → kExpired
//   6. now + leeway < nbf                                   → kNotYetValid
//   7. "iss" == policy.issuer, when one is configured       → kWrongIssuer
//   8. "aud" (a string, or an array holding it) names
//      policy.audience; a token that carries "aud" when no
//      audience is configured is refused too, as RFC 7519
//      §4.1.3 requires                                      → kWrongAudience
//   9. a non-empty string at policy.tenant_claim           → kMissingTenant
//
// No claim is read before the signature has been checked. Nothing here throws:
// JSON errors are caught inside. Errors come back as Result<JwtClaims> whose
// Status (kInvalidArgument) has a message "<JwtErrorName>: <detail>", so logs
// stay readable and JwtErrorOf() recovers the reason for metrics labels.
//
//   JwtPolicy policy{.secret = *ReadJwtSecretFile("/var/run/secrets/jwt/secret"),
//                    .audience = "scaletwin"};
//   Result<JwtClaims> claims = VerifyJwtHs256(token, policy, UnixNow());
//   if (!claims.ok()) return Unauthorized(JwtErrorName(JwtErrorOf(claims.status())));
//   ServeFor(claims->tenant);
//
// Thread-safety: free functions over their arguments; concurrent calls are
// safe (OpenSSL 3 one-shot HMAC needs no locking).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "model/status.h"

namespace scaletwin {

// Longer tokens are refused before any decoding, so a huge header costs
// nothing. Real HS256 tokens with a handful of claims are a few hundred bytes.
inline constexpr size_t kMaxJwtBytes = 8 * 1024;

// What a pod accepts. Aggregate: designated initialisers read well at call sites.
struct JwtPolicy {
  // The raw HMAC key bytes (not base64-decoded). RFC 7518 §3.2 asks for at
  // least 32 bytes; shorter ones work but are guessable offline.
  std::string secret;
  // Must be "HS256"; exists so a configured "RS256" fails every token loudly
  // instead of being silently ignored.
  std::string algorithm = "HS256";
  std::optional<std::string> issuer;
  std::optional<std::string> audience;
  std::string tenant_claim = "tenant";
  // Clock skew allowed, in seconds, on both exp and nbf.
  int64_t leeway_seconds = 0;
  // A token without "exp" would be valid forever (RFC 8725 §3.10 advises
  // bounded lifetimes): refused as kExpired unless this is false.
  bool require_exp = true;
};

// Why a token was refused. The names below are stable: they label metrics.
enum class JwtError {
  kMalformed,
  kAlgorithmNotAllowed,
  kBadSignature,
  kExpired,
  kNotYetValid,
  kWrongIssuer,
  kWrongAudience,
  kMissingTenant,
};

// "malformed", "algorithm_not_allowed", "bad_signature", "expired",
// "not_yet_valid", "wrong_issuer", "wrong_audience", "missing_tenant".
const char* JwtErrorName(JwtError error);

// The reason carried by a Status that VerifyJwtHs256 returned.
// REQUIRES: !status.ok() and status came from VerifyJwtHs256; any other
// Status yields kMalformed.
JwtError JwtErrorOf(const Status& status);

struct JwtClaims {
  std::string tenant;      // the value of policy.tenant_claim
  nlohmann::json payload;  // the whole verified claims set (a JSON object)
};

// Verifies `token` (the text after "Bearer ") as described in the file
// comment, at wall-clock time `now_unix_seconds`.
Result<JwtClaims> VerifyJwtHs256(std::string_view token, const JwtPolicy& policy, int64_t now_unix_seconds);

// Returns a compact HS256 JWS of `payload`, for tests and tooling. The header
// is {"alg":"HS256","typ":"JWT"} with `extra_header` applied as a JSON merge
// patch (RFC 7386): members are added or replaced, a null member removes one,
// and a non-object patch replaces the whole header, except that a null patch
// (the default) changes nothing. So tests can forge tokens
// (e.g. {"alg":"none"}) that the verifier must refuse; the signature is always
// HMAC-SHA256 with `secret`. Never throws: invalid UTF-8 is replaced.
std::string SignJwtHs256(const nlohmann::json& payload, std::string_view secret,
                         const nlohmann::json& extra_header = {});

// Reads a shared secret mounted from a Kubernetes Secret: the whole file, with
// one trailing "\n" or "\r\n" removed (editors and `echo` add one; the signer
// did not sign with it). Errors: IOError naming `path` when it cannot be read;
// InvalidArgument when the secret is empty or the file exceeds 64 KiB (a
// mistaken path such as /dev/zero must not be read forever).
Result<std::string> ReadJwtSecretFile(const std::string& path);

}  // namespace scaletwin
