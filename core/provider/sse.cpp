#include "core/provider/sse.h"

#include <charconv>

namespace helm {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

}  // namespace

SseParser::SseParser(SseLimits limits) : limits_(limits) {}

bool SseParser::ended_mid_event() const { return !line_.empty() || has_fields_; }

Status SseParser::Feed(std::string_view bytes, std::vector<SseEvent>* out) {
  if (failed_) return error_;
  const uint64_t base = bytes_fed_;
  bytes_fed_ += bytes.size();
  size_t pos = 0;
  if (skip_lf_ && !bytes.empty()) {
    skip_lf_ = false;
    if (bytes[0] == '\n') {  // the LF of a CRLF split across chunks
      pos = 1;
      if (bytes_complete_ == base) bytes_complete_ = base + 1;  // it ends a whole event
    }
  }
  while (pos < bytes.size()) {
    size_t end = bytes.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) {
      Status s = AppendToLine(bytes.substr(pos));
      if (!s.ok()) return s;
      break;
    }
    Status s = AppendToLine(bytes.substr(pos, end - pos));
    if (!s.ok()) return s;
    pos = end + 1;
    if (bytes[end] == '\r') {
      if (pos < bytes.size()) {
        if (bytes[pos] == '\n') ++pos;
      } else {
        skip_lf_ = true;
      }
    }
    s = ProcessLine(line_, out);
    line_.clear();
    if (!s.ok()) return s;
    if (!has_fields_) bytes_complete_ = base + pos;
  }
  return Status::Ok();
}

Status SseParser::AppendToLine(std::string_view part) {
  if (line_.size() + part.size() > limits_.max_line_bytes) {
    failed_ = true;
    error_ = MakeError(ErrorCode::kTooLarge,
                       "SSE line longer than " + std::to_string(limits_.max_line_bytes) + " bytes");
    return error_;
  }
  line_.append(part);
  return Status::Ok();
}

Status SseParser::ProcessLine(std::string_view line, std::vector<SseEvent>* out) {
  if (first_line_) {
    first_line_ = false;
    if (line.substr(0, kBom.size()) == kBom) line.remove_prefix(kBom.size());
  }
  if (line.empty()) {
    Dispatch(out);
    return Status::Ok();
  }
  if (line[0] == ':') return Status::Ok();  // comment
  has_fields_ = true;
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return ProcessField(line, {});
  std::string_view value = line.substr(colon + 1);
  if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  return ProcessField(line.substr(0, colon), value);
}

Status SseParser::ProcessField(std::string_view name, std::string_view value) {
  if (name == "data") {
    size_t grown = data_.size() + (has_data_ ? 1 : 0) + value.size();
    if (grown > limits_.max_event_bytes) {
      failed_ = true;
      error_ =
          MakeError(ErrorCode::kTooLarge, "SSE event data larger than " +
                                              std::to_string(limits_.max_event_bytes) + " bytes");
      return error_;
    }
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (name == "event") {
    event_name_.assign(value);
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  } else if (name == "retry") {
    int64_t ms = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
    if (ec == std::errc() && ptr == value.data() + value.size() && !value.empty() &&
        value[0] != '-') {
      retry_ms_ = ms;
    }
  }
  // Unknown field names are ignored, as the spec says.
  return Status::Ok();
}

void SseParser::Dispatch(std::vector<SseEvent>* out) {
  if (has_data_) {
    SseEvent ev;
    ev.event = std::move(event_name_);
    ev.data = std::move(data_);
    ev.id = last_id_;
    ev.retry_ms = retry_ms_;
    out->push_back(std::move(ev));
  }
  event_name_.clear();
  data_.clear();
  retry_ms_ = -1;
  has_data_ = false;
  has_fields_ = false;
}

}  // namespace helm
