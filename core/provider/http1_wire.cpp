#include "core/provider/http1_wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace helm::http1 {
namespace {

constexpr size_t kReadSize = 16 * 1024;
constexpr size_t kMaxChunkLine = 1024;  // a chunk-size line with its extensions

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

void BufferedReader::MakeRoom() {
  if (begin_ == end_) begin_ = end_ = 0;
  if (buf_.size() - end_ >= kReadSize) return;
  if (begin_ > 0) {  // compact, then grow (nothing to move into an unallocated buffer)
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buf_.size() - end_ < kReadSize) buf_.resize(std::max(buf_.size() * 2, end_ + kReadSize));
}

bool BufferedReader::Fill(size_t n) {
  while (end_ - begin_ < n) {
    MakeRoom();
    ssize_t got = read_(buf_.data() + end_, buf_.size() - end_);
    if (got <= 0) return false;
    end_ += static_cast<size_t>(got);
  }
  return true;
}

ssize_t BufferedReader::ReadAvailable(const ReadFn& read_now) {
  MakeRoom();
  ssize_t got = read_now(buf_.data() + end_, buf_.size() - end_);
  if (got > 0) end_ += static_cast<size_t>(got);
  return got;
}

namespace {

// Bytes without a head's end that already make the head too large: the
// limit and the three bytes of the end that may have arrived (a head of
// exactly the limit is accepted however its bytes were split).
bool OverHeadLimit(std::string_view data) { return data.size() > kMaxHeadBytes + 3; }

}  // namespace

bool BufferedReader::HeadBuffered() const {
  std::string_view data = Data();
  return OverHeadLimit(data) || data.find("\r\n\r\n") != std::string_view::npos;
}

BufferedReader::HeadStatus BufferedReader::Head(std::string_view& head) {
  size_t searched = 0;
  for (;;) {
    std::string_view data = Data();
    size_t end = data.find("\r\n\r\n", searched >= 3 ? searched - 3 : 0);
    if (end != std::string_view::npos) {
      head = data.substr(0, end);
      begin_ += end + 4;
      return end > kMaxHeadBytes ? HeadStatus::kTooLarge : HeadStatus::kOk;
    }
    if (OverHeadLimit(data)) return HeadStatus::kTooLarge;
    searched = data.size();
    if (!Fill(data.size() + 1)) return HeadStatus::kClosed;
  }
}

bool BufferedReader::Take(size_t n, std::string& out) {
  size_t have = std::min(n, end_ - begin_);
  out.append(buf_.data() + begin_, have);
  begin_ += have;
  size_t at = out.size();
  out.resize(at + (n - have));
  while (at < out.size()) {
    ssize_t got = read_(out.data() + at, out.size() - at);
    if (got <= 0) return false;
    at += static_cast<size_t>(got);
  }
  return true;
}

bool BufferedReader::Some(size_t max, std::string_view& out) {
  if (begin_ == end_ && !Fill(1)) return false;
  out = Data().substr(0, max);
  begin_ += out.size();
  return true;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

namespace {

// RFC 9110 tchar.
constexpr std::array<bool, 256> kTokenChar = [] {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<uint8_t>(c)] = true;
  return table;
}();

// RFC 3986 unreserved and sub-delims: what a reg-name holds besides
// pct-encoded octets.
constexpr std::array<bool, 256> kRegNameChar = [] {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (char c : std::string_view("-._~!$&'()*+,;=")) table[static_cast<uint8_t>(c)] = true;
  return table;
}();

// The length of the token s begins with (0: none).
size_t TokenLength(std::string_view s) {
  return std::find_if_not(s.begin(), s.end(),
                          [](char c) { return kTokenChar[static_cast<uint8_t>(c)]; }) -
         s.begin();
}

// *( unreserved / pct-encoded / sub-delims ): a reg-name, which every
// IPv4address also is.
bool IsRegName(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      if (!kRegNameChar[static_cast<uint8_t>(s[i])]) return false;
    } else if (s.size() - i < 3 || !IsHexDigit(s[i + 1]) || !IsHexDigit(s[i + 2])) {
      return false;
    } else {
      i += 2;
    }
  }
  return true;
}

// An IP-literal without its brackets: IPv6address, or IPvFuture
// ("v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )).
bool IsIpLiteral(std::string_view s) {
  if (!s.empty() && (s[0] == 'v' || s[0] == 'V')) {
    const size_t dot = s.find('.');
    if (dot == std::string_view::npos || dot < 2 || dot + 1 == s.size()) return false;
    return std::all_of(s.begin() + 1, s.begin() + dot, IsHexDigit) &&
           std::all_of(s.begin() + dot + 1, s.end(), [](char c) {
             return c == ':' || kRegNameChar[static_cast<uint8_t>(c)];
           });
  }
  char text[INET6_ADDRSTRLEN];
  if (s.size() >= sizeof text) return false;
  std::memcpy(text, s.data(), s.size());
  text[s.size()] = '\0';
  in6_addr address;
  return inet_pton(AF_INET6, text, &address) == 1;
}

}  // namespace

bool IsToken(std::string_view s) { return !s.empty() && TokenLength(s) == s.size(); }

bool HasHeaderBreak(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

bool IsHostValue(std::string_view value) {
  std::string_view port;
  if (!value.empty() && value[0] == '[') {
    const size_t close = value.find(']');
    if (close == std::string_view::npos || !IsIpLiteral(value.substr(1, close - 1))) return false;
    std::string_view rest = value.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return false;
      port = rest.substr(1);
    }
  } else {
    const size_t colon = value.find(':');  // a reg-name has none
    if (!IsRegName(value.substr(0, colon))) return false;
    if (colon != std::string_view::npos) port = value.substr(colon + 1);
  }
  return std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool ListsToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    if (EqualsNoCase(Trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

bool SplitField(std::string_view field, std::string_view* name, std::string_view* value) {
  const size_t colon = field.find(':');
  if (colon == std::string_view::npos || !IsToken(field.substr(0, colon))) return false;
  *name = field.substr(0, colon);
  *value = Trim(field.substr(colon + 1));
  return !HasHeaderBreak(*value);
}

bool ParseFields(std::string_view fields, HeaderList& out) {
  out.reserve(out.size() + 12);  // a typical head: one allocation for the list
  while (!fields.empty()) {
    size_t end = fields.find("\r\n");
    std::string_view field = fields.substr(0, end);
    fields = end == std::string_view::npos ? "" : fields.substr(end + 2);
    std::string_view field_name, value;
    if (!SplitField(field, &field_name, &value)) return false;
    if (out.size() == kMaxHeaderFields) return false;
    std::string name(field_name);
    for (char& c : name) c = Lower(c);
    out.emplace_back(std::move(name), std::string(value));
  }
  return true;
}

bool KeepAlive(const HeaderList& fields, bool http10) {
  bool keep_alive = !http10;
  for (const auto& [name, value] : fields) {
    if (name != "connection") continue;
    if (ListsToken(value, "close")) return false;
    keep_alive = keep_alive || ListsToken(value, "keep-alive");
  }
  return keep_alive;
}

bool ParseFraming(const HeaderList& headers, bool http10, Framing& out) {
  for (const auto& [name, value] : headers) {
    if (name == "transfer-encoding") {
      if (http10 || !EqualsNoCase(value, "chunked") || out.chunked) return false;
      out.chunked = true;
    } else if (name == "content-length") {
      size_t n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || value.size() > 18 || ec != std::errc() ||
          end != value.data() + value.size() || (out.has_length && n != out.length)) {
        return false;
      }
      out.has_length = true;
      out.length = n;
    }
  }
  return !(out.chunked && out.has_length);
}

BodyStatus ReadLength(BufferedReader& reader, size_t n, const BodySink& sink) {
  while (n > 0) {
    std::string_view piece;
    if (!reader.Some(n, piece)) return BodyStatus::kBroken;
    n -= piece.size();
    if (!sink(piece)) return BodyStatus::kStopped;
  }
  return BodyStatus::kOk;
}

namespace {

bool IsBws(char c) { return c == ' ' || c == '\t'; }

std::string_view SkipBws(std::string_view s) {
  while (!s.empty() && IsBws(s.front())) s.remove_prefix(1);
  return s;
}

// HTAB, SP, VCHAR or obs-text: what a quoted-string may hold (RFC 9110 §5.6.4).
bool IsQuotable(char c) {
  const auto byte = static_cast<uint8_t>(c);
  return byte == '\t' || (byte >= 0x20 && byte != 0x7f);
}

// The length of the token, or of the quoted-string, that s begins with; 0
// when it begins with neither.
size_t ExtValueLength(std::string_view s) {
  if (s.empty() || s[0] != '"') return TokenLength(s);
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '"') return i + 1;
    if (s[i] == '\\' && ++i == s.size()) return 0;  // a quoted-pair
    if (!IsQuotable(s[i])) return 0;
  }
  return 0;  // unterminated
}

// A chunk-size line without its CRLF (RFC 9112 §7.1): 1*HEXDIG, then
// extensions *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ),
// which are ignored. Anything else — a space around the size, a CR, LF, NUL
// or other control byte anywhere — is malformed: a peer that frames a body
// differently could smuggle a request into it.
bool ParseChunkLine(std::string_view line, size_t* size) {
  const size_t digits = std::find_if_not(line.begin(), line.end(), IsHexDigit) - line.begin();
  if (digits == 0 ||
      std::from_chars(line.data(), line.data() + digits, *size, 16).ec != std::errc()) {
    return false;
  }
  std::string_view rest = line.substr(digits);
  while (!rest.empty()) {
    rest = SkipBws(rest);
    if (rest.empty() || rest[0] != ';') return false;
    rest = SkipBws(rest.substr(1));
    const size_t name = TokenLength(rest);
    if (name == 0) return false;
    rest.remove_prefix(name);
    if (std::string_view after = SkipBws(rest); !after.empty() && after[0] == '=') {
      rest = SkipBws(after.substr(1));
      const size_t value = ExtValueLength(rest);
      if (value == 0) return false;
      rest.remove_prefix(value);
    }
  }
  return true;
}

}  // namespace

bool ChunkedDecoder::NextLine(std::string_view in, size_t* at, Status* status) {
  // A CR at the end of the last feed may have its LF at the start of this one.
  const bool cr_before = !line_.empty() && line_.back() == '\r';
  if (cr_before && *at < in.size() && in[*at] == '\n') {
    line_.pop_back();
    ++*at;
    return true;
  }
  const size_t lf = in.find("\r\n", *at);
  const size_t end = lf == std::string_view::npos ? in.size() : lf;
  // A CR that ends this feed may begin the line's CRLF: not counted yet.
  const size_t cr = lf == std::string_view::npos && in[end - 1] == '\r' ? 1 : 0;
  // A line longer than kMaxChunkLine is refused at its first byte over the
  // limit, so that what is consumed does not depend on how the bytes were
  // split (line_ holds at most the limit and a CR still to be decided).
  if (line_.size() + (end - *at - cr) > kMaxChunkLine) {
    *at += kMaxChunkLine + 1 - line_.size();
    *status = Status::kBroken;
    return false;
  }
  line_.append(in.substr(*at, end - *at));
  *at = lf == std::string_view::npos ? in.size() : lf + 2;
  return lf != std::string_view::npos;
}

ChunkedDecoder::Status ChunkedDecoder::Feed(std::string_view in, size_t* used,
                                            const BodySink& sink) {
  size_t at = 0;
  Status status = Status::kMore;
  auto finish = [&](Status s) {
    *used = at;
    return s;
  };
  while (at < in.size()) {
    if (state_ == State::kData) {
      const size_t n = std::min(left_, in.size() - at);
      if (!sink(in.substr(at, n))) return finish(Status::kStopped);
      at += n;
      left_ -= n;
      if (left_ == 0) state_ = State::kDataEnd;
      continue;
    }
    if (!NextLine(in, &at, &status)) return finish(status);
    std::string line = std::move(line_);  // at most kMaxChunkLine (NextLine)
    line_.clear();
    switch (state_) {
      case State::kSize: {
        size_t size = 0;
        if (!ParseChunkLine(line, &size)) return finish(Status::kBroken);
        left_ = size;
        state_ = size == 0 ? State::kTrailer : State::kData;
        break;
      }
      case State::kDataEnd:
        if (!line.empty()) return finish(Status::kBroken);
        state_ = State::kSize;
        break;
      case State::kTrailer: {
        if (line.empty()) return finish(Status::kDone);
        std::string_view name, value;  // validated as a header field, then dropped
        if (++trailer_lines_ > kMaxHeaderFields || !SplitField(line, &name, &value)) {
          return finish(Status::kBroken);
        }
        break;
      }
      case State::kData:
        break;  // handled above
    }
  }
  return finish(Status::kMore);
}

BodyStatus ReadChunked(BufferedReader& reader, const BodySink& sink) {
  ChunkedDecoder decoder;
  for (;;) {
    if (!reader.Buffered() && !reader.ReadMore()) return BodyStatus::kBroken;
    size_t used = 0;
    ChunkedDecoder::Status status = decoder.Feed(reader.Peek(), &used, sink);
    reader.Consume(used);
    switch (status) {
      case ChunkedDecoder::Status::kMore:
        break;
      case ChunkedDecoder::Status::kDone:
        return BodyStatus::kOk;
      case ChunkedDecoder::Status::kBroken:
        return BodyStatus::kBroken;
      case ChunkedDecoder::Status::kStopped:
        return BodyStatus::kStopped;
    }
  }
}

BodyStatus ReadToClose(BufferedReader& reader, const BodySink& sink) {
  std::string_view piece;
  while (reader.Some(kReadSize, piece)) {
    if (!sink(piece)) return BodyStatus::kStopped;
  }
  return BodyStatus::kOk;  // the caller tells a close from an error by its read function
}

bool SendAll(int fd, iovec* iov, int count) {
  while (count > 0) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(count);
    ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    auto left = static_cast<size_t>(n);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

}  // namespace helm::http1
