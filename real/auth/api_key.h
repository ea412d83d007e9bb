// API keys: minting them, reading them off a request, and finding their tenant.
//
// A key is "stk_" + 43 base64url characters (32 bytes from OpenSSL's CSPRNG,
// 256 bits): long and random enough that one unsalted SHA-256 per request is
// a sound way to store and look it up (see real/storage/api_key_hash.h). The
// "stk_" prefix lets leaked-secret scanners recognise scaletwin keys.
//
// ApiKeyTable is the pod's in-memory map from key hash to tenant, built once
// from configuration. A lookup hashes the presented key and compares the hash
// with every stored hash in constant time, with no early exit: a response
// time that depended on how many leading bytes matched, or on which entry
// matched, would let an attacker probe the table. The cost is O(number of
// keys) 32-byte compares per request — negligible for the hundreds of keys a
// pod's configuration holds; a table of millions belongs in storage.
//
//   Result<ApiKeyTable> table = ApiKeyTable::Build({{"acme", {ApiKeySha256Hex(key)}}});
//   if (!table.ok()) return table.status();
//   std::optional<std::string_view> token = BearerToken(request.Header("Authorization"));
//   std::optional<std::string> tenant = token ? table->TenantForKey(*token) : std::nullopt;
//
// Thread-safety: NewApiKey and BearerToken are safe to call concurrently. An
// ApiKeyTable is immutable once built; concurrent const calls are safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/status.h"

namespace scaletwin {

inline constexpr std::string_view kApiKeyPrefix = "stk_";
inline constexpr size_t kApiKeyRandomBytes = 32;
// "stk_" + unpadded base64url of 32 bytes.
inline constexpr size_t kApiKeyLength = 4 + 43;

// Returns a fresh key of the form above. Fails (kInternal, with OpenSSL's
// reason) only if the CSPRNG cannot be seeded; never returns a weak key.
Result<std::string> NewApiKey();

// Returns the credential in an Authorization header value "Bearer <token>":
// the scheme is case-insensitive (RFC 9110 §11.1), one or more spaces follow
// it, and the token is RFC 6750's b64token (letters, digits, - . _ ~ + /, then
// optional '='), which covers both API keys and JWTs. Spaces or tabs around
// the whole value are ignored, as HTTP field values exclude them. Returns
// nullopt for any other scheme, an empty token, or a token with spaces or
// other characters. The result views `authorization_header`.
std::optional<std::string_view> BearerToken(std::string_view authorization_header);

class ApiKeyTable {
 public:
  // Each pair is (tenant id, SHA-256 hex digests of that tenant's keys). A
  // digest is 64 hex digits in either case; it is stored lower-case. A tenant
  // may appear with no keys (it authenticates by JWT only) or more than once
  // (its lists are merged); a digest repeated under the same tenant is kept
  // once. Fails with kInvalidArgument on an empty tenant id, a digest that is
  // not 64 hex digits, or one digest under two tenants (a key must name
  // exactly one tenant; picking either would be a silent cross-tenant leak).
  static Result<ApiKeyTable> Build(const std::vector<std::pair<std::string, std::vector<std::string>>>& tenants);

  // Returns the tenant whose key hashes like `presented_key`, or nullopt
  // (also for an empty key). Takes the same time whichever entry matches.
  std::optional<std::string> TenantForKey(std::string_view presented_key) const;

  // Number of distinct key digests held.
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string sha256_hex;  // 64 lower-case hex digits
    size_t tenant_index;     // into tenants_
  };

  ApiKeyTable() = default;

  std::vector<std::string> tenants_;
  std::vector<Entry> entries_;
};

}  // namespace scaletwin
