// SHA-256 of an API key, as the 64 lower-case hex digits the storage keeps.
//
// Only hashes of API keys are ever stored or compared (issue 5): the config's
// tenant list may carry keys or their hashes, and the pod hashes the key of
// every request before looking its tenant up. API keys are long random
// secrets, so a fast unsalted hash is enough (slow password hashes are for
// low-entropy secrets and would make every request expensive); the lookup by
// hash goes through a unique index, so no key comparison happens in our code.
//
//   ApiKeySha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
//
// Thread-safety: pure function (OpenSSL's one-shot digest).
#pragma once

#include <string>
#include <string_view>

namespace scaletwin {

// Returns SHA-256(api_key) as 64 lower-case hex digits.
std::string ApiKeySha256Hex(std::string_view api_key);

}  // namespace scaletwin
