// Readers: point reads by seq and id, listing by agent, tail waiting.
#include <rocksdb/db.h>

#include <memory>
#include <string>

#include "core/ledger/ledger_layout.h"
#include "core/ledger/rocks_ledger.h"
#include "core/ledger/rocks_util.h"

namespace helm::ledger_internal {

namespace layout = ledger_layout;

Result<std::optional<std::string>> RocksLedger::Get(uint64_t seq) const {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf_[kReceipts], layout::EncodeSeq(seq), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "read receipt " + std::to_string(seq));
  return std::optional<std::string>(std::move(value));
}

Result<std::optional<std::string>> RocksLedger::GetById(std::string_view receipt_id) const {
  std::string key;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_[kById], receipt_id, &key);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "read by_id");
  std::optional<uint64_t> seq = layout::DecodeSeq(key);
  if (!seq) return MakeError(ErrorCode::kCorruption, "by_id value is not an 8-byte seq");
  Result<std::string> stored = GetIndexed(*seq, "by_id");
  if (!stored.ok()) return stored.error();
  return std::optional<std::string>(std::move(stored).value());
}

Result<std::string> RocksLedger::GetIndexed(uint64_t seq, std::string_view index) const {
  Result<std::optional<std::string>> stored = Get(seq);
  if (!stored.ok()) return stored.error();
  if (!*stored) {
    return MakeError(ErrorCode::kCorruption, std::string(index) + " names seq " +
                                                 std::to_string(seq) + ", which has no receipt");
  }
  return std::move(**stored);
}

Result<std::vector<Appended>> RocksLedger::List(uint64_t from_seq, size_t limit,
                                                std::string_view agent) const {
  std::vector<Appended> out;
  if (limit == 0) return out;
  auto add = [&](uint64_t seq, std::string stored) {
    Appended a;
    a.seq = seq;
    Result<Json> j = ParseStrictJson(stored);
    if (j.ok() && j->is_object() && j->contains("receipt_id") && (*j)["receipt_id"].is_string()) {
      a.receipt_id = (*j)["receipt_id"].get<std::string>();
    }
    a.stored = std::move(stored);
    out.push_back(std::move(a));
  };
  if (agent.empty()) {
    Status read = ForEach(from_seq, UINT64_MAX, [&](uint64_t seq, std::string_view stored) {
      add(seq, std::string(stored));
      return out.size() < limit;
    });
    if (!read.ok()) return read.error();
    return out;
  }
  if (!layout::IndexableAgent(agent)) return out;
  const std::string prefix = layout::AgentPrefix(agent);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_[kByAgent]));
  for (it->Seek(layout::AgentKey(agent, from_seq)); it->Valid() && out.size() < limit; it->Next()) {
    if (!it->key().starts_with(prefix)) break;
    std::optional<uint64_t> seq = layout::AgentKeySeq(it->key().ToStringView());
    if (!seq) return MakeError(ErrorCode::kCorruption, "by_agent key is not agent 0x00 seq");
    Result<std::string> stored = GetIndexed(*seq, "by_agent");
    if (!stored.ok()) return stored.error();
    add(*seq, std::move(stored).value());
  }
  // An iterator stops on a read error as on the end of the data: only its status tells.
  if (!it->status().ok()) return FromRocks(it->status(), "read by_agent");
  return out;
}

Status RocksLedger::ForEach(uint64_t from_seq, uint64_t to_seq,
                            const std::function<bool(uint64_t, std::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_[kReceipts]));
  for (it->Seek(layout::EncodeSeq(from_seq)); it->Valid(); it->Next()) {
    std::optional<uint64_t> seq = layout::DecodeSeq(it->key().ToStringView());
    if (!seq) return MakeError(ErrorCode::kCorruption, "receipts key is not an 8-byte seq");
    if (*seq > to_seq || !fn(*seq, it->value().ToStringView())) return Status::Ok();
  }
  // An iterator stops on a read error as on the end of the data: only its status tells.
  if (!it->status().ok()) return FromRocks(it->status(), "read receipts");
  return Status::Ok();
}

uint64_t RocksLedger::HeadSeq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return durable_.head_seq;
}

std::string RocksLedger::HeadHash() const {
  std::lock_guard<std::mutex> lock(mu_);
  return durable_.head_hash;
}

uint64_t RocksLedger::WaitForAppend(uint64_t after_seq, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  append_cv_.wait_for(lock, timeout, [&] { return durable_.head_seq > after_seq; });
  return durable_.head_seq;
}

}  // namespace helm::ledger_internal
