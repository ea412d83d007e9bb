// Validation of the target URLs the shortener stores and redirects to.
//
// A stored URL ends up verbatim in a `Location:` header that browsers follow,
// so the check is strict rather than forgiving: only absolute http/https URLs
// (RFC 3986 syntax), a host is required, no userinfo ("https://bank.com@evil.example"
// is a classic phishing disguise), no spaces, control or non-ASCII bytes
// (clients must percent-encode, and internationalised hosts use punycode), no
// backslashes (browsers read them as '/' and would go somewhere else than the
// parser saw), and a length limit. The URL is parsed, not pattern-matched:
//
//   scheme "://" host [":" port] [path-abempty] ["?" query] ["#" fragment]
//
// host is a DNS-style name or IPv4 address (labels of [A-Za-z0-9_-] — '_' is
// not a hostname character but browsers resolve such names —, not
// starting or ending with '-', 1..63 chars, whole host <= 253) or a bracketed
// IPv6 literal; port is 1..65535; path, query and fragment may hold only
// RFC 3986 pchar/'/'/'?' characters and well-formed %XX escapes.
//
//   Result<ParsedUrl> u = ParseHttpUrl("https://example.com:8443/a?b=c#d");
//   if (!u.ok()) return u.status();   // invalid argument naming the problem
//
// The URL is stored exactly as given; ParsedUrl only reports its parts.
// Thread-safety: pure function.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "model/status.h"

namespace scaletwin {

inline constexpr size_t kDefaultMaxUrlLength = 2048;

struct ParsedUrl {
  std::string scheme;  // "http" or "https", lower-cased
  std::string host;    // as written (an IPv6 literal keeps its brackets)
  std::optional<int> port;
  std::string path;      // "" or starts with '/'
  std::string query;     // without the '?'; empty if none
  std::string fragment;  // without the '#'; empty if none
};

// Parses `url` as an absolute http(s) URL under the rules above.
// Fails with InvalidArgument naming the first problem.
Result<ParsedUrl> ParseHttpUrl(std::string_view url, size_t max_length = kDefaultMaxUrlLength);

}  // namespace scaletwin
