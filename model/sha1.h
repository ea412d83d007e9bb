// SHA-1 of a byte string, as 40 lower-case hex digits.
//
// Redis names a script by the SHA1 of its text (SCRIPT LOAD returns it, EVALSHA
// takes it), so the limiter scripts in model/ need their SHA1s to build EVALSHA
// commands and to register their native implementations under the same name.
// model/ may not link OpenSSL, hence this small FIPS 180-4 implementation. It
// names scripts; it is not used for anything security-related.
//
//   Sha1Hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d"
//
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>

namespace scaletwin {

// Returns SHA1(data) as 40 lower-case hex digits.
std::string Sha1Hex(std::string_view data);

}  // namespace scaletwin
