#include "core/crypto/crypto.h"

// SHA256_Init and the like are deprecated in OpenSSL 3.0 (see Sha256Into).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <sodium.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <mutex>

namespace helm::crypto {

void Init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();  // cannot happen: no entropy source
  });
}

namespace {

// SHA-256 for Sha256Stream, fetched from the default provider once:
// EVP_sha256() fetches the implementation again on every call.
const EVP_MD* Sha256Md() {
  static const EVP_MD* const md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();  // intentionally never freed
  }();
  return md;
}

// One-shot hashes go through OpenSSL's low-level SHA-2 functions, with the
// state on the stack: OpenSSL 3.0's EVP_DigestInit_ex allocates the
// digest's state on every call, even on a context that held the same
// digest, and a request hashes about seven times.
void Sha256Into(std::string_view data, unsigned char out[32]) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data.data(), data.size());
  SHA256_Final(out, &ctx);
}

constexpr char kHexDigits[] = "0123456789abcdef";

void AppendHex(const unsigned char* bytes, size_t n, std::string* out) {
  size_t at = out->size();
  out->resize(at + 2 * n);
  char* p = out->data() + at;
  for (size_t i = 0; i < n; ++i) {
    p[2 * i] = kHexDigits[bytes[i] >> 4];
    p[2 * i + 1] = kHexDigits[bytes[i] & 15];
  }
}

}  // namespace

std::array<uint8_t, 32> Sha256(std::string_view data) {
  std::array<uint8_t, 32> out{};
  Sha256Into(data, out.data());
  return out;
}

void Sha512Into(std::initializer_list<std::string_view> parts, unsigned char out[64]) {
  SHA512_CTX ctx;
  SHA512_Init(&ctx);
  for (std::string_view part : parts) SHA512_Update(&ctx, part.data(), part.size());
  SHA512_Final(out, &ctx);
  OPENSSL_cleanse(&ctx, sizeof ctx);  // the last block may hold secret input
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[32];
  Sha256Into(data, digest);
  std::string out;
  AppendHex(digest, sizeof digest, &out);
  return out;
}

std::string Sha256Tagged(std::string_view data) {
  std::string out;
  out.reserve(7 + 64);
  AppendSha256Tagged(data, &out);
  return out;
}

void AppendSha256Tagged(std::string_view data, std::string* out) {
  unsigned char digest[32];
  Sha256Into(data, digest);
  out->append("sha256:");
  AppendHex(digest, sizeof digest, out);
}

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), Sha256Md(), nullptr);
}

Sha256Stream::~Sha256Stream() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256Stream::Update(std::string_view data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}

std::string Sha256Stream::FinishTagged() {
  unsigned char digest[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), digest, &len);
  std::string out;
  out.reserve(7 + 2 * len);
  out.append("sha256:");
  AppendHex(digest, len, &out);
  return out;
}

std::string HexEncode(std::string_view bytes) {
  std::string out;
  AppendHex(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), &out);
  return out;
}

Result<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return MakeError(ErrorCode::kInvalidArgument, "odd-length hex");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return MakeError(ErrorCode::kInvalidArgument, "invalid hex digit");
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  AppendBase64Url(bytes, &out);
  return out;
}

void AppendBase64Url(std::string_view bytes, std::string* out) {
  const size_t at = out->size();
  const size_t len =
      sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out->resize(at + len);
  sodium_bin2base64(out->data() + at, len, reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out->resize(at + len - 1);  // drop the terminating NUL
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  std::string out(text.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return MakeError(ErrorCode::kInvalidArgument, "invalid base64url");
  }
  out.resize(len);
  return out;
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

namespace {
// Incremented in a forked child, whose copies of the parent's blocks must
// not hand out the same bytes a second time.
std::atomic<uint64_t> fork_generation{0};
}  // namespace

void BlockRandom(void* out, size_t n) {
  constexpr size_t kBlock = 4096;
  struct Block {
    unsigned char bytes[kBlock];
    size_t used = kBlock;
    uint64_t generation = 0;
    ~Block() { sodium_memzero(bytes, sizeof bytes); }
  };
  static const bool registered = [] {
    return pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1); }) == 0;
  }();
  if (n > 64 || !registered) {
    randombytes_buf(out, n);
    return;
  }
  thread_local Block block;
  const uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  if (block.used + n > kBlock || block.generation != generation) {
    randombytes_buf(block.bytes, kBlock);
    block.used = 0;
    block.generation = generation;
  }
  std::memcpy(out, block.bytes + block.used, n);
  sodium_memzero(block.bytes + block.used, n);
  block.used += n;
}

bool SecretEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

KeyPair GenerateKeyPair() {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  KeyPair kp{std::string(reinterpret_cast<char*>(pk), sizeof pk),
             std::string(reinterpret_cast<char*>(sk), sizeof sk)};
  sodium_memzero(sk, sizeof sk);
  return kp;
}

bool SecretKeyConsistent(std::string_view secret_key) {
  if (secret_key.size() != crypto_sign_SECRETKEYBYTES) return false;
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_ed25519_sk_to_pk(pk, reinterpret_cast<const unsigned char*>(secret_key.data()));
  unsigned char derived_pk[crypto_sign_PUBLICKEYBYTES], derived_sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(derived_pk, derived_sk,
                           reinterpret_cast<const unsigned char*>(secret_key.data()));
  sodium_memzero(derived_sk, sizeof derived_sk);
  return sodium_memcmp(pk, derived_pk, sizeof pk) == 0;
}

std::string KeyId(std::string_view public_key) { return Sha256Hex(public_key).substr(0, 16); }

std::string Sign(std::string_view message, std::string_view secret_key) {
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), reinterpret_cast<const unsigned char*>(secret_key.data()));
  return std::string(reinterpret_cast<char*>(sig), sizeof sig);
}

bool Verify(std::string_view message, std::string_view signature, std::string_view public_key) {
  if (signature.size() != crypto_sign_BYTES || public_key.size() != crypto_sign_PUBLICKEYBYTES) {
    return false;
  }
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(),
                                     reinterpret_cast<const unsigned char*>(public_key.data())) == 0;
}

}  // namespace helm::crypto

namespace helm::crypto {
const char* SodiumVersion() { return sodium_version_string(); }
}  // namespace helm::crypto
