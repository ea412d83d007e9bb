// The backend-independent half of LinkStore: validation, code generation with
// collision retry, and error causes.
#include "real/storage/link_store.h"

#include <openssl/rand.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

namespace scaletwin {

namespace {

bool IsHexDigit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Lower-cased 64-hex-digit hash, or nullopt if `h` is not one.
std::optional<std::string> NormalizeKeyHash(std::string_view h) {
  if (h.size() != 64 || !std::all_of(h.begin(), h.end(), IsHexDigit)) return std::nullopt;
  std::string out(h);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A word from OpenSSL's CSPRNG (thread-safe). RAND_bytes fails only when the
// OS entropy source is broken; fall back to random_device rather than fail a request.
uint64_t CsprngWord() {
  uint64_t w = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&w), sizeof(w)) == 1) return w;
  thread_local std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace

bool IsValidTenantId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.' || c == '_' ||
           c == '-';
  });
}

LinkStore::LinkStore(LinkStoreOptions options) : options_(std::move(options)) {}

Status LinkStore::ValidateOptions(const LinkStoreOptions& o) {
  if (o.code_length < 1 || o.code_length > kMaxShortCodeLength) {
    return StorageError(StorageCause::kInvalidArgument,
                        "code_length must be 1 to " + std::to_string(kMaxShortCodeLength));
  }
  if (o.max_code_attempts < 1) return StorageError(StorageCause::kInvalidArgument, "max_code_attempts must be >= 1");
  if (Status s = ValidateShortCodeRules(o.custom_codes); !s.ok()) {
    return StorageError(StorageCause::kInvalidArgument, s.message());
  }
  if (o.max_url_length < 16) return StorageError(StorageCause::kInvalidArgument, "max_url_length must be >= 16");
  if (o.max_ttl < kNanosPerMilli) return StorageError(StorageCause::kInvalidArgument, "max_ttl must be >= 1ms");
  return Status::Ok();
}

uint64_t LinkStore::NextRandomWord() { return options_.random_words ? options_.random_words() : CsprngWord(); }

Status LinkStore::SyncTenants(const std::vector<TenantKeys>& tenants) {
  std::vector<TenantKeys> normalized;
  std::set<std::string> ids;
  std::map<std::string, std::string> owner_of_hash;
  for (const TenantKeys& t : tenants) {
    if (!IsValidTenantId(t.tenant_id)) {
      return StorageError(StorageCause::kInvalidArgument,
                          "tenant id \"" + t.tenant_id + "\" must be 1 to 64 characters of A-Z a-z 0-9 . _ -");
    }
    if (!ids.insert(t.tenant_id).second) {
      return StorageError(StorageCause::kInvalidArgument, "tenant \"" + t.tenant_id + "\" is listed twice");
    }
    TenantKeys n{t.tenant_id, {}};
    for (const std::string& h : t.api_key_sha256) {
      std::optional<std::string> hash = NormalizeKeyHash(h);
      if (!hash) {
        return StorageError(StorageCause::kInvalidArgument,
                            "tenant \"" + t.tenant_id + "\": an API key hash is not 64 hex digits (SHA-256)");
      }
      auto [it, inserted] = owner_of_hash.emplace(*hash, t.tenant_id);
      if (!inserted && it->second != t.tenant_id) {
        return StorageError(StorageCause::kInvalidArgument,
                            "one API key is listed under tenants \"" + it->second + "\" and \"" + t.tenant_id + "\"");
      }
      if (inserted) n.api_key_sha256.push_back(std::move(*hash));
    }
    normalized.push_back(std::move(n));
  }
  return ReplaceTenants(normalized);
}

Result<std::string> LinkStore::TenantForKeyHash(std::string_view key_sha256_hex) {
  std::optional<std::string> hash = NormalizeKeyHash(key_sha256_hex);
  if (!hash) return StorageError(StorageCause::kNotFound, "unknown API key");
  return FindTenantByKeyHash(*hash);
}

Result<Link> LinkStore::CreateLink(std::string_view tenant_id, const NewLink& request, UnixMillis now) {
  if (!IsValidTenantId(tenant_id)) return StorageError(StorageCause::kInvalidArgument, "bad tenant id");
  Result<ParsedUrl> url = ParseHttpUrl(request.url, options_.max_url_length);
  if (!url.ok()) return StorageError(StorageCause::kInvalidArgument, url.status().message());

  Link link;
  link.tenant_id = std::string(tenant_id);
  link.url = request.url;
  link.created_at = now;
  if (request.ttl) {
    if (*request.ttl <= 0 || *request.ttl > options_.max_ttl) {
      return StorageError(StorageCause::kInvalidArgument,
                          "ttl must be positive and at most " + FormatDuration(options_.max_ttl));
    }
    // Round up: a ttl of 1ns still gives the link one millisecond of life.
    link.expires_at = now + (*request.ttl + kNanosPerMilli - 1) / kNanosPerMilli;
  }

  if (request.custom_code) {
    if (Status s = ValidateCustomCode(*request.custom_code, options_.custom_codes); !s.ok()) {
      return StorageError(StorageCause::kInvalidArgument, s.message());
    }
    link.code = *request.custom_code;
    Result<bool> inserted = InsertLinkIfCodeFree(link);
    if (!inserted.ok()) return inserted.status();
    if (!*inserted) return StorageError(StorageCause::kConflict, "code \"" + link.code + "\" is taken");
    return link;
  }

  for (int attempt = 0; attempt < options_.max_code_attempts; ++attempt) {
    link.code = GenerateShortCode(options_.code_length, [this] { return NextRandomWord(); });
    if (IsReservedCode(link.code, options_.custom_codes)) continue;  // would shadow a route
    Result<bool> inserted = InsertLinkIfCodeFree(link);
    if (!inserted.ok()) return inserted.status();
    if (*inserted) return link;
  }
  // Collisions this many times in a row mean the code space is nearly full
  // (or the random source is broken): a longer code_length is the fix.
  return StorageError(StorageCause::kUnavailable,
                      "no free short code after " + std::to_string(options_.max_code_attempts) +
                          " attempts (code_length " + std::to_string(options_.code_length) + ")");
}

Result<ResolvedLink> LinkStore::Resolve(std::string_view code, UnixMillis now) {
  if (!IsWellFormedShortCode(code)) return StorageError(StorageCause::kNotFound, "no such link");
  return ResolveAndCountClick(code, now);
}

Result<Link> LinkStore::GetLink(std::string_view tenant_id, std::string_view code) {
  if (!IsValidTenantId(tenant_id) || !IsWellFormedShortCode(code)) {
    return StorageError(StorageCause::kNotFound, "no such link");
  }
  return FindLink(tenant_id, code);
}

Status LinkStore::DeleteLink(std::string_view tenant_id, std::string_view code) {
  if (!IsValidTenantId(tenant_id) || !IsWellFormedShortCode(code)) {
    return StorageError(StorageCause::kNotFound, "no such link");
  }
  Result<bool> removed = RemoveLink(tenant_id, code);
  if (!removed.ok()) return removed.status();
  if (!*removed) return StorageError(StorageCause::kNotFound, "no such link");
  return Status::Ok();
}

}  // namespace scaletwin
