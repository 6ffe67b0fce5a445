#include "core/crypto/crypto.h"

#include <doctest/doctest.h>

namespace helm::crypto {

TEST_CASE("sha256 of 'abc' matches FIPS 180-2") {
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256Stream s;
  s.Update("a");
  s.Update("bc");
  CHECK(s.FinishTagged() == "sha256:" + Sha256Hex("abc"));
}

TEST_CASE("hex and base64url round trip") {
  std::string bytes = RandomBytes(33);
  CHECK(HexDecode(HexEncode(bytes)).value() == bytes);
  CHECK(Base64UrlDecode(Base64UrlEncode(bytes)).value() == bytes);
  CHECK(Base64UrlEncode("\xfb\xff") == "-_8");
  CHECK_FALSE(HexDecode("zz").ok());
}

TEST_CASE("ed25519 sign/verify round trip and rejection") {
  Init();
  KeyPair kp = GenerateKeyPair();
  std::string sig = Sign("message", kp.secret_key);
  CHECK(Verify("message", sig, kp.public_key));
  CHECK_FALSE(Verify("messagf", sig, kp.public_key));
  sig[0] ^= 1;
  CHECK_FALSE(Verify("message", sig, kp.public_key));
  CHECK(KeyId(kp.public_key).size() == 16);
}

}  // namespace helm::crypto
