// URL validation: accepted shapes are parsed into their parts; every refusal
// names its reason. Cases include the classic phishing and parser-confusion
// forms (userinfo, backslashes, numeric hosts) a redirector must not pass on.
#include "model/url_check.h"

#include <gtest/gtest.h>

#include <string>

namespace scaletwin {
namespace {

std::string Why(std::string_view url, size_t max = kDefaultMaxUrlLength) {
  Result<ParsedUrl> r = ParseHttpUrl(url, max);
  return r.ok() ? "" : r.status().message();
}

TEST(UrlCheck, ParsesAllPartsOfAFullUrl) {
  Result<ParsedUrl> u = ParseHttpUrl("HTTPS://Example.COM:8443/a/b%20c;p?x=1&y=/z?#frag/?");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "Example.COM");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->path, "/a/b%20c;p");
  EXPECT_EQ(u->query, "x=1&y=/z?");
  EXPECT_EQ(u->fragment, "frag/?");
}

TEST(UrlCheck, AcceptsMinimalHostsAddressesAndEmptyPaths) {
  for (const char* ok :
       {"http://a", "http://example.com", "https://example.com/", "http://example.com.", "http://127.0.0.1:8080/x",
        "http://[::1]/", "http://[2001:db8::7]:443", "http://[::ffff:192.0.2.1]/", "https://a-b.c_d.example/?",
        "http://x.io#", "https://example.com/~user/%E2%82%AC"}) {
    EXPECT_EQ(Why(ok), "") << ok;
  }
  Result<ParsedUrl> u = ParseHttpUrl("http://example.com?q");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->path, "");
  EXPECT_EQ(u->query, "q");
  EXPECT_FALSE(u->port.has_value());
}

TEST(UrlCheck, OnlyHttpAndHttpsSchemes) {
  for (const char* bad : {"javascript:alert(1)", "ftp://example.com/", "file:///etc/passwd", "data:text/html,x",
                          "mailto:a@b.c", "httpx://example.com"}) {
    EXPECT_NE(Why(bad), "") << bad;
  }
  EXPECT_NE(Why("example.com/path").find("missing scheme"), std::string::npos);
  EXPECT_NE(Why("http:example.com").find("//"), std::string::npos);
  EXPECT_NE(Why("//example.com").find("missing scheme"), std::string::npos);
}

TEST(UrlCheck, RefusesUserinfoBecauseItDisguisesTheRealHost) {
  EXPECT_NE(Why("https://bank.example@evil.example/").find("user information"), std::string::npos);
  EXPECT_NE(Why("http://user:pass@example.com").find("user information"), std::string::npos);
  EXPECT_EQ(Why("http://example.com/@user"), "") << "'@' in the path is fine";
}

TEST(UrlCheck, RequiresAHostAndAValidPort) {
  EXPECT_NE(Why("http://").find("host required"), std::string::npos);
  EXPECT_NE(Why("http:///path").find("host required"), std::string::npos);
  EXPECT_NE(Why("http://:80/").find("host required"), std::string::npos);
  for (const char* bad : {"http://example.com:/", "http://example.com:0", "http://example.com:65536",
                          "http://example.com:8a", "http://example.com:123456"}) {
    EXPECT_NE(Why(bad).find("port"), std::string::npos) << bad;
  }
  EXPECT_EQ(Why("http://example.com:65535"), "");
}

TEST(UrlCheck, RefusesMalformedHosts) {
  for (const char* bad : {"http://exa mple.com", "http://-lead.example", "http://trail-.example", "http://a..b",
                          "http://.example", "http://exa%41mple.com", "http://[::1", "http://[::1]x",
                          "http://[fe80::1%25eth0]/", "http://[1]/", "http://ex!ample.com"}) {
    EXPECT_NE(Why(bad), "") << bad;
  }
  EXPECT_NE(Why("http://" + std::string(64, 'a') + ".com").find("63"), std::string::npos);
  std::string long_host;
  for (int i = 0; i < 50; ++i) long_host += "abcd.";
  long_host += "com";
  EXPECT_EQ(Why("http://" + long_host), "") << "253 characters is the limit";
  long_host = "a" + long_host;
  EXPECT_NE(Why("http://" + long_host).find("253"), std::string::npos);
}

TEST(UrlCheck, NumericHostsMustBeDottedQuads) {
  // Each of these reaches 127.0.0.1 (or a surprise) in a browser.
  for (const char* bad :
       {"http://2130706433/", "http://127.1/", "http://0177.0.0.1/", "http://256.1.1.1/", "http://1.2.3.4.5/"}) {
    EXPECT_NE(Why(bad).find("dotted-quad"), std::string::npos) << bad;
  }
  EXPECT_EQ(Why("http://10.0.0.255/"), "");
  EXPECT_EQ(Why("http://1password.com/"), "") << "a leading digit in a name is fine";
}

TEST(UrlCheck, RefusesSpacesControlsNonAsciiAndBackslashes) {
  EXPECT_NE(Why("http://example.com/a b").find("space"), std::string::npos);
  EXPECT_NE(Why("http://example.com/\r\nSet-Cookie:x").find("control"), std::string::npos);
  EXPECT_NE(Why(std::string("http://example.com/\0x", 21)).find("control"), std::string::npos);
  EXPECT_NE(Why("http://example.com/\x7f").find("control"), std::string::npos);
  EXPECT_NE(Why("http://ex\xc3\xa4mple.com/").find("non-ASCII"), std::string::npos);
  EXPECT_NE(Why("http://evil.example\\@good.example/").find("backslash"), std::string::npos);
}

TEST(UrlCheck, PathQueryAndFragmentCharactersFollowRfc3986) {
  for (const char* bad : {"http://e.com/<script>", "http://e.com/a\"b", "http://e.com/{x}", "http://e.com/a|b",
                          "http://e.com/a^b", "http://e.com/a`b", "http://e.com/[x]", "http://e.com/#a#b",
                          "http://e.com/%", "http://e.com/%4", "http://e.com/%zz", "http://e.com/?q=%G1"}) {
    EXPECT_NE(Why(bad), "") << bad;
  }
  EXPECT_NE(Why("http://e.com/a\"b").find("percent-encode"), std::string::npos);
  EXPECT_EQ(Why("http://e.com/!$&'()*+,;=:@-._~%00"), "");
}

TEST(UrlCheck, EnforcesTheLengthLimit) {
  const std::string base = "https://example.com/";
  EXPECT_EQ(Why(base + std::string(2048 - base.size(), 'a')), "");
  EXPECT_NE(Why(base + std::string(2049 - base.size(), 'a')).find("longer than 2048"), std::string::npos);
  EXPECT_NE(Why("http://e.com/abc", 10).find("longer than 10"), std::string::npos);
  EXPECT_NE(Why("").find("empty"), std::string::npos);
}

}  // namespace
}  // namespace scaletwin

namespace scaletwin {
namespace {

TEST(UrlCheck, Ipv6LiteralsAreParsedNotJustCharacterChecked) {
  for (const char* ok : {"http://[::1]/", "http://[2001:db8::8a2e:370:7334]:8080/x", "http://[::]/",
                         "http://[1:2:3:4:5:6:7:8]/", "http://[::ffff:192.0.2.1]/", "http://[1::]/"}) {
    EXPECT_TRUE(ParseHttpUrl(ok).ok()) << ok;
  }
  for (const char* bad :
       {"http://[:::]/", "http://[1::2::3]/", "http://[1:2:3:4:5:6:7:8:9]/", "http://[1:2:3]/", "http://[12345::]/",
        "http://[::1.2.3.256]/", "http://[1:2:3:4:5:6:7::8]/", "http://[::ffff:1.2.3]/", "http://[:1::]/"}) {
    EXPECT_FALSE(ParseHttpUrl(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace scaletwin
