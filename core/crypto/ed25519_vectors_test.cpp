// Ed25519 against published known-answer vectors, and the verification
// edge cases an auditor's verifier must agree on (RELIABILITY.md M4):
// helm's receipts verify under libsodium's strict rules, so a signature
// that another verifier might accept but libsodium refuses never gets in.
#include "core/crypto/crypto.h"

#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

namespace helm::crypto {
namespace {

struct Vector {
  std::string secret_key;  // seed || public key, 64 bytes
  std::string public_key;
  std::string message;
  std::string signature;
};

std::string Hex(std::string_view hex) { return HexDecode(hex).value(); }

// testdata/ed25519_sign.input: the first 64 lines of the SUPERCOP
// "sign.input" vectors as shipped in Debian's python3-cryptography-vectors
// (asymmetric/Ed25519/sign.input). Each line is
// secret_key:public_key:message:signature||message: in hex.
std::vector<Vector> LoadVectors() {
  std::ifstream in(HELM_SOURCE_DIR "/core/crypto/testdata/ed25519_sign.input");
  std::vector<Vector> out;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string_view> f;
    std::string_view rest = line;
    for (size_t colon; (colon = rest.find(':')) != std::string_view::npos;) {
      f.push_back(rest.substr(0, colon));
      rest.remove_prefix(colon + 1);
    }
    REQUIRE(f.size() == 4);
    out.push_back({Hex(f[0]), Hex(f[1]), Hex(f[2]), Hex(f[3].substr(0, 128))});
    REQUIRE(f[3].substr(128) == f[2]);
  }
  return out;
}

// The group order L, little-endian.
const std::string kOrder = Hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");

// a + b over 32 little-endian bytes (no overflow for the values used here).
std::string Add256(std::string_view a, std::string_view b) {
  std::string out(32, '\0');
  unsigned carry = 0;
  for (size_t i = 0; i < 32; ++i) {
    carry += static_cast<unsigned char>(a[i]) + static_cast<unsigned char>(b[i]);
    out[i] = static_cast<char>(carry & 0xff);
    carry >>= 8;
  }
  return out;
}

}  // namespace

TEST_CASE("ed25519 known answers: the key, the deterministic signature, verification") {
  Init();
  const std::vector<Vector> vectors = LoadVectors();
  REQUIRE(vectors.size() == 64);
  for (size_t i = 0; i < vectors.size(); ++i) {
    const Vector& v = vectors[i];
    CAPTURE(i);
    CHECK(v.message.size() == i);
    CHECK(SecretKeyConsistent(v.secret_key));
    CHECK(Sign(v.message, v.secret_key) == v.signature);
    CHECK(Verify(v.message, v.signature, v.public_key));
    // The ledger's two-step signatures (a fresh nonce) verify under the same key.
    const SigningKey key(v.secret_key);
    SignatureNonce nonce = PrepareSignature(key, "rcpt_vector");
    const std::string two_step = FinishSignature(v.message, key, nonce);
    CHECK(two_step != v.signature);
    CHECK(Verify(v.message, two_step, v.public_key));
  }
}

TEST_CASE("ed25519 verification refuses malleable and degenerate signatures and keys") {
  Init();
  const Vector v = LoadVectors().at(3);
  REQUIRE(Verify(v.message, v.signature, v.public_key));
  const std::string r = v.signature.substr(0, 32);
  const std::string s = v.signature.substr(32);

  SUBCASE("S + L: the same signature in a second encoding") {
    CHECK_FALSE(Verify(v.message, r + Add256(s, kOrder), v.public_key));
  }
  SUBCASE("S with its top bits set") {
    std::string high = v.signature;
    high[63] = static_cast<char>(high[63] | 0xe0);
    CHECK_FALSE(Verify(v.message, high, v.public_key));
  }
  SUBCASE("the identity and small-order points as R, with S = 0") {
    // Against a small-order R, S = 0 satisfies a cofactored check for a
    // small-order key; libsodium refuses the R outright.
    for (std::string_view point : {
             "0100000000000000000000000000000000000000000000000000000000000000",  // identity
             "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // (0, -1), order 2
             "0000000000000000000000000000000000000000000000000000000000000000",  // y = 0, order 4
         }) {
      CAPTURE(point);
      CHECK_FALSE(Verify(v.message, Hex(point) + std::string(32, '\0'), v.public_key));
    }
  }
  SUBCASE("small-order and non-canonical public keys") {
    for (std::string_view key : {
             "0100000000000000000000000000000000000000000000000000000000000000",  // identity
             "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // order 2
             "0000000000000000000000000000000000000000000000000000000000000000",  // order 4
             "0000000000000000000000000000000000000000000000000000000000000080",  // order 4, x odd
             "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // y = p
             "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // y = p + 1
         }) {
      CAPTURE(key);
      // Any signature: the identity as R with S = 0 would verify against the
      // identity as key under the bare equation [S]B = R + [k]A.
      CHECK_FALSE(Verify(v.message, Hex("01") + std::string(63, '\0'), Hex(key)));
      CHECK_FALSE(Verify(v.message, v.signature, Hex(key)));
    }
  }
  SUBCASE("wrong lengths") {
    CHECK_FALSE(Verify(v.message, v.signature.substr(0, 63), v.public_key));
    CHECK_FALSE(Verify(v.message, v.signature + '\0', v.public_key));
    CHECK_FALSE(Verify(v.message, v.signature, v.public_key.substr(0, 31)));
    CHECK_FALSE(Verify(v.message, v.signature, v.public_key + '\0'));
  }
  SUBCASE("another message, or the signature's halves swapped") {
    CHECK_FALSE(Verify(v.message + "x", v.signature, v.public_key));
    CHECK_FALSE(Verify(v.message, s + r, v.public_key));
  }
}

}  // namespace helm::crypto
