// HTTP/1.1 message syntax shared by helm's own server (core/http) and its
// upstream client (http_upstream.cpp): a buffered reader over any byte
// source, header-field parsing, body framing (RFC 9112 §6) and chunked
// decoding. No sockets here: callers bring the read function.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/provider/upstream.h"

namespace helm::http1 {

constexpr size_t kMaxHeadBytes = 64 * 1024;  // a start line and its header fields
constexpr size_t kMaxHeaderFields = 128;

// Reads a connection through a buffer reused from message to message.
// read(buf, n) returns the bytes read, 0 at end of stream, < 0 on error or
// timeout (the caller's read function records which).
class BufferedReader {
 public:
  using ReadFn = std::function<ssize_t(char*, size_t)>;
  explicit BufferedReader(ReadFn read) : read_(std::move(read)) {}

  enum class HeadStatus { kOk, kClosed, kTooLarge };
  // The next message head, without its final CRLF CRLF. The view is valid
  // until the next read.
  HeadStatus Head(std::string_view& head);
  // Appends the next n bytes to out.
  bool Take(size_t n, std::string& out);
  // Up to max bytes: what is buffered, else what one read brings.
  bool Some(size_t max, std::string_view& out);
  // Bytes received and not yet consumed (pipelined, or unexpected).
  bool Buffered() const { return begin_ < end_; }
  size_t Available() const { return end_ - begin_; }
  // Whether Head would return without reading: a whole head is buffered, or
  // more bytes than a head may have.
  bool HeadBuffered() const;
  // One read with read_now, which must not wait: > 0 bytes were added, 0 the
  // peer closed, < 0 nothing had arrived or the read failed (errno tells).
  ssize_t ReadAvailable(const ReadFn& read_now);
  // The buffered bytes, and consuming a prefix of them.
  std::string_view Peek() const { return Data(); }
  void Consume(size_t n) { begin_ += n; }
  // Reads until more than the buffered bytes are here; false when the peer
  // closed or the read failed.
  bool ReadMore() { return Fill(Available() + 1); }

 private:
  bool Fill(size_t n);  // reads until n unconsumed bytes are buffered
  void MakeRoom();      // room for one read of kReadSize after end_
  std::string_view Data() const { return {buf_.data() + begin_, end_ - begin_}; }

  ReadFn read_;
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;  // the unconsumed bytes
};

bool EqualsNoCase(std::string_view a, std::string_view b);
bool IsToken(std::string_view s);  // RFC 9110 token
// CR, LF or NUL: a value that could split or end a message head.
bool HasHeaderBreak(std::string_view s);
// A Host field value: uri-host [ ":" port ] (RFC 9112 §3.2, RFC 3986
// §3.2.2-3), that is a reg-name (an IPv4 address is one) or a bracketed IPv6
// or IPvFuture literal, then optionally ":" and digits. Empty is valid: it is
// what a request for a URI without an authority carries.
bool IsHostValue(std::string_view value);
// Whether a comma-separated field value lists token (case-insensitive).
bool ListsToken(std::string_view value, std::string_view token);
// Whether the connection stays open after a message with these fields
// (lower-case names): for HTTP/1.1 unless a Connection field lists close,
// for HTTP/1.0 only when one lists keep-alive and none close. Every
// Connection field line counts, not just the first or the last.
bool KeepAlive(const HeaderList& fields, bool http10);

// One field line without its CRLF, "name: value": the name a token, the
// value (trimmed) without CR, LF or NUL. Views into field; false when malformed.
bool SplitField(std::string_view field, std::string_view* name, std::string_view* value);
// Header fields ("name: value" lines separated by CRLF) into out, names in
// lower case, values trimmed. False on a malformed field or too many.
bool ParseFields(std::string_view fields, HeaderList& out);

struct Framing {
  bool chunked = false;
  bool has_length = false;
  size_t length = 0;
};
// Content-Length or chunked; false for anything ambiguous (both, differing
// lengths, a coding other than chunked) and, in an HTTP/1.0 message, for any
// Transfer-Encoding at all: that version knows no transfer codings, so a peer
// in between may frame the body otherwise (RFC 9112 §6.1). A message whose
// framing is refused must not be answered or reused on its connection.
bool ParseFraming(const HeaderList& headers, bool http10, Framing& out);

enum class BodyStatus {
  kOk,
  kBroken,   // malformed, or the connection ended or timed out
  kStopped,  // the sink returned false
};
using BodySink = std::function<bool(std::string_view)>;

// A chunked body decoded from its bytes as they arrive, without waiting for
// more: what a read brought is fed, and the decoder keeps its place (a
// partial chunk-size line included) until the next bytes.
class ChunkedDecoder {
 public:
  enum class Status {
    kMore,     // every byte fed was consumed; the body goes on
    kDone,     // the last chunk and the trailer fields (dropped) are in
    kBroken,   // malformed
    kStopped,  // the sink returned false
  };
  // Consumes a prefix of `in` (all of it unless the body ended within it:
  // what follows is the next message's) into *used, and passes the data to
  // sink piece by piece. After anything but kMore, Feed must not be called.
  Status Feed(std::string_view in, size_t* used, const BodySink& sink);
  // Within the sink: the data bytes left in the current chunk, the piece
  // passed included. A sink can refuse a chunk that would take the body over
  // a limit at its first piece.
  size_t chunk_left() const { return left_; }

 private:
  enum class State { kSize, kData, kDataEnd, kTrailer };
  // Takes the next CRLF-terminated line from in (at *at) into line_; false
  // while it is incomplete. kBroken in *status when it is too long.
  bool NextLine(std::string_view in, size_t* at, Status* status);

  State state_ = State::kSize;
  size_t left_ = 0;           // data bytes left in the current chunk
  size_t trailer_lines_ = 0;  // trailer fields seen
  std::string line_;          // the line being read, without its CRLF once whole
};

// A chunked body, passed to sink piece by piece as it arrives (trailer
// fields are read and dropped).
BodyStatus ReadChunked(BufferedReader& reader, const BodySink& sink);
// Exactly n bytes, piece by piece.
BodyStatus ReadLength(BufferedReader& reader, size_t n, const BodySink& sink);
// Everything until the peer closes.
BodyStatus ReadToClose(BufferedReader& reader, const BodySink& sink);

// Writes every byte of iov[0..count) with sendmsg (MSG_NOSIGNAL); false when
// the connection failed or the socket's send timeout passed.
bool SendAll(int fd, iovec* iov, int count);

}  // namespace helm::http1
