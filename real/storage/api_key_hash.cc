// SHA-256 through OpenSSL's EVP one-shot digest.
#include "real/storage/api_key_hash.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace scaletwin {

std::string ApiKeySha256Hex(std::string_view api_key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // EVP_Digest only fails on allocation failure; a wrong hash would silently
  // lock every tenant out, so treat that as fatal rather than return garbage.
  if (EVP_Digest(api_key.data(), api_key.size(), digest, &len, EVP_sha256(), nullptr) != 1 || len != 32) std::abort();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(64, '0');
  for (unsigned int i = 0; i < 32; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace scaletwin
