// A small RFC 3986 parser for absolute http(s) URLs, strict where browsers are lenient.
#include "model/url_check.h"

#include <string>
#include <vector>

namespace scaletwin {

namespace {

bool IsAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); }
bool IsUnreserved(char c) { return IsAlpha(c) || IsDigit(c) || c == '-' || c == '.' || c == '_' || c == '~'; }
bool IsSubDelim(char c) { return c != '\0' && std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos; }
// pchar minus pct-encoded (handled by the caller).
bool IsPchar(char c) { return IsUnreserved(c) || IsSubDelim(c) || c == ':' || c == '@'; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Status Invalid(const std::string& what) { return Status::InvalidArgument("url: " + what); }

// Checks path, query or fragment characters; `extra` are the characters the
// component allows beyond pchar ('/' for a path, '/' and '?' for query and fragment).
Status CheckComponent(std::string_view part, std::string_view name, std::string_view extra) {
  for (size_t i = 0; i < part.size(); ++i) {
    const char c = part[i];
    if (c == '%') {
      if (i + 2 >= part.size() || !IsHex(part[i + 1]) || !IsHex(part[i + 2])) {
        return Invalid("malformed percent escape in " + std::string(name));
      }
      i += 2;
      continue;
    }
    if (IsPchar(c) || extra.find(c) != std::string_view::npos) continue;
    return Invalid(std::string("character '") + c + "' not allowed in " + std::string(name) + " (percent-encode it)");
  }
  return Status::Ok();
}

// Dotted-quad IPv4, each part 0..255 without leading zeros (browsers read "010" as octal).
bool IsDottedQuad(const std::vector<std::string_view>& labels) {
  if (labels.size() != 4) return false;
  for (std::string_view l : labels) {
    if (l.empty() || l.size() > 3 || (l.size() > 1 && l[0] == '0')) return false;
    int v = 0;
    for (char c : l) {
      if (!IsDigit(c)) return false;
      v = v * 10 + (c - '0');
    }
    if (v > 255) return false;
  }
  return true;
}

Status CheckRegName(std::string_view host) {
  if (host.size() > 253) return Invalid("host longer than 253 characters");
  std::string_view h = host;
  if (h.back() == '.') h.remove_suffix(1);  // a fully qualified name may end with '.'
  std::vector<std::string_view> labels;
  size_t start = 0;
  while (true) {
    const size_t dot = h.find('.', start);
    labels.push_back(h.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  for (std::string_view l : labels) {
    if (l.empty()) return Invalid("empty label in host");
    if (l.size() > 63) return Invalid("host label longer than 63 characters");
    if (l.front() == '-' || l.back() == '-') return Invalid("host label starts or ends with '-'");
    for (char c : l) {
      if (!IsAlpha(c) && !IsDigit(c) && c != '-' && c != '_') {
        return Invalid(std::string("character '") + c + "' not allowed in host");
      }
    }
  }
  // A top-level domain is never all digits, so a numeric last label means an
  // IPv4 address; only the plain dotted-quad form is accepted, because
  // "2130706433" or "0x7f.1" also reach 127.0.0.1 in a browser.
  bool numeric_tld = true;
  for (char c : labels.back()) numeric_tld = numeric_tld && IsDigit(c);
  if (numeric_tld && !IsDottedQuad(labels)) return Invalid("numeric host is not a dotted-quad IPv4 address");
  return Status::Ok();
}

// RFC 4291 §2.2 text form (RFC 3986's IPv6address): eight groups of 1-4 hex
// digits, at most one "::" standing for one or more zero groups, and an
// optional dotted-quad IPv4 tail counting as two groups. Zone ids ("%eth0")
// are not accepted.
Status CheckIpv6Literal(std::string_view inside) {
  const Status bad = Invalid("bad IPv6 literal");
  if (inside.empty() || inside.size() > 45) return bad;
  for (char c : inside) {
    if (!IsHex(c) && c != ':' && c != '.') return Invalid("bad character in IPv6 literal (zone ids are not accepted)");
  }
  const size_t gap = inside.find("::");
  if (gap != std::string_view::npos && inside.find("::", gap + 1) != std::string_view::npos) return bad;
  // Groups of one side of the "::" (or of the whole literal without one);
  // -1 when malformed. `ipv4_ok`: a dotted quad may end this side.
  auto count_groups = [](std::string_view side, bool ipv4_ok) -> int {
    if (side.empty()) return 0;
    int groups = 0;
    size_t start = 0;
    while (true) {
      const size_t colon = side.find(':', start);
      const std::string_view g =
          side.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start);
      const bool last = colon == std::string_view::npos;
      if (last && ipv4_ok && g.find('.') != std::string_view::npos) {
        std::vector<std::string_view> parts;
        size_t p = 0;
        while (true) {
          const size_t dot = g.find('.', p);
          parts.push_back(g.substr(p, dot == std::string_view::npos ? std::string_view::npos : dot - p));
          if (dot == std::string_view::npos) break;
          p = dot + 1;
        }
        if (!IsDottedQuad(parts)) return -1;
        return groups + 2;
      }
      if (g.empty() || g.size() > 4) return -1;
      for (char c : g)
        if (!IsHex(c)) return -1;
      ++groups;
      if (last) return groups;
      start = colon + 1;
    }
  };
  if (gap == std::string_view::npos) return count_groups(inside, true) == 8 ? Status::Ok() : bad;
  const int left = count_groups(inside.substr(0, gap), false);
  const int right = count_groups(inside.substr(gap + 2), true);
  if (left < 0 || right < 0 || left + right > 7) return bad;
  return Status::Ok();
}

}  // namespace

Result<ParsedUrl> ParseHttpUrl(std::string_view url, size_t max_length) {
  if (url.empty()) return Invalid("empty");
  if (url.size() > max_length) {
    return Invalid("longer than " + std::to_string(max_length) + " characters (" + std::to_string(url.size()) + ")");
  }
  for (size_t i = 0; i < url.size(); ++i) {
    const auto b = static_cast<unsigned char>(url[i]);
    if (b <= 0x20 || b == 0x7f) return Invalid("space or control character at offset " + std::to_string(i));
    if (b >= 0x80) return Invalid("non-ASCII byte at offset " + std::to_string(i) + " (percent-encode it)");
    if (b == '\\') return Invalid("backslash at offset " + std::to_string(i));
  }

  ParsedUrl out;
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
  size_t i = 0;
  while (i < url.size() &&
         (IsAlpha(url[i]) || (i > 0 && (IsDigit(url[i]) || url[i] == '+' || url[i] == '-' || url[i] == '.')))) {
    ++i;
  }
  if (i == 0 || i >= url.size() || url[i] != ':') return Invalid("missing scheme (expected http:// or https://)");
  out.scheme = Lower(url.substr(0, i));
  if (out.scheme != "http" && out.scheme != "https") {
    return Invalid("scheme \"" + out.scheme + "\" not allowed (only http and https)");
  }
  if (url.substr(i + 1, 2) != "//") return Invalid("missing \"//\" after the scheme");
  i += 3;

  const size_t authority_end = url.find_first_of("/?#", i);
  std::string_view authority =
      url.substr(i, authority_end == std::string_view::npos ? std::string_view::npos : authority_end - i);
  if (authority.find('@') != std::string_view::npos) return Invalid("user information (user@host) not allowed");

  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Invalid("unterminated IPv6 literal");
    if (Status s = CheckIpv6Literal(authority.substr(1, close - 1)); !s.ok()) return s;
    host = authority.substr(0, close + 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Invalid("unexpected characters after IPv6 literal");
      has_port = true;
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port = authority.substr(colon + 1);
    }
    if (host.empty()) return Invalid("host required");
    if (Status s = CheckRegName(host); !s.ok()) return s;
  }
  if (has_port) {
    if (port.empty() || port.size() > 5) return Invalid("port must be 1 to 65535");
    int p = 0;
    for (char c : port) {
      if (!IsDigit(c)) return Invalid("port must be 1 to 65535");
      p = p * 10 + (c - '0');
    }
    if (p < 1 || p > 65535) return Invalid("port must be 1 to 65535");
    out.port = p;
  }
  out.host = std::string(host);

  if (authority_end == std::string_view::npos) return out;
  std::string_view rest = url.substr(authority_end);
  const size_t hash = rest.find('#');
  if (hash != std::string_view::npos) {
    const std::string_view fragment = rest.substr(hash + 1);
    if (Status s = CheckComponent(fragment, "fragment", "/?"); !s.ok()) return s;
    out.fragment = std::string(fragment);
    rest = rest.substr(0, hash);
  }
  const size_t question = rest.find('?');
  if (question != std::string_view::npos) {
    const std::string_view query = rest.substr(question + 1);
    if (Status s = CheckComponent(query, "query", "/?"); !s.ok()) return s;
    out.query = std::string(query);
    rest = rest.substr(0, question);
  }
  if (Status s = CheckComponent(rest, "path", "/"); !s.ok()) return s;
  out.path = std::string(rest);
  return out;
}

}  // namespace scaletwin
