// Ed25519 signing in two steps (crypto.h, PrepareSignature): the nonce
// commitment ahead of time, the signature once the message is known. Built
// from libsodium's group and scalar primitives following RFC 8032 §5.1.6;
// only the nonce's derivation differs (see crypto.h).
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <iterator>

#include "core/crypto/crypto.h"
#include "core/crypto/ed25519_base.h"

namespace helm::crypto {
namespace {

// An array of bytes as characters, for Sha512Into.
template <typename Array>
std::string_view Chars(const Array& bytes) {
  return {reinterpret_cast<const char*>(std::data(bytes)), std::size(bytes)};
}

}  // namespace

SigningKey::SigningKey(std::string_view secret_key) : secret_key_(secret_key) {
  if (secret_key.size() != kSecretKeyBytes) return;
  // SHA-512 of the 32-byte seed, split as RFC 8032 §5.1.5.
  unsigned char h[64];
  Sha512Into({secret_key.substr(0, 32)}, h);
  h[0] &= 248;
  h[31] &= 127;
  h[31] |= 64;
  unsigned char wide[64] = {0};
  std::memcpy(wide, h, 32);
  crypto_core_ed25519_scalar_reduce(scalar_.data(), wide);
  std::memcpy(prefix_.data(), h + 32, 32);
  sodium_memzero(h, sizeof h);
  sodium_memzero(wide, sizeof wide);
  ok_ = true;
}

SigningKey::~SigningKey() {
  sodium_memzero(scalar_.data(), scalar_.size());
  sodium_memzero(prefix_.data(), prefix_.size());
  sodium_memzero(secret_key_.data(), secret_key_.size());
}

SignatureNonce::~SignatureNonce() { sodium_memzero(r_.data(), r_.size()); }

SignatureNonce& SignatureNonce::operator=(SignatureNonce&& other) noexcept {
  r_ = other.r_;
  commitment_ = other.commitment_;
  ready_ = std::exchange(other.ready_, false);
  sodium_memzero(other.r_.data(), other.r_.size());
  return *this;
}

SignatureNonce PrepareSignature(const SigningKey& key, std::string_view context) {
  SignatureNonce nonce;
  PrepareSignatures(key, {&context, 1}, {&nonce, 1});
  return nonce;
}

void PrepareSignatures(const SigningKey& key, std::span<const std::string_view> contexts,
                       std::span<SignatureNonce> out) {
  for (SignatureNonce& nonce : out) nonce = SignatureNonce();
  if (!key.ok()) return;
  const bool batched = FastBaseAvailable();
  for (size_t start = 0; start < out.size(); start += kBaseBatch) {
    const size_t n = std::min(kBaseBatch, out.size() - start);
    Bytes32 scalars[kBaseBatch];
    Bytes32 commitments[kBaseBatch];
    for (size_t i = 0; i < n; ++i) {
      unsigned char random[32];
      BlockRandom(random, sizeof random);
      unsigned char h[64];
      Sha512Into({Chars(key.prefix_), Chars(random), contexts[start + i]}, h);
      crypto_core_ed25519_scalar_reduce(scalars[i].data(), h);
      sodium_memzero(h, sizeof h);
    }
    if (batched) BaseMultiplyBatch({scalars, n}, {commitments, n});
    for (size_t i = 0; i < n; ++i) {
      SignatureNonce& nonce = out[start + i];
      nonce.r_ = scalars[i];
      // r = 0 (probability 2^-252) leaves the nonce unready, as libsodium
      // refuses to multiply by it.
      nonce.ready_ = batched ? !sodium_is_zero(scalars[i].data(), 32)
                             : crypto_scalarmult_ed25519_base_noclamp(
                                   commitments[i].data(), scalars[i].data()) == 0;
      nonce.commitment_ = commitments[i];
    }
    sodium_memzero(scalars, sizeof scalars);
  }
}

std::string FinishSignature(std::string_view message, const SigningKey& key,
                            SignatureNonce& nonce) {
  if (!nonce.ready_ || !key.ok()) return Sign(message, key.secret_key_);
  nonce.ready_ = false;  // one message per nonce, whatever happens next
  unsigned char h[64];  // k = SHA-512(R || A || message)
  Sha512Into({Chars(nonce.commitment_), std::string_view(key.secret_key_).substr(32), message}, h);
  unsigned char k[32];
  crypto_core_ed25519_scalar_reduce(k, h);
  unsigned char ks[32];
  crypto_core_ed25519_scalar_mul(ks, k, key.scalar_.data());
  std::string sig(kSignatureBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(sig.data());
  std::memcpy(out, nonce.commitment_.data(), 32);                 // R
  crypto_core_ed25519_scalar_add(out + 32, nonce.r_.data(), ks);  // S = r + k·s mod L
  sodium_memzero(nonce.r_.data(), nonce.r_.size());
  sodium_memzero(ks, sizeof ks);
  return sig;
}

}  // namespace helm::crypto
