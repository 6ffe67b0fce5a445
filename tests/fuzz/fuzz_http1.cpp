// HTTP/1.1 messages through the wire code helm's server and upstream client
// share (core/provider/http1_wire.h): heads, header fields, framing and
// bodies, up to four pipelined messages, read in pieces of varying size.
// Checks that a chunked body decodes to the same bytes and status whether
// its bytes are fed whole or in pieces. Input: one byte for the piece size,
// then the bytes a peer sends.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/common/header_list.h"
#include "core/provider/http1_wire.h"

namespace {

using helm::http1::ChunkedDecoder;

constexpr size_t kMaxBody = 1 << 20;

// Feeds `in` to a fresh decoder `step` bytes at a time; *body gets the data,
// *used the bytes consumed.
ChunkedDecoder::Status DecodeInPieces(std::string_view in, size_t step, std::string* body,
                                      size_t* used) {
  ChunkedDecoder decoder;
  auto sink = [body](std::string_view piece) {
    body->append(piece);
    return body->size() <= kMaxBody;
  };
  *used = 0;
  ChunkedDecoder::Status status = ChunkedDecoder::Status::kMore;
  while (status == ChunkedDecoder::Status::kMore && *used < in.size()) {
    // A piece is what has arrived: everything not consumed yet, up to step more.
    std::string_view piece = in.substr(*used, step);
    size_t took = 0;
    status = decoder.Feed(piece, &took, sink);
    *used += took;
    if (status == ChunkedDecoder::Status::kMore && took < piece.size()) {
      std::fprintf(stderr, "the chunked decoder left bytes of a piece while wanting more\n");
      std::abort();
    }
  }
  return status;
}

void CheckSplitInvariance(std::string_view in, size_t step) {
  std::string whole_body, pieces_body;
  size_t whole_used = 0, pieces_used = 0;
  ChunkedDecoder::Status whole = DecodeInPieces(in, in.size() + 1, &whole_body, &whole_used);
  ChunkedDecoder::Status pieces = DecodeInPieces(in, step, &pieces_body, &pieces_used);
  if (whole != pieces || whole_body != pieces_body || whole_used != pieces_used) {
    std::fprintf(stderr, "the chunked decoder depends on how the bytes are split (step %zu)\n",
                 step);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t step = 1 + data[0] % 97;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t at = 0;
  helm::http1::BufferedReader reader([&](char* buf, size_t n) -> ssize_t {
    size_t k = std::min({n, step, in.size() - at});
    if (k > 0) std::memcpy(buf, in.data() + at, k);
    at += k;
    return static_cast<ssize_t>(k);
  });
  for (int message = 0; message < 4; ++message) {
    std::string_view head;
    if (reader.Head(head) != helm::http1::BufferedReader::HeadStatus::kOk) return 0;
    size_t eol = head.find("\r\n");
    helm::HeaderList headers;
    if (!helm::http1::ParseFields(eol == std::string_view::npos ? "" : head.substr(eol + 2),
                                  headers)) {
      return 0;
    }
    helm::http1::Framing framing;
    if (!helm::http1::ParseFraming(headers, head.substr(0, eol).ends_with("HTTP/1.0"), framing)) {
      return 0;
    }
    std::string body;
    auto sink = [&body](std::string_view piece) {
      body.append(piece);
      return body.size() <= kMaxBody;
    };
    helm::http1::BodyStatus status;
    if (framing.chunked) {
      CheckSplitInvariance(in.substr(at - reader.Available()), step);
      status = helm::http1::ReadChunked(reader, sink);
    } else {
      status = helm::http1::ReadLength(reader, std::min(framing.length, kMaxBody), sink);
    }
    if (status != helm::http1::BodyStatus::kOk) return 0;
  }
  return 0;
}
