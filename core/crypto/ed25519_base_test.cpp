#include "core/crypto/ed25519_base.h"

#include <doctest/doctest.h>
#include <sodium.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/crypto/crypto.h"

namespace helm::crypto {
namespace {

Bytes32 Reference(const Bytes32& scalar) {  // libsodium, one at a time
  Bytes32 out{};
  REQUIRE(crypto_scalarmult_ed25519_base_noclamp(out.data(), scalar.data()) == 0);
  return out;
}

Bytes32 FromHex(const std::string& hex_little_endian) {
  Bytes32 out{};
  for (size_t i = 0; i < 32; ++i)
    out[i] = std::stoi(hex_little_endian.substr(2 * i, 2), nullptr, 16);
  return out;
}

}  // namespace

TEST_CASE("batched base multiplication: libsodium's points for random scalars, every batch size") {
  Init();
  REQUIRE(FastBaseAvailable());
  for (size_t n = 1; n <= kBaseBatch; ++n) {
    for (int round = 0; round < 20; ++round) {
      std::vector<Bytes32> scalars(n);
      std::vector<Bytes32> got(n);
      for (auto& s : scalars) crypto_core_ed25519_scalar_random(s.data());
      BaseMultiplyBatch(scalars, got);
      for (size_t i = 0; i < n; ++i) CHECK(got[i] == Reference(scalars[i]));
    }
  }
}

TEST_CASE("batched base multiplication: scalars at the edges of the digit recoding") {
  Init();
  REQUIRE(FastBaseAvailable());
  std::vector<Bytes32> scalars;
  auto filled = [](uint8_t byte, uint8_t top) {
    Bytes32 s;
    s.fill(byte);
    s[31] = top;
    return s;
  };
  scalars.push_back(filled(0, 0));
  scalars.back()[0] = 1;                  // 1: the base point
  scalars.push_back(filled(0x88, 0x08));  // every digit 8: each one carries
  scalars.push_back(filled(0x77, 0x07));  // every digit 7: none carries
  scalars.push_back(filled(0xff, 0x7f));  // 2^255 - 1, the largest accepted
  scalars.push_back(filled(0xf8, 0x78));  // digits alternating -8 and 8
  scalars.push_back(filled(0x00, 0x10));  // 2^252
  // L - 1, the largest reduced scalar.
  scalars.push_back(FromHex("ecd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010"));
  std::vector<Bytes32> got(scalars.size());
  BaseMultiplyBatch(scalars, got);
  for (size_t i = 0; i < scalars.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i] == Reference(scalars[i]));
  }
}

TEST_CASE("two-step ed25519: nonces made in a batch sign standard, distinct signatures") {
  Init();
  KeyPair kp = GenerateKeyPair();
  const SigningKey key(kp.secret_key);
  const size_t n = 2 * kBaseBatch + 5;  // across batches, and a partial one
  std::vector<std::string> ids;
  for (size_t i = 0; i < n; ++i) ids.push_back("rcpt_" + std::to_string(i % 3));
  std::vector<std::string_view> contexts(ids.begin(), ids.end());
  std::vector<SignatureNonce> nonces(n);
  PrepareSignatures(key, contexts, nonces);
  std::vector<std::string> commitments;
  for (size_t i = 0; i < n; ++i) {
    REQUIRE(nonces[i].ready());
    const std::string message = "receipt " + std::to_string(i);
    const std::string sig = FinishSignature(message, key, nonces[i]);
    CHECK(Verify(message, sig, kp.public_key));
    CHECK_FALSE(Verify(message + "!", sig, kp.public_key));
    commitments.push_back(sig.substr(0, 32));
  }
  std::sort(commitments.begin(), commitments.end());
  CHECK(std::unique(commitments.begin(), commitments.end()) == commitments.end());
}

}  // namespace helm::crypto
