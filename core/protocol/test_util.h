// Helpers for the protocol tests: build SSE frames, run decoders and
// encoders, and split encoder output back into events.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/protocol/translate.h"

namespace helm::protocol::testing {

// A client request body of the shared corpus, tests/corpus/requests/<path>
// (also replayed by core/policy/facts_differential_test.cpp); null when the
// file is missing.
inline Json LoadRequest(const std::string& path) {
  std::ifstream in(std::string(HELM_SOURCE_DIR) + "/tests/corpus/requests/" + path);
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = ParseStrictJson(text.str());
  return in && parsed.ok() ? std::move(parsed).value() : Json();
}

struct ParsedSse {
  std::string event;
  std::string data;  // raw
  Json json;         // parsed data, or null for non-JSON data ([DONE])
};

// Splits encoder output ("event: x\ndata: y\n\n" blocks) into events.
inline std::vector<ParsedSse> SplitSse(const std::string& bytes) {
  std::vector<ParsedSse> out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t end = bytes.find("\n\n", pos);
    if (end == std::string::npos) end = bytes.size();
    std::string block = bytes.substr(pos, end - pos);
    pos = end + 2;
    ParsedSse ev;
    size_t lpos = 0;
    while (lpos < block.size()) {
      size_t lend = block.find('\n', lpos);
      if (lend == std::string::npos) lend = block.size();
      std::string line = block.substr(lpos, lend - lpos);
      lpos = lend + 1;
      if (line.rfind("event: ", 0) == 0) ev.event = line.substr(7);
      if (line.rfind("data: ", 0) == 0) ev.data = line.substr(6);
    }
    Json j = Json::parse(ev.data, nullptr, false);
    ev.json = j.is_discarded() ? Json() : j;
    out.push_back(std::move(ev));
  }
  return out;
}

inline std::vector<ir::StreamEvent> Decode(ProviderKind kind, const std::vector<SseFrame>& frames,
                                           bool* ended_without_finish = nullptr) {
  auto dec = MakeStreamDecoder(kind);
  std::vector<ir::StreamEvent> out;
  for (const auto& f : frames) {
    Status s = dec->OnEvent(f, &out);
    if (!s.ok()) break;
  }
  dec->Close(&out);
  if (ended_without_finish) *ended_without_finish = dec->ended_without_finish();
  return out;
}

inline std::string Encode(std::string_view protocol, const std::vector<ir::StreamEvent>& events,
                          bool include_usage = true) {
  EncodeOptions opt;
  opt.model = "client-model";
  opt.response_id = "resp_1";
  opt.created_unix = 1700000000;
  opt.include_usage = include_usage;
  auto enc = MakeStreamEncoder(protocol, opt);
  std::string out;
  for (const auto& e : events) enc->OnEvent(e, &out);
  return out;
}

inline EncodeOptions TestOptions() {
  EncodeOptions opt;
  opt.model = "client-model";
  opt.response_id = "resp_1";
  opt.created_unix = 1700000000;
  opt.include_usage = true;
  return opt;
}

inline ir::Response Accumulate(const std::vector<ir::StreamEvent>& events) {
  ir::StreamAccumulator acc;
  for (const auto& e : events) acc.Add(e);
  return acc.response();
}

inline std::vector<std::string> EventNames(const std::vector<ParsedSse>& evs) {
  std::vector<std::string> out;
  for (const auto& e : evs) out.push_back(e.event);
  return out;
}

}  // namespace helm::protocol::testing

namespace helm::protocol::testing {

// Checks the Anthropic stream invariants; returns "" or what is wrong.
inline std::string CheckAnthropicStream(const std::vector<ParsedSse>& evs) {
  if (evs.empty() || evs.front().event != "message_start") return "no message_start first";
  int64_t open = -1, next = 0;
  bool delta_seen = false, stopped = false;
  for (size_t i = 1; i < evs.size(); ++i) {
    const auto& e = evs[i];
    if (stopped) return "event after message_stop";
    if (e.event != e.json.value("type", "")) return "event name and type differ";
    if (e.event == "content_block_start") {
      if (open >= 0) return "block opened while another is open";
      if (e.json["index"] != next) return "non-monotonic block index";
      open = next;
    } else if (e.event == "content_block_delta") {
      if (open < 0 || e.json["index"] != open) return "orphan delta";
    } else if (e.event == "content_block_stop") {
      if (open < 0 || e.json["index"] != open) return "stop without start";
      open = -1;
      ++next;
    } else if (e.event == "message_delta") {
      if (open >= 0) return "message_delta with a block open";
      delta_seen = true;
    } else if (e.event == "message_stop") {
      if (!delta_seen) return "message_stop without message_delta";
      stopped = true;
    } else if (e.event == "error") {
      if (open >= 0) return "error with a block open";
      return "";
    }
  }
  return stopped ? "" : "no message_stop";
}

// The text and tool calls an Anthropic client would assemble from a stream.
inline ir::Response AssembleAnthropic(const std::vector<ParsedSse>& evs) {
  ir::Response r;
  std::vector<std::string> inputs;
  for (const auto& e : evs) {
    if (e.event == "content_block_start" && e.json["content_block"]["type"] == "tool_use") {
      r.tool_calls.push_back({e.json["content_block"]["id"], e.json["content_block"]["name"], ""});
    } else if (e.event == "content_block_delta") {
      const Json& d = e.json["delta"];
      if (d["type"] == "text_delta") {
        if (r.content.empty()) r.content.emplace_back();
        r.content.back().text += d["text"].get<std::string>();
      } else if (d["type"] == "input_json_delta") {
        r.tool_calls.back().arguments += d["partial_json"].get<std::string>();
      }
    } else if (e.event == "message_delta") {
      r.finish_reason = e.json["delta"]["stop_reason"] == "tool_use" ? ir::FinishReason::kToolCalls
                        : e.json["delta"]["stop_reason"] == "max_tokens" ? ir::FinishReason::kLength
                                                                         : ir::FinishReason::kStop;
    }
  }
  return r;
}

// Checks the OpenAI chunk stream invariants; returns "" or what is wrong.
inline std::string CheckOpenAiStream(const std::vector<ParsedSse>& evs) {
  if (evs.empty() || evs.back().data != "[DONE]") return "no [DONE] last";
  if (evs.front().json["choices"][0]["delta"]["role"] != "assistant") return "no role first";
  int finishes = 0;
  for (const auto& e : evs) {
    if (!e.json.is_object()) continue;
    if (e.json["object"] != "chat.completion.chunk") return "not a chunk";
    for (const auto& c : e.json["choices"]) {
      if (!c["finish_reason"].is_null()) ++finishes;
    }
  }
  return finishes == 1 ? "" : "finish chunks: " + std::to_string(finishes);
}

// The text and tool calls an OpenAI client would assemble from chunks.
inline ir::Response AssembleOpenAi(const std::vector<ParsedSse>& evs, Json* usage = nullptr) {
  ir::Response r;
  for (const auto& e : evs) {
    if (!e.json.is_object()) continue;
    if (usage && e.json.contains("usage") && !e.json["usage"].is_null()) *usage = e.json["usage"];
    for (const auto& c : e.json["choices"]) {
      const Json& d = c["delta"];
      if (d.contains("content") && d["content"].is_string() && d["content"] != "") {
        if (r.content.empty()) r.content.emplace_back();
        r.content.back().text += d["content"].get<std::string>();
      }
      if (d.contains("tool_calls")) {
        for (const auto& tc : d["tool_calls"]) {
          size_t i = tc["index"].get<size_t>();
          if (i >= r.tool_calls.size()) r.tool_calls.resize(i + 1);
          if (tc.contains("id")) r.tool_calls[i].id = tc["id"];
          if (tc["function"].contains("name")) r.tool_calls[i].name = tc["function"]["name"];
          r.tool_calls[i].arguments += tc["function"]["arguments"].get<std::string>();
        }
      }
      if (!c["finish_reason"].is_null()) {
        r.finish_reason = c["finish_reason"] == "tool_calls" ? ir::FinishReason::kToolCalls
                          : c["finish_reason"] == "length"   ? ir::FinishReason::kLength
                                                             : ir::FinishReason::kStop;
      }
    }
  }
  return r;
}

}  // namespace helm::protocol::testing
