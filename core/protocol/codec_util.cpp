// Helpers shared by the translators (codec.h).
#include <cctype>
#include <cmath>
#include <cstdint>

#include "core/protocol/codec.h"

namespace helm::protocol {

std::string GetString(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

bool IsObject(const Json& j, std::string_view key) {
  if (!j.is_object()) return false;
  auto it = j.find(key);
  return it != j.end() && it->is_object();
}

std::string JoinedText(const Json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string out;
  if (!content.is_array()) return out;
  for (const auto& block : content) {
    if (block.is_string()) {
      out += block.get<std::string>();
    } else if (block.is_object()) {
      out += GetString(block, "text");
    }
  }
  return out;
}

bool ParseDataUrl(std::string_view url, std::string* mime, std::string* data) {
  constexpr std::string_view kPrefix = "data:";
  constexpr std::string_view kB64 = ";base64,";
  if (url.substr(0, kPrefix.size()) != kPrefix) return false;
  size_t pos = url.find(kB64);
  if (pos == std::string_view::npos) return false;
  *mime = std::string(url.substr(kPrefix.size(), pos - kPrefix.size()));
  *data = std::string(url.substr(pos + kB64.size()));
  return true;
}

std::string MakeDataUrl(const ir::ContentPart& image) {
  if (!image.image_url.empty()) return image.image_url;
  return "data:" + image.mime_type + ";base64," + image.data;
}

std::string PartsText(const std::vector<ir::ContentPart>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (p.kind == ir::PartKind::kText) out += p.text;
  }
  return out;
}

std::string SynthesizeToolCallId(std::string_view seed, size_t n) {
  std::string id = "call_";
  for (char c : seed) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') id += c;
  }
  if (id.size() > 5) id += '_';
  id += std::to_string(n);
  return id;
}

Json ArgumentsObject(const std::string& arguments) {
  Json j = Json::parse(arguments, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Json::object();
  return j;
}

void EmitNative(const ir::Request& req, std::string_view protocol, Json* out) {
  if (req.native_protocol != protocol || !req.native.is_object()) return;
  for (const auto& [k, v] : req.native.items()) {
    if (!out->contains(k)) (*out)[k] = v;
  }
}

void AppendSse(std::string* out, std::string_view event, const Json& data) {
  if (!event.empty()) {
    out->append("event: ");
    out->append(event);
    out->append("\n");
  }
  out->append("data: ");
  out->append(DumpJson(data));
  out->append("\n\n");
}

Error BadRequest(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

Error BadUpstream(std::string message) {
  return MakeError(ErrorCode::kUnavailable, "upstream: " + std::move(message));
}

}  // namespace helm::protocol

namespace helm::protocol {

bool IsArray(const Json& j, std::string_view key) {
  if (!j.is_object()) return false;
  auto it = j.find(key);
  return it != j.end() && it->is_array();
}

Result<std::optional<double>> OptDouble(const Json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<double>();
  if (!it->is_number()) return BadRequest("'" + std::string(key) + "' must be a number");
  return std::optional<double>(it->get<double>());
}

Result<std::optional<int64_t>> OptInt(const Json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<int64_t>();
  // A whole number int64_t holds, written as an integer or as a float
  // without a fraction (2.0, 1e3). A float outside the range is refused
  // before the conversion, which would be undefined for it.
  constexpr double kTwo63 = 9223372036854775808.0;
  if (it->is_number_unsigned()) {
    if (it->get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) {
      return std::optional<int64_t>(static_cast<int64_t>(it->get<uint64_t>()));
    }
  } else if (it->is_number_integer()) {
    return std::optional<int64_t>(it->get<int64_t>());
  } else if (it->is_number_float()) {
    double d = it->get<double>();
    if (d >= -kTwo63 && d < kTwo63 && d == std::trunc(d)) {
      return std::optional<int64_t>(static_cast<int64_t>(d));
    }
  }
  return BadRequest("'" + std::string(key) + "' must be an integer");
}

void CollectNative(const Json& body, std::initializer_list<std::string_view> known,
                   Json* native) {
  for (const auto& [k, v] : body.items()) {
    bool is_known = false;
    for (auto name : known) is_known = is_known || name == k;
    if (!is_known) (*native)[k] = v;
  }
}

}  // namespace helm::protocol

namespace helm::protocol {

void ReadOpt(const Json& obj, std::string_view key, std::optional<double>* dst, Status* err) {
  auto r = OptDouble(obj, key);
  if (r.ok()) *dst = *r;
  else if (err->ok()) *err = r.error();
}

void ReadOpt(const Json& obj, std::string_view key, std::optional<int64_t>* dst, Status* err) {
  auto r = OptInt(obj, key);
  if (r.ok()) *dst = *r;
  else if (err->ok()) *err = r.error();
}

}  // namespace helm::protocol
