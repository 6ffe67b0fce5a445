// What a signature nonce's commitment R = r·B costs: libsodium one at a
// time, helm's one at a time (PrepareSignature) and in batches
// (PrepareSignatures), per nonce (docs/performance.md, "Nonce commitments
// in batches").
//   helm_nonce_bench [NONCES]
#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/crypto.h"
#include "core/crypto/ed25519_base.h"

using namespace helm::crypto;

namespace {

template <typename Body>
double MicrosPerNonce(int nonces, Body body) {
  const auto start = std::chrono::steady_clock::now();
  body();
  const std::chrono::duration<double, std::micro> elapsed =
      std::chrono::steady_clock::now() - start;
  return elapsed.count() / nonces;
}

}  // namespace

int main(int argc, char** argv) {
  const int nonces = argc > 1 ? std::stoi(argv[1]) : 32000;
  Init();
  const KeyPair pair = GenerateKeyPair();
  const SigningKey key(pair.secret_key);
  if (!FastBaseAvailable()) {
    std::fprintf(stderr, "the batched multiplication failed its self-test\n");
    return 1;
  }
  const std::string id = "rcpt_01JEXAMPLE0000000000000000";
  unsigned char r[32];
  unsigned char point[32];
  crypto_core_ed25519_scalar_random(r);
  std::printf("libsodium, one at a time:        %6.2f us\n", MicrosPerNonce(nonces, [&] {
                for (int i = 0; i < nonces; ++i) {
                  r[0] = static_cast<unsigned char>(i);
                  crypto_scalarmult_ed25519_base_noclamp(point, r);
                }
              }));
  std::printf("PrepareSignature, one at a time: %6.2f us (with the SHA-512 of r)\n",
              MicrosPerNonce(nonces, [&] {
                for (int i = 0; i < nonces; ++i) (void)PrepareSignature(key, id);
              }));
  for (size_t batch : {size_t{4}, kBaseBatch}) {
    const std::vector<std::string_view> contexts(batch, id);
    std::vector<SignatureNonce> out(batch);
    std::printf("PrepareSignatures, %2zu at a time: %6.2f us\n", batch, MicrosPerNonce(nonces, [&] {
                  for (int i = 0; i < nonces; i += static_cast<int>(batch)) {
                    PrepareSignatures(key, contexts, out);
                  }
                }));
  }
  return 0;
}
