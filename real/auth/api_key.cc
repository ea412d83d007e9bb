// API keys over OpenSSL: RAND_bytes for minting, CRYPTO_memcmp for lookups.
#include "real/auth/api_key.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include <map>

#include "real/auth/base64url.h"
#include "real/storage/api_key_hash.h"

namespace scaletwin {
namespace {

constexpr size_t kSha256HexDigits = 64;

bool IsB64TokenChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~' || c == '+' || c == '/';
}

// Returns `hex` lower-cased, or nullopt unless it is exactly 64 hex digits.
std::optional<std::string> NormalizeSha256Hex(std::string_view hex) {
  if (hex.size() != kSha256HexDigits) return std::nullopt;
  std::string out(hex);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') {
      c = static_cast<char>(c - 'A' + 'a');
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace

Result<std::string> NewApiKey() {
  unsigned char bytes[kApiKeyRandomBytes];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    char reason[256];
    ERR_error_string_n(ERR_get_error(), reason, sizeof(reason));
    return Status::Internal(std::string("RAND_bytes failed, no API key minted: ") + reason);
  }
  std::string key(kApiKeyPrefix);
  key += Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
  OPENSSL_cleanse(bytes, sizeof(bytes));
  return key;
}

std::optional<std::string_view> BearerToken(std::string_view authorization_header) {
  constexpr std::string_view kScheme = "bearer";
  std::string_view v = authorization_header;
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    const char c = v[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kScheme[i]) return std::nullopt;
  }
  v.remove_prefix(kScheme.size());
  // "Bearerabc" is another scheme, not a bearer token.
  if (v.front() != ' ') return std::nullopt;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
  size_t i = 0;
  while (i < v.size() && IsB64TokenChar(v[i])) ++i;
  if (i == 0) return std::nullopt;
  while (i < v.size() && v[i] == '=') ++i;
  if (i != v.size()) return std::nullopt;
  return v;
}

Result<ApiKeyTable> ApiKeyTable::Build(const std::vector<std::pair<std::string, std::vector<std::string>>>& tenants) {
  ApiKeyTable table;
  std::map<std::string, size_t> tenant_index;
  std::map<std::string, size_t> owner_of_hash;  // digest → tenant index
  for (const auto& [tenant, hashes] : tenants) {
    if (tenant.empty()) return Status::InvalidArgument("API key table: empty tenant id");
    auto [it, inserted] = tenant_index.emplace(tenant, table.tenants_.size());
    if (inserted) table.tenants_.push_back(tenant);
    const size_t index = it->second;
    for (size_t i = 0; i < hashes.size(); ++i) {
      std::optional<std::string> hex = NormalizeSha256Hex(hashes[i]);
      if (!hex) {
        // The digest is not a secret, but do not echo it anyway: a key pasted
        // where its hash belongs would otherwise end up in the logs.
        return Status::InvalidArgument("API key table: key hash #" + std::to_string(i + 1) + " of tenant '" + tenant +
                                       "' is not 64 hex digits (SHA-256)");
      }
      auto [owner, fresh] = owner_of_hash.emplace(*hex, index);
      if (!fresh) {
        if (owner->second == index) continue;
        return Status::InvalidArgument("API key table: key hash #" + std::to_string(i + 1) + " of tenant '" + tenant +
                                       "' is also a key of tenant '" + table.tenants_[owner->second] + "'");
      }
      table.entries_.push_back(Entry{std::move(*hex), index});
    }
  }
  return table;
}

std::optional<std::string> ApiKeyTable::TenantForKey(std::string_view presented_key) const {
  if (presented_key.empty()) return std::nullopt;
  const std::string presented = ApiKeySha256Hex(presented_key);
  // Branch-free select over all entries: Build keeps digests unique, so at
  // most one mask is all-ones; the loop's timing does not depend on which.
  size_t found = 0;
  size_t any = 0;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const size_t equal =
        static_cast<size_t>(CRYPTO_memcmp(entries_[i].sha256_hex.data(), presented.data(), kSha256HexDigits) == 0);
    const size_t mask = ~(equal - 1);  // all ones iff equal
    found |= entries_[i].tenant_index & mask;
    any |= mask;
  }
  if (any == 0) return std::nullopt;
  return tenants_[found];
}

}  // namespace scaletwin
