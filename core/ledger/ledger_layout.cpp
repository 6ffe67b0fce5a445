#include "core/ledger/ledger_layout.h"

namespace helm::ledger_layout {

std::string EncodeSeq(uint64_t seq) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(seq & 0xff);
    seq >>= 8;
  }
  return out;
}

std::optional<uint64_t> DecodeSeq(std::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  uint64_t seq = 0;
  for (char c : bytes) seq = (seq << 8) | static_cast<uint8_t>(c);
  return seq;
}

bool IndexableAgent(std::string_view agent) {
  return !agent.empty() && agent.find('\0') == std::string_view::npos;
}

std::string AgentPrefix(std::string_view agent) {
  std::string out(agent);
  out.push_back('\0');
  return out;
}

std::string AgentKey(std::string_view agent, uint64_t seq) {
  return AgentPrefix(agent) + EncodeSeq(seq);
}

std::optional<uint64_t> AgentKeySeq(std::string_view key) {
  if (key.size() < 9 || key[key.size() - 9] != '\0') return std::nullopt;
  return DecodeSeq(key.substr(key.size() - 8));
}

}  // namespace helm::ledger_layout
