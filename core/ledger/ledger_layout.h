// Byte layout of the ledger database (docs/ledger.md is the specification;
// this file is its one implementation). Pure functions, no RocksDB types;
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace helm::ledger_layout {

// Column families. "default" exists (RocksDB requires it) and stays empty.
inline constexpr char kReceiptsCf[] = "receipts";  // EncodeSeq(seq) -> stored receipt
inline constexpr char kByIdCf[] = "by_id";         // receipt_id -> EncodeSeq(seq)
inline constexpr char kByAgentCf[] = "by_agent";   // AgentKey(agent, seq) -> ""
inline constexpr char kMetaCf[] = "meta";          // kMeta* -> value below

// Meta keys (ASCII) and their values.
inline constexpr char kMetaFormat[] = "format";                 // kFormatVersion
inline constexpr char kMetaLedgerId[] = "ledger_id";            // "ldg_" + ULID
inline constexpr char kMetaHeadSeq[] = "head_seq";              // EncodeSeq(head seq)
inline constexpr char kMetaHeadHash[] = "head_hash";            // "sha256:<hex>" of the head
inline constexpr char kMetaCheckpointSeq[] = "checkpoint_seq";  // EncodeSeq(last checkpoint)
inline constexpr char kFormatVersion[] = "helm.ledger.v1";

// 8 bytes, big-endian, so that RocksDB's bytewise order is seq order.
std::string EncodeSeq(uint64_t seq);
// nullopt unless `bytes` is exactly 8 bytes.
std::optional<uint64_t> DecodeSeq(std::string_view bytes);

// by_agent key: agent bytes, one 0x00, EncodeSeq(seq). Agents that contain
// 0x00 are not indexed (IndexableAgent is false): the key would be ambiguous.
bool IndexableAgent(std::string_view agent);
std::string AgentKey(std::string_view agent, uint64_t seq);
std::string AgentPrefix(std::string_view agent);  // agent bytes + 0x00
// The seq of a by_agent key, nullopt when the key is malformed.
std::optional<uint64_t> AgentKeySeq(std::string_view key);

}  // namespace helm::ledger_layout
