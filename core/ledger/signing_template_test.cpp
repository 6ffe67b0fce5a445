// The writer's template path against the obvious one (receipt::Sign over the
// whole object): identical stored bytes and hash for random receipts.
#include "core/ledger/signing_template.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>

#include "core/receipt/jcs.h"
#include "core/receipt/receipt.h"

namespace helm::ledger_internal {
namespace {

const char* const kNames[] = {
    "kind",     "verdict",      "a\"q\\",           "z\n",  "principal", "route",
    "\xC3\xA9", "\xEF\xBF\xBD", "\xF0\x9F\x98\x80", "seq2", "Seq",       "_"};

Json RandomValue(std::mt19937_64& rng, int depth) {
  // Scalars at any depth; arrays and objects above depth 2.
  switch (rng() % (depth > 2 ? 6 : 8)) {
    case 0:
      return static_cast<int64_t>(rng() % 2000) - 1000;
    case 1:
      return std::string("s\"\\\n\x7f\xC3\xA9") + std::to_string(rng() % 100);
    case 2:
      return rng() % 2 == 0;
    case 3:
      return nullptr;
    case 4: {  // around the limits of exact doubles and of int64 / uint64
      const int64_t around[] = {(int64_t{1} << 53) - 1,  int64_t{1} << 53, (int64_t{1} << 53) + 1,
                                -(int64_t{1} << 53) - 1, INT64_MIN,        INT64_MAX};
      if (rng() % 4 == 0) return Json(static_cast<uint64_t>(UINT64_MAX - rng() % 3));
      return around[rng() % 6];
    }
    case 5:
      return std::string("plain ascii ") + std::to_string(rng() % 100);
    case 6: {
      Json arr = Json::array();
      for (size_t i = rng() % 4; i > 0; --i) arr.push_back(RandomValue(rng, depth + 1));
      return arr;
    }
    default: {
      Json obj = Json::object();
      for (size_t i = rng() % 5; i > 0; --i) obj[kNames[rng() % 12]] = RandomValue(rng, depth + 1);
      return obj;
    }
  }
}

Result<PreparedReceipt> PrepareJson(const Json& receipt, std::string_view ledger_id,
                                    std::string_view signer, bool keep_json = true) {
  Result<ReceiptDraft> draft = ReceiptDraft::FromJson(receipt);
  if (!draft.ok()) return draft.error();
  return Prepare(std::move(*draft), ledger_id, signer, keep_json);
}

TEST_CASE("template signing gives receipt::Sign's bytes for random receipts") {
  crypto::Init();
  const crypto::KeyPair key = crypto::GenerateKeyPair();
  const uint64_t seed = std::random_device{}();
  std::printf("signing_template_test seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  auto reference_signer = receipt::Sign(Json{{"kind", "x"}}, key);
  REQUIRE(reference_signer.ok());
  const std::string signer = Canonicalize(reference_signer->json["signer"]).value();
  for (int round = 0; round < 300; ++round) {
    Json r = Json::object();
    for (size_t i = rng() % 8; i > 0; --i) r[kNames[rng() % 12]] = RandomValue(rng, 0);
    if (rng() % 2) r["receipt_id"] = "rcpt_" + std::to_string(round);
    if (rng() % 3 == 0) r["seq"] = 5;  // ledger-filled: replaced
    auto prepared = PrepareJson(r, "ldg_x", signer);
    REQUIRE(prepared.ok());
    const uint64_t seq = rng() % 100000;
    const std::string prev = crypto::Sha256Tagged(std::to_string(round));
    const std::string time = "2026-01-02T03:04:05.678901Z";

    std::string signing;
    const std::string seq_text = std::to_string(seq);
    const std::string prev_text = "\"" + prev + "\"";
    const std::string time_text = "\"" + time + "\"";
    Render(prepared->pieces, Form::kSigned, {prev_text, seq_text, time_text, {}}, &signing);
    const std::string sig =
        "\"" + crypto::Base64UrlEncode(crypto::Sign(signing, key.secret_key)) + "\"";
    std::string stored;
    Render(prepared->pieces, Form::kStored, {prev_text, seq_text, time_text, sig}, &stored);

    Json full = prepared->json;
    full["seq"] = seq;
    full["prev_hash"] = prev;
    full["time"] = time;
    auto reference = receipt::Sign(full, key);
    REQUIRE(reference.ok());
    CHECK(stored == reference->canonical);
    CHECK(signing == receipt::SigningBytes(reference->json).value());
    CHECK(prepared->json["ledger_id"] == "ldg_x");
    CHECK(prepared->json["v"] == receipt::kVersion);

    // Without the JSON copy (the writer's path): the same bytes and id.
    auto lean = PrepareJson(r, "ldg_x", signer, /*keep_json=*/false);
    REQUIRE(lean.ok());
    CHECK(lean->json.is_null());
    // A freshly minted id differs: the same bytes once the id is swapped.
    auto swap_id = [&](std::string bytes) {
      if (lean->receipt_id != prepared->receipt_id) {
        bytes.replace(bytes.find(prepared->receipt_id), prepared->receipt_id.size(),
                      lean->receipt_id);
      }
      return bytes;
    };
    if (r.contains("receipt_id")) CHECK(lean->receipt_id == prepared->receipt_id);
    std::string lean_signing;
    Render(lean->pieces, Form::kSigned, {prev_text, seq_text, time_text, {}}, &lean_signing);
    CHECK(lean_signing == swap_id(signing));
    std::string lean_stored;
    Render(lean->pieces, Form::kStored, {prev_text, seq_text, time_text, sig}, &lean_stored);
    CHECK(lean_stored == swap_id(stored));
  }
}

TEST_CASE("Prepare refuses what cannot be a receipt") {
  for (const Json& bad : {Json::array(), Json{{"x", 0.5}}, Json{{"receipt_id", 7}},
                          Json{{"receipt_id", ""}}, Json{{"bad", "\xff"}}}) {
    CHECK(PrepareJson(bad, "l", "{}").error().code == ErrorCode::kInvalidArgument);
  }
  // A draft may not carry what the ledger fills in.
  for (const char* filled : {"v", "ledger_id", "receipt_id", "signer", "seq", "signature"}) {
    CAPTURE(filled);
    ReceiptDraft draft;
    draft.members.AddString("kind", "decision");
    draft.members.AddInt(filled, 1);
    CHECK(Prepare(std::move(draft), "l", "{}", false).error().code == ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace helm::ledger_internal
