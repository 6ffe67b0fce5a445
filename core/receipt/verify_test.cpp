#include "core/receipt/verify.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/receipt/test_chain.h"

namespace helm::receipt {
namespace {

using testing::ChainBuilder;

// Ten receipts: decision/outcome pairs, one ALLOW left open (seq 7), a DENY,
// and a checkpoint at seq 10 describing seq 9.
std::vector<std::string> TenReceipts(ChainBuilder& b) {
  std::vector<std::string> out;
  out.push_back(b.Decision());        // 1
  out.push_back(b.Outcome(1));        // 2
  out.push_back(b.Decision("DENY"));  // 3
  out.push_back(b.Decision());        // 4
  out.push_back(b.Outcome(4));        // 5
  out.push_back(b.Decision());        // 6
  out.push_back(b.Decision());        // 7 (never completed)
  out.push_back(b.Outcome(6));        // 8
  out.push_back(b.Decision("DENY"));  // 9
  out.push_back(b.Checkpoint());      // 10
  return out;
}

VerifyReport Run(const std::vector<std::string>& lines, const std::string& trusted_key,
                 const std::vector<std::string>& pins = {}) {
  ChainVerifier v({trusted_key});
  for (const auto& pin : pins) REQUIRE(v.AddTrustedCheckpoint(pin).ok());
  for (const auto& line : lines) v.Add(line);
  return v.Finish();
}

}  // namespace

TEST_CASE("a clean chain passes and reports head, checkpoints and open decisions") {
  ChainBuilder b;
  auto lines = TenReceipts(b);
  auto r = Run(lines, b.key().public_key);
  CHECK(r.integrity_ok);
  CHECK(r.trust_ok);
  CHECK(r.receipts == 10);
  CHECK(r.checkpoints == 1);
  CHECK(r.head_seq == 10);
  CHECK(r.head_hash == crypto::Sha256Tagged(lines.back()));
  CHECK(r.first_broken_check.empty());
  CHECK(r.decisions_without_outcome == std::vector<std::string>{"rcpt_7"});
  Json j = r.ToJson();
  CHECK(j["integrity_ok"] == true);
  CHECK(j["decisions_without_outcome"] == Json::array({"rcpt_7"}));
  CHECK(j["head_seq"] == 10);
}

TEST_CASE("receipts checked in parallel batches are reported in input order") {
  ChainBuilder b;
  std::vector<std::string> lines;
  for (int pair = 0; pair < 1300; ++pair) {  // 2,600 receipts: more than two batches
    lines.push_back(b.Decision());
    lines.push_back(b.Outcome(b.next_seq() - 1));
  }
  lines.push_back(b.Decision());  // seq 2601, left open
  const VerifyReport whole = Run(lines, b.key().public_key);
  CHECK(whole.integrity_ok);
  CHECK(whole.trust_ok);
  CHECK(whole.receipts == 2601);
  CHECK(whole.head_seq == 2601);
  CHECK(whole.decisions_without_outcome == std::vector<std::string>{"rcpt_2601"});

  auto edit = [](std::string line) {  // a signed value changed: the signature fails
    line[line.find("completed")] = 'k';
    return line;
  };
  auto damaged = lines;
  damaged[2199] = edit(damaged[2199]);  // seq 2200, in the third batch
  VerifyReport late = Run(damaged, b.key().public_key);
  CHECK(late.first_broken_seq == 2200);
  CHECK(late.first_broken_check == "signature");
  damaged[1099] = edit(damaged[1099]);  // seq 1100, in the second: the first failure
  damaged[1500].resize(10);             // and a later format failure
  VerifyReport early = Run(damaged, b.key().public_key);
  CHECK(early.first_broken_seq == 1100);
  CHECK(early.first_broken_check == "signature");
  CHECK(early.receipts == 2601);
}

TEST_CASE("an empty input is intact") {
  ChainVerifier v({});
  auto r = v.Finish();
  CHECK(r.integrity_ok);
  CHECK(r.receipts == 0);
}

TEST_CASE("an edited byte is detected at its seq") {
  ChainBuilder b;
  auto lines = TenReceipts(b);
  // Change a value inside the signed part without breaking the JSON.
  const size_t at = lines[4].find("completed");
  REQUIRE(at != std::string::npos);
  lines[4][at] = 'k';
  auto r = Run(lines, b.key().public_key);
  CHECK_FALSE(r.integrity_ok);
  CHECK(r.first_broken_seq == 5);
  CHECK(r.first_broken_check == "signature");
  CHECK(r.ToJson()["first_broken_check"] == "signature");
}

TEST_CASE("non-canonical and unparsable lines are format failures") {
  ChainBuilder b;
  auto lines = TenReceipts(b);
  auto spaced = lines;
  spaced[2].insert(1, " ");
  auto r = Run(spaced, b.key().public_key);
  CHECK(r.first_broken_check == "format");
  CHECK(r.first_broken_seq == 3);  // line number
  auto cut = lines;
  cut[2].resize(cut[2].size() / 2);
  CHECK(Run(cut, b.key().public_key).first_broken_check == "format");
  auto blank = lines;
  blank.insert(blank.begin() + 3, "");
  CHECK(Run(blank, b.key().public_key).first_broken_check == "format");
}

TEST_CASE("a removed receipt breaks seq contiguity") {
  ChainBuilder b;
  auto lines = TenReceipts(b);
  lines.erase(lines.begin() + 5);  // seq 6
  auto r = Run(lines, b.key().public_key);
  CHECK_FALSE(r.integrity_ok);
  CHECK(r.first_broken_seq == 7);
  CHECK(r.first_broken_check == "seq");
}

TEST_CASE("a reordered pair is detected") {
  ChainBuilder b;
  auto lines = TenReceipts(b);
  std::swap(lines[3], lines[4]);
  auto r = Run(lines, b.key().public_key);
  CHECK_FALSE(r.integrity_ok);
  CHECK(r.first_broken_seq == 5);
  CHECK(r.first_broken_check == "seq");
}

TEST_CASE("a re-signed receipt with a wrong prev_hash breaks the chain") {
  ChainBuilder good;
  auto lines = TenReceipts(good);
  // Replace seq 4 by a validly signed receipt that links to nothing.
  auto forged = ParseStored(lines[3]).value();
  forged["prev_hash"] = kGenesisPrevHash;
  forged.erase("signature");
  lines[3] = Sign(forged, good.key()).value().canonical;
  auto r = Run(lines, good.key().public_key);
  CHECK(r.first_broken_seq == 4);
  CHECK(r.first_broken_check == "prev_hash");
}

TEST_CASE("seq 1 must link to the genesis hash, a later range start is taken on trust") {
  ChainBuilder b;
  auto lines = TenReceipts(b);
  auto range = std::vector<std::string>(lines.begin() + 4, lines.end());  // seq 5..10
  auto r = Run(range, b.key().public_key);
  CHECK(r.integrity_ok);
  CHECK(r.receipts == 6);
  CHECK(r.head_seq == 10);
  // Outcome 5 names decision 4, outside the range: not counted as open.
  CHECK(r.decisions_without_outcome == std::vector<std::string>{"rcpt_7"});
}

TEST_CASE("a checkpoint that misdescribes the head fails") {
  ChainBuilder b;
  std::vector<std::string> lines = {b.Decision(), b.Decision()};
  lines.push_back(
      b.Append("checkpoint", Json{{"checkpoint", {{"seq", 1}, {"head_hash", "sha256:00"}}}}));
  auto r = Run(lines, b.key().public_key);
  CHECK(r.first_broken_seq == 3);
  CHECK(r.first_broken_check == "checkpoint");
  ChainBuilder b2;
  lines = {b2.Decision(), b2.Append("checkpoint")};  // no checkpoint member
  CHECK(Run(lines, b2.key().public_key).first_broken_check == "checkpoint");
}

TEST_CASE("truncation below a trusted checkpoint is detected") {
  ChainBuilder b;
  auto lines = TenReceipts(b);  // 1..10, checkpoint at 10 names 9
  lines.push_back(b.Decision());  // 11
  lines.push_back(b.Outcome(11));  // 12
  lines.push_back(b.Checkpoint());  // 13 names 12
  const std::string pin = lines[12];
  // The full export verifies against the pin.
  auto full = Run(lines, b.key().public_key, {pin});
  CHECK(full.integrity_ok);
  // Drop 8..13: the pin names seq 12, the input ends at 7.
  std::vector<std::string> shortened(lines.begin(), lines.begin() + 7);
  auto r = Run(shortened, b.key().public_key, {pin});
  CHECK_FALSE(r.integrity_ok);
  CHECK(r.first_broken_check == "truncated");
  CHECK(r.first_broken_seq == 8);
  // Without the pin, the shortened export looks intact: this is what pins are for.
  CHECK(Run(shortened, b.key().public_key).integrity_ok);
}

// Regression: the input only had to reach the seq the checkpoint names, so
// an export cut just before the checkpoint itself passed.
TEST_CASE("an input that ends just before a trusted checkpoint is truncated") {
  ChainBuilder b;
  auto lines = TenReceipts(b);  // the checkpoint at 10 names 9
  const std::string pin = lines[9];
  lines.pop_back();
  auto r = Run(lines, b.key().public_key, {pin});
  CHECK_FALSE(r.integrity_ok);
  CHECK(r.first_broken_check == "truncated");
  CHECK(r.first_broken_seq == 10);
  CHECK(Run({}, b.key().public_key, {pin}).first_broken_check == "truncated");
}

TEST_CASE("a trusted checkpoint before the input's first receipt is reported, not passed") {
  ChainBuilder b;
  auto lines = TenReceipts(b);  // the checkpoint at 10 names 9
  const std::string pin = lines[9];
  lines.push_back(b.Decision());  // 11
  lines.push_back(b.Decision());  // 12
  std::vector<std::string> after(lines.begin() + 10, lines.end());  // 11, 12
  auto r = Run(after, b.key().public_key, {pin});
  CHECK_FALSE(r.integrity_ok);
  CHECK(r.first_broken_check == "checkpoint");
  CHECK(r.first_broken_seq == 10);
  // A range that starts at the checkpoint, or at the seq it names, checks it.
  for (size_t first : {8, 9}) {
    std::vector<std::string> range(lines.begin() + first, lines.end());
    CHECK(Run(range, b.key().public_key, {pin}).integrity_ok);
  }
}

TEST_CASE("a whole ledger starts at seq 1 and ends at the ledger's head") {
  ChainBuilder b;
  auto lines = TenReceipts(b);
  const std::string head_hash = crypto::Sha256Tagged(lines.back());
  auto whole = [&](const std::vector<std::string>& input, uint64_t head_seq,
                   const std::string& hash) {
    ChainVerifier v({b.key().public_key});
    v.ExpectWholeLedger(head_seq, hash);
    for (const auto& line : input) v.Add(line);
    return v.Finish();
  };
  CHECK(whole(lines, 10, head_hash).integrity_ok);
  CHECK(whole({}, 0, kGenesisPrevHash).integrity_ok);

  auto r = whole(std::vector<std::string>(lines.begin() + 3, lines.end()), 10, head_hash);
  CHECK(r.first_broken_check == "seq");  // a range is fine in an export, not in a ledger
  CHECK(r.first_broken_seq == 4);
  r = whole(std::vector<std::string>(lines.begin(), lines.end() - 1), 10, head_hash);
  CHECK(r.first_broken_check == "truncated");
  CHECK(r.first_broken_seq == 10);
  r = whole(lines, 9, head_hash);
  CHECK(r.first_broken_check == "seq");
  CHECK(r.first_broken_seq == 10);
  r = whole(lines, 10, crypto::Sha256Tagged(lines[8]));
  CHECK(r.first_broken_check == "prev_hash");
  CHECK(r.first_broken_seq == 10);
}

TEST_CASE("a read error is a format failure at the seq after the last one read") {
  ChainBuilder b;
  auto lines = TenReceipts(b);
  ChainVerifier v({b.key().public_key});
  for (size_t i = 0; i < 3; ++i) v.Add(lines[i]);
  v.ReadFailed("Corruption: block checksum mismatch");
  auto r = v.Finish();
  CHECK_FALSE(r.integrity_ok);
  CHECK(r.first_broken_check == "format");
  CHECK(r.first_broken_seq == 4);
  CHECK(r.first_broken_detail.find("block checksum mismatch") != std::string::npos);
  ChainVerifier empty({b.key().public_key});
  empty.ReadFailed("IO error");
  CHECK(empty.Finish().first_broken_seq == 1);
}

TEST_CASE("a rewritten history that contradicts a trusted checkpoint is detected") {
  ChainBuilder b;
  auto lines = TenReceipts(b);
  const std::string pin = lines[9];  // names seq 9
  // Seq 9 replaced by different content, correctly linked and signed by the same key.
  std::vector<std::string> diverged(lines.begin(), lines.begin() + 8);
  auto seq9 = ParseStored(lines[8]).value();
  seq9.erase("signature");
  seq9["verdict"] = "ALLOW";
  diverged.push_back(Sign(seq9, b.key()).value().canonical);
  CHECK(Run(diverged, b.key().public_key).integrity_ok);  // undetectable without the pin
  auto r = Run(diverged, b.key().public_key, {pin});
  CHECK_FALSE(r.integrity_ok);
  CHECK(r.first_broken_seq == 9);
  CHECK(r.first_broken_check == "checkpoint");
}

TEST_CASE("AddTrustedCheckpoint accepts only trusted, signed checkpoints, before any Add") {
  ChainBuilder b;
  auto lines = TenReceipts(b);
  ChainVerifier v({b.key().public_key});
  CHECK_FALSE(v.AddTrustedCheckpoint(lines[0]).ok());  // not a checkpoint
  std::string tampered = lines[9];
  tampered[tampered.find("\"seq\":9") + 6] = '8';
  CHECK_FALSE(v.AddTrustedCheckpoint(tampered).ok());
  ChainVerifier other({"another key, not this one..........."});
  CHECK_FALSE(other.AddTrustedCheckpoint(lines[9]).ok());
  CHECK(v.AddTrustedCheckpoint(lines[9]).ok());
  v.Add(lines[0]);
  CHECK_FALSE(v.AddTrustedCheckpoint(lines[9]).ok());
}

TEST_CASE("an untrusted signer fails trust, not integrity") {
  ChainBuilder b;
  auto lines = TenReceipts(b);
  crypto::KeyPair stranger = crypto::GenerateKeyPair();
  auto r = Run(lines, stranger.public_key);
  CHECK(r.integrity_ok);
  CHECK_FALSE(r.trust_ok);
  CHECK(r.first_untrusted_seq == 1);
  CHECK(r.untrusted_key_id == crypto::KeyId(b.key().public_key));
}

TEST_CASE("a key rotation mid-chain: trust names the first receipt of the unknown key") {
  ChainBuilder b;
  std::vector<std::string> lines = {b.Decision(), b.Outcome(1)};
  const auto first_key = b.key();
  b.set_key(crypto::GenerateKeyPair());
  lines.push_back(b.Decision());
  auto r = Run(lines, first_key.public_key);
  CHECK(r.integrity_ok);
  CHECK_FALSE(r.trust_ok);
  CHECK(r.first_untrusted_seq == 3);
}

TEST_CASE("a receipt transplanted from another ledger fails") {
  ChainBuilder ours("ldg_ours");
  ChainBuilder theirs("ldg_theirs");
  theirs.set_key(ours.key());
  auto lines = TenReceipts(ours);
  auto foreign = TenReceipts(theirs);
  lines[5] = foreign[5];  // same seq, same key, other ledger
  auto r = Run(lines, ours.key().public_key);
  CHECK_FALSE(r.integrity_ok);
  CHECK(r.first_broken_seq == 6);
  CHECK(r.first_broken_check == "ledger_id");
}

}  // namespace helm::receipt
