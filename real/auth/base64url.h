// Base64url (RFC 4648 §5) without padding, as JOSE (RFC 7515 §2) and our API
// keys use it.
//
// The decoder is strict so that one byte string has exactly one text form:
// it refuses '=' padding, any character outside A-Z a-z 0-9 '-' '_', a length
// that leaves a lone 6-bit group (length % 4 == 1), and non-zero unused bits in
// the last character. A liberal decoder would let an attacker re-spell a
// token (same signature, different string), which defeats anything keyed on
// the token text, such as caches or deny-lists.
//
//   Base64UrlEncode("hi?") == "aGk_"
//   Base64UrlDecode("aGk_") == std::optional<std::string>("hi?")
//   Base64UrlDecode("aGk/") == std::nullopt   // '/' is base64, not base64url
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace scaletwin {

// Returns the unpadded base64url text of `bytes` (any bytes, including NUL).
std::string Base64UrlEncode(std::string_view bytes);

// Returns the bytes `text` encodes, or nullopt unless `text` is the canonical
// unpadded base64url form of some byte string (see the file comment). The
// empty text decodes to the empty string.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace scaletwin
