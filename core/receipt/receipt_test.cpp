#include "core/receipt/receipt.h"

#include <doctest/doctest.h>

#include <cctype>
#include <string>

#include "core/receipt/jcs.h"

namespace helm::receipt {
namespace {

Json SampleReceipt() {
  return Json{{"v", kVersion},
              {"kind", "decision"},
              {"receipt_id", "rcpt_01J0000000000000000000000"},
              {"ledger_id", "ldg_1"},
              {"seq", 1},
              {"prev_hash", kGenesisPrevHash},
              {"time", "2025-01-01T00:00:00.000001Z"},
              {"principal", {{"agent", "agent-\xC3\xBC-\xF0\x9F\x98\x80"}, {"api_key_id", "k1"}}},
              {"verdict", "ALLOW"},
              {"reason_code", "ok\ttab"},
              {"request", {{"stream", true}, {"model", "m"}, {"hash", "sha256:ab"}}},
              {"usage", {{"in", 10}, {"out", 20}, {"cached", 0}}}};
}

// What a verifier does with one stored line before chain checks.
bool Accepts(std::string_view stored) {
  auto parsed = ParseStored(stored);
  return parsed.ok() && CheckSignature(*parsed).ok();
}

crypto::KeyPair Key() {
  crypto::Init();
  return crypto::GenerateKeyPair();
}

}  // namespace

TEST_CASE("sign then check round-trips, stored form and hash are consistent") {
  const auto key = Key();
  auto s = Sign(SampleReceipt(), key);
  REQUIRE(s.ok());
  CHECK(s->json["signer"]["alg"] == "ed25519");
  CHECK(s->json["signer"]["key_id"] == crypto::KeyId(key.public_key));
  CHECK(s->json["signer"]["public_key"] == crypto::HexEncode(key.public_key));
  CHECK(s->json["signature"].get<std::string>().size() == 86);  // 64 bytes, unpadded
  CHECK(s->canonical == Canonicalize(s->json).value());
  CHECK(s->hash == crypto::Sha256Tagged(s->canonical));
  CHECK(CheckSignature(s->json).ok());
  CHECK(Accepts(s->canonical));
}

TEST_CASE("signing bytes exclude exactly the signature member") {
  const auto key = Key();
  auto s = Sign(SampleReceipt(), key);
  REQUIRE(s.ok());
  Json without = s->json;
  without.erase("signature");
  CHECK(SigningBytes(s->json).value() == Canonicalize(without).value());
  CHECK(SigningBytes(s->json).value().find("\"signer\":") != std::string::npos);
  CHECK(crypto::Verify(SigningBytes(s->json).value(),
                       crypto::Base64UrlDecode(s->json["signature"].get<std::string>()).value(),
                       key.public_key));
}

TEST_CASE("every single-byte edit of the stored form is rejected") {
  const auto key = Key();
  auto s = Sign(SampleReceipt(), key);
  REQUIRE(s.ok());
  const std::string& stored = s->canonical;
  int edits = 0;
  for (size_t i = 0; i < stored.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string edited = stored;
      edited[i] = static_cast<char>(edited[i] ^ (1 << bit));
      ++edits;
      if (Accepts(edited)) FAIL_CHECK("accepted an edit at byte " << i << " bit " << bit);
    }
    for (char c : {' ', '0', '"', 'A', '\\'}) {
      if (stored[i] == c) continue;
      std::string edited = stored;
      edited[i] = c;
      ++edits;
      if (Accepts(edited)) FAIL_CHECK("accepted '" << c << "' at byte " << i);
    }
  }
  CHECK(edits > 1000);
  // Insertions and deletions too.
  CHECK_FALSE(Accepts(stored.substr(1)));
  CHECK_FALSE(Accepts(stored.substr(0, stored.size() - 1)));
  CHECK_FALSE(Accepts(stored + "\n"));
  CHECK_FALSE(Accepts(" " + stored));
}

TEST_CASE("a valid signature is rejected under another key") {
  const auto key = Key();
  const auto other = Key();
  auto s = Sign(SampleReceipt(), key);
  REQUIRE(s.ok());
  // Swap in the other key with a consistent key_id: the signature no longer verifies.
  Json swapped = s->json;
  swapped["signer"]["public_key"] = crypto::HexEncode(other.public_key);
  swapped["signer"]["key_id"] = crypto::KeyId(other.public_key);
  CHECK_FALSE(CheckSignature(swapped).ok());
  // Swap only the public key: key_id no longer matches.
  Json half = s->json;
  half["signer"]["public_key"] = crypto::HexEncode(other.public_key);
  auto st = CheckSignature(half);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("key_id") != std::string::npos);
  // The other key's signature over the same pre-image, stored under the first key.
  Json forged = s->json;
  forged["signature"] =
      crypto::Base64UrlEncode(crypto::Sign(SigningBytes(s->json).value(), other.secret_key));
  CHECK_FALSE(CheckSignature(forged).ok());
}

TEST_CASE("malformed signer or signature is rejected, naming the check") {
  const auto key = Key();
  auto s = Sign(SampleReceipt(), key);
  REQUIRE(s.ok());
  auto expect_fail = [](Json r, const char* needle) {
    auto st = CheckSignature(r);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message.find(needle) != std::string::npos);
  };
  Json r = s->json;
  r.erase("signer");
  expect_fail(r, "signer");
  r = s->json;
  r.erase("signature");
  expect_fail(r, "signature");
  r = s->json;
  r["signer"]["alg"] = "ed448";
  expect_fail(r, "alg");
  r = s->json;
  std::string upper = r["signer"]["public_key"];
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  r["signer"]["public_key"] = upper;
  expect_fail(r, "public_key");
  r = s->json;
  r["signature"] = r["signature"].get<std::string>() + "==";
  expect_fail(r, "signature");
  r = s->json;
  r["seq"] = 2;
  expect_fail(r, "does not verify");
}

TEST_CASE("a float anywhere is an error") {
  const auto key = Key();
  for (const char* path : {"/usage/in", "/seq", "/request/extra", "/x"}) {
    Json r = SampleReceipt();
    r[Json::json_pointer(path)] = 1.5;
    CHECK_FALSE(SigningBytes(r).ok());
    CHECK_FALSE(Sign(r, key).ok());
  }
  Json r = SampleReceipt();
  r["list"] = Json::array({1, 2, Json::array({0.0})});
  CHECK_FALSE(Sign(r, key).ok());
  CHECK_FALSE(ParseStored(R"({"a":1.5})").ok());
  CHECK_FALSE(ParseStored(R"({"a":[1e3]})").ok());
  CHECK(ParseStored(R"({"a":[1000]})").ok());
}

TEST_CASE("stored form must be canonical, an object, and valid JSON") {
  CHECK_FALSE(ParseStored(R"({"b":1,"a":2})").ok());
  CHECK_FALSE(ParseStored(R"({"a": 2})").ok());
  CHECK_FALSE(ParseStored(R"({"a":"\u0041"})").ok());
  CHECK_FALSE(ParseStored(R"({"a":1,"a":1})").ok());
  CHECK_FALSE(ParseStored(R"([1])").ok());
  CHECK_FALSE(ParseStored("").ok());
  CHECK(ParseStored(R"({"a":2,"b":"\u000f"})").ok());
}

}  // namespace helm::receipt
