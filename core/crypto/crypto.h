// Hashing, encoding and Ed25519 primitives. libsodium and OpenSSL are used
// here and nowhere else. All functions are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "core/common/result.h"

namespace helm::crypto {

// Must be called once before any other function (idempotent).
void Init();

std::array<uint8_t, 32> Sha256(std::string_view data);
std::string Sha256Hex(std::string_view data);     // 64 lowercase hex chars
std::string Sha256Tagged(std::string_view data);  // "sha256:" + hex
void AppendSha256Tagged(std::string_view data, std::string* out);

// SHA-512 of the parts, concatenated: OpenSSL's, a third faster here than
// libsodium's (1.49 against 2.08 µs for 1,100 bytes). Its state is wiped.
void Sha512Into(std::initializer_list<std::string_view> parts, unsigned char out[64]);

// Incremental SHA-256 (OpenSSL) for streamed bodies.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data);
  std::string FinishTagged();  // "sha256:" + hex; the object is spent afterwards

 private:
  void* ctx_;
};

std::string HexEncode(std::string_view bytes);
Result<std::string> HexDecode(std::string_view hex);
std::string Base64UrlEncode(std::string_view bytes);  // no padding
void AppendBase64Url(std::string_view bytes, std::string* out);
Result<std::string> Base64UrlDecode(std::string_view text);

std::string RandomBytes(size_t n);
// Fills out[0..n) (n <= 64) from a per-thread block of the system CSPRNG's
// output, one getrandom call per 4 KB instead of one per call: for the
// request path's ids and signature nonces. Bytes are zeroed in the block
// once handed out. Keys and API key secrets use RandomBytes.
void BlockRandom(void* out, size_t n);
// Constant-time comparison of two secrets.
bool SecretEquals(std::string_view a, std::string_view b);

inline constexpr size_t kPublicKeyBytes = 32;
inline constexpr size_t kSecretKeyBytes = 64;
inline constexpr size_t kSignatureBytes = 64;

struct KeyPair {
  std::string public_key;  // 32 raw bytes
  std::string secret_key;  // 64 raw bytes (libsodium layout: seed || public)
};

KeyPair GenerateKeyPair();
// Whether a 64-byte secret key's public half is the one its seed derives
// (a damaged key file signs receipts that never verify).
bool SecretKeyConsistent(std::string_view secret_key);
// key_id: first 16 hex chars of SHA-256 of the raw public key.
std::string KeyId(std::string_view public_key);
std::string Sign(std::string_view message, std::string_view secret_key);  // 64 raw bytes
bool Verify(std::string_view message, std::string_view signature, std::string_view public_key);

class SignatureNonce;

// A secret key expanded once (RFC 8032 §5.1.5: the secret scalar and the
// nonce prefix), so that a signer that keeps it does not hash the seed again
// for every signature. Wiped when destroyed; not copyable.
class SigningKey {
 public:
  explicit SigningKey(std::string_view secret_key);  // 64 raw bytes (KeyPair::secret_key)
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  ~SigningKey();
  bool ok() const { return ok_; }  // false: secret_key was not 64 bytes

 private:
  friend void PrepareSignatures(const SigningKey&, std::span<const std::string_view>,
                                std::span<SignatureNonce>);
  friend std::string FinishSignature(std::string_view, const SigningKey&, SignatureNonce&);
  std::string secret_key_;            // as given: the deterministic fallback's
  std::array<uint8_t, 32> scalar_{};  // s, clamped and reduced mod L
  std::array<uint8_t, 32> prefix_{};  // the nonce prefix
  bool ok_ = false;
};

// Ed25519 in two steps, for a signer that learns its message at the last
// moment (the ledger: each receipt signs the previous receipt's hash).
// PrepareSignature does the expensive part, the nonce commitment R = r·B, on
// any thread beforehand; FinishSignature then costs one SHA-512 over R‖A‖M
// and a scalar multiply-add. The result is an ordinary Ed25519 signature
// (RFC 8032 §5.1.7 verification; Verify above). Only the nonce differs from
// RFC 8032's deterministic SHA-512(prefix‖M), since M is not known yet:
// r = SHA-512(prefix ‖ 32 random bytes ‖ context) mod L — secret (the key's
// prefix), unpredictable (the random bytes), and distinct per message even
// if the RNG failed, as long as `context` is (the ledger passes the receipt
// id). A nonce signs one message: FinishSignature spends it, and an unready
// or spent nonce falls back to Sign (deterministic RFC 8032).
class SignatureNonce {
 public:
  SignatureNonce() = default;
  SignatureNonce(SignatureNonce&& other) noexcept { *this = std::move(other); }
  SignatureNonce& operator=(SignatureNonce&& other) noexcept;
  ~SignatureNonce();
  bool ready() const { return ready_; }

 private:
  friend void PrepareSignatures(const SigningKey&, std::span<const std::string_view>,
                                std::span<SignatureNonce>);
  friend std::string FinishSignature(std::string_view, const SigningKey&, SignatureNonce&);
  std::array<uint8_t, 32> r_{};           // the secret nonce scalar
  std::array<uint8_t, 32> commitment_{};  // R = r·B, the signature's first half
  bool ready_ = false;
};
SignatureNonce PrepareSignature(const SigningKey& key, std::string_view context);
// Nonces for several messages at once, out[i] for contexts[i] (the sizes
// equal): their commitments share one field inversion (ed25519_base.h), so
// each costs about a quarter less than PrepareSignature's.
void PrepareSignatures(const SigningKey& key, std::span<const std::string_view> contexts,
                       std::span<SignatureNonce> out);
std::string FinishSignature(std::string_view message, const SigningKey& key,
                            SignatureNonce& nonce);  // 64 raw bytes; spends the nonce

}  // namespace helm::crypto

namespace helm::crypto {
// libsodium's version string.
const char* SodiumVersion();
}  // namespace helm::crypto
