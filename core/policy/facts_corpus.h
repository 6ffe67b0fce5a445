// Test-only: the request corpus of facts_differential_test.cpp. Three
// sources, each a (protocol, body) pair:
//  - tests/corpus/requests/<protocol>/*.json: every request body of the
//    protocol tests and the conformance tests (C++ and, via
//    from_integration.py, tests/integration/test_conformance.py);
//  - every decision-vector body under policies/vectors/ (JSON and TOML);
//  - generated variants (tests/corpus/variants/<protocol>.json): each
//    protocol's system/developer forms × user content forms × tool round
//    trips, with images by URL and by data, structured and multi-part tool
//    results, non-ASCII text, the forms the IR does not translate (audio,
//    documents, built-in tools, …) and, for Gemini, both spellings.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/common/json.h"
#include "core/common/protocols.h"
#include "core/policy/toml_json.h"

namespace helm::testing {

struct CorpusBody {
  std::string protocol;
  std::string label;  // where it came from, for failure messages
  Json body;
};

inline std::string ReadFileText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// tests/corpus/requests/<protocol>/*.json, sorted.
inline std::vector<CorpusBody> CorpusFiles() {
  namespace fs = std::filesystem;
  std::vector<CorpusBody> out;
  fs::path root = fs::path(HELM_SOURCE_DIR) / "tests" / "corpus" / "requests";
  for (const auto& dir : fs::directory_iterator(root)) {
    if (!dir.is_directory()) continue;
    for (const auto& file : fs::directory_iterator(dir.path())) {
      if (file.path().extension() != ".json") continue;
      auto body = ParseStrictJson(ReadFileText(file.path()));
      if (!body.ok()) continue;  // the caller checks the count
      out.push_back({dir.path().filename().string(), file.path().string(), std::move(*body)});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const CorpusBody& a, const CorpusBody& b) { return a.label < b.label; });
  return out;
}

// The body of every vector in policies/vectors/*/*.{json,toml}.
inline std::vector<CorpusBody> VectorBodies() {
  namespace fs = std::filesystem;
  std::vector<CorpusBody> out;
  fs::path root = fs::path(HELM_SOURCE_DIR) / "policies" / "vectors";
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const fs::path& path = entry.path();
    Result<Json> doc = path.extension() == ".toml"   ? TomlToJson(ReadFileText(path), "v")
                       : path.extension() == ".json" ? ParseStrictJson(ReadFileText(path))
                                                     : Result<Json>(Json());
    if (!doc.ok()) continue;
    const Json& list = doc->is_object() ? (*doc)["vectors"] : *doc;
    if (!list.is_array()) continue;
    for (const Json& v : list) {
      if (!v.is_object() || !v.contains("body") || !v["protocol"].is_string()) continue;
      out.push_back({v["protocol"].get<std::string>(), path.string() + ": " + v.value("name", ""),
                     v["body"]});
    }
  }
  return out;
}

// ---- generated variants: tests/corpus/variants/<protocol>.json gives `base`
// members, `top` alternatives (e.g. the system forms kept outside the list),
// `slots` (lists of fragments of the `list` member: every combination of one
// fragment per slot, concatenated) and `toggles` (toggle i is merged into the
// n-th variant when bit i of n is set).

inline std::vector<Json> Fragments(const Json& slots, size_t i) {
  if (i == slots.size()) return {Json::array()};
  std::vector<Json> out;
  for (const Json& rest : Fragments(slots, i + 1)) {
    for (const Json& fragment : slots[i]) {
      Json list = fragment;
      for (const Json& item : rest) list.push_back(item);
      out.push_back(std::move(list));
    }
  }
  return out;
}

inline std::vector<CorpusBody> GeneratedVariants() {
  namespace fs = std::filesystem;
  std::vector<CorpusBody> out;
  fs::path root = fs::path(HELM_SOURCE_DIR) / "tests" / "corpus" / "variants";
  for (const auto& file : fs::directory_iterator(root)) {
    auto spec = ParseStrictJson(ReadFileText(file.path()));
    if (!spec.ok()) continue;  // the caller checks the count
    std::string protocol = file.path().stem().string();
    size_t n = 0;
    for (const Json& top : (*spec)["top"]) {
      for (Json& list : Fragments((*spec)["slots"], 0)) {
        Json body = (*spec)["base"];
        body.update(top);
        body[(*spec)["list"].get<std::string>()] = std::move(list);
        const Json& toggles = (*spec)["toggles"];
        for (size_t i = 0; i < toggles.size(); ++i) {
          if ((n >> i) & 1) body.update(toggles[i]);
        }
        out.push_back(
            {protocol, "variant " + protocol + " " + std::to_string(n++), std::move(body)});
      }
    }
  }
  return out;
}

}  // namespace helm::testing
