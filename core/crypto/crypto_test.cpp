#include "core/crypto/crypto.h"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace helm::crypto {

TEST_CASE("sha256 of 'abc' matches FIPS 180-2") {
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256Stream s;
  s.Update("a");
  s.Update("bc");
  CHECK(s.FinishTagged() == "sha256:" + Sha256Hex("abc"));
  std::string after = "prev,";
  AppendSha256Tagged("abc", &after);
  CHECK(after == "prev,sha256:" + Sha256Hex("abc"));
}

TEST_CASE("sha256: FIPS 180-2 vectors, repeated calls and threads share no state") {
  const std::string empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  const std::string two_blocks = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
  const std::string million_a = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
  const std::string message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  for (int i = 0; i < 3; ++i) {  // no call leaves state behind for the next
    CHECK(Sha256Hex("") == empty);
    CHECK(Sha256Hex(message) == two_blocks);
    CHECK(Sha256Tagged(std::string(1000000, 'a')) == "sha256:" + million_a);
  }
  auto raw = Sha256("abc");
  CHECK(HexEncode(std::string(reinterpret_cast<const char*>(raw.data()), raw.size())) ==
        Sha256Hex("abc"));
  Sha256Stream stream;
  for (int i = 0; i < 1000; ++i) stream.Update(std::string(1000, 'a'));
  CHECK(stream.FinishTagged() == "sha256:" + million_a);
  Sha256Stream empty_stream;
  CHECK(empty_stream.FinishTagged() == "sha256:" + empty);

  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if (Sha256Hex(i % 2 ? message : "") != (i % 2 ? two_blocks : empty)) ++bad[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int b : bad) CHECK(b == 0);
}

TEST_CASE("sha512 of parts: FIPS 180-2 vectors, however the message is split") {
  auto hex = [](std::initializer_list<std::string_view> parts) {
    unsigned char out[64];
    Sha512Into(parts, out);
    return HexEncode(std::string(reinterpret_cast<const char*>(out), sizeof out));
  };
  const std::string abc =
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
      "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
  const std::string empty =
      "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
      "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
  const std::string two_blocks =
      "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
      "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909";
  const std::string message =
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
      "klmnopqrlmnopqrsmnopqrstnopqrstu";
  for (int i = 0; i < 3; ++i) {  // no call leaves state behind for the next
    CHECK(hex({"abc"}) == abc);
    CHECK(hex({"a", "", "bc"}) == abc);
    CHECK(hex({}) == empty);
    CHECK(hex({std::string_view(message).substr(0, 100), std::string_view(message).substr(100)}) ==
          two_blocks);
  }
}

TEST_CASE("hex and base64url round trip") {
  std::string bytes = RandomBytes(33);
  CHECK(HexDecode(HexEncode(bytes)).value() == bytes);
  CHECK(Base64UrlDecode(Base64UrlEncode(bytes)).value() == bytes);
  CHECK(Base64UrlEncode("\xfb\xff") == "-_8");
  std::string quoted = "\"";
  AppendBase64Url("\xfb\xff", &quoted);
  CHECK(quoted == "\"-_8");
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

TEST_CASE("a secret key whose public half its seed does not derive is inconsistent") {
  Init();
  KeyPair kp = GenerateKeyPair();
  CHECK(SecretKeyConsistent(kp.secret_key));
  for (size_t byte : {size_t{0}, size_t{31}, size_t{32}, size_t{63}}) {  // seed and public half
    std::string damaged = kp.secret_key;
    damaged[byte] ^= 0x10;
    CHECK_FALSE(SecretKeyConsistent(damaged));
  }
  CHECK_FALSE(SecretKeyConsistent(kp.secret_key.substr(0, 32)));
}

}  // namespace helm::crypto

namespace helm::crypto {

TEST_CASE("two-step ed25519: standard signatures, one message per nonce") {
  Init();
  KeyPair kp = GenerateKeyPair();
  const SigningKey key(kp.secret_key);
  REQUIRE(key.ok());
  std::set<std::string> commitments;
  for (int i = 0; i < 200; ++i) {
    const std::string message = "receipt " + std::to_string(i) + std::string(i * 7, 'x');
    SignatureNonce nonce = PrepareSignature(key, "rcpt_" + std::to_string(i));
    REQUIRE(nonce.ready());
    SignatureNonce moved = std::move(nonce);
    CHECK_FALSE(nonce.ready());
    std::string sig = FinishSignature(message, key, moved);
    CHECK_FALSE(moved.ready());
    CHECK(Verify(message, sig, kp.public_key));  // libsodium's RFC 8032 verification
    CHECK_FALSE(Verify(message + "!", sig, kp.public_key));
    CHECK(sig != Sign(message, kp.secret_key));  // not the deterministic nonce
    commitments.insert(sig.substr(0, 32));
  }
  CHECK(commitments.size() == 200);  // a fresh R every time, even for one context
  SignatureNonce a = PrepareSignature(key, "same");
  SignatureNonce b = PrepareSignature(key, "same");
  CHECK(FinishSignature("m", key, a).substr(0, 32) != FinishSignature("m", key, b).substr(0, 32));
  // A spent nonce is never used twice: the fallback is the deterministic signature.
  CHECK(FinishSignature("m2", key, a) == Sign("m2", kp.secret_key));
  SignatureNonce unready;
  CHECK(FinishSignature("m3", key, unready) == Sign("m3", kp.secret_key));
}

TEST_CASE("two-step ed25519: a key of the wrong size makes no nonce") {
  Init();
  const SigningKey key(std::string(32, 'k'));
  CHECK_FALSE(key.ok());
  CHECK_FALSE(PrepareSignature(key, "rcpt_x").ready());
}

TEST_CASE("BlockRandom: distinct draws across block refills, a forked child draws other bytes") {
  Init();
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {  // 1000 x 32 bytes: several 4 KB blocks
    std::string draw(32, '\0');
    BlockRandom(draw.data(), draw.size());
    seen.insert(draw);
  }
  CHECK(seen.size() == 1000);
  std::string large(100, '\0');  // beyond a block draw: straight from the system
  BlockRandom(large.data(), large.size());
  CHECK(large != std::string(100, '\0'));

  // The parent's block is copied into the child: without the fork guard both
  // would hand out the same next bytes.
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    char mine[32];
    BlockRandom(mine, sizeof mine);
    _exit(write(fds[1], mine, sizeof mine) == sizeof mine ? 0 : 1);
  }
  std::string parent(32, '\0'), from_child(32, '\0');
  BlockRandom(parent.data(), parent.size());
  REQUIRE(read(fds[0], from_child.data(), from_child.size()) == 32);
  int status = 0;
  waitpid(child, &status, 0);
  close(fds[0]);
  close(fds[1]);
  CHECK(WIFEXITED(status));
  CHECK(parent != from_child);
}

}  // namespace helm::crypto
