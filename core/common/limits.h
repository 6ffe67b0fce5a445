// The limits of helm's listeners and request path, with their defaults, in one
// place (docs/limits.md).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "core/common/result.h"

namespace helm {

struct Limits {
  size_t max_body_bytes = 4 << 20;            // client request body (413 beyond)
  int max_json_depth = 64;                    // nesting of client JSON (400 beyond)
  size_t max_sse_line_bytes = 4 << 20;        // one upstream SSE line (SseParser's default)
  size_t max_response_bytes = 64 << 20;       // one buffered upstream response (502 beyond)
  // Open streaming responses (503 beyond). Below server_threads, so that a
  // stream beyond the cap is shed at once instead of queueing for a worker,
  // and short requests and health checks still find one (CheckWorkerLimits).
  size_t max_concurrent_streams = 96;
  size_t server_threads = 128;                // HTTP worker threads per listener
  // Open client connections per proxy listener; beyond, the longest-idle
  // one is closed for the new one (or the new one, if none is idle).
  size_t max_connections = 10000;
  // Outcome receipts are sealed off the response path by seal_threads
  // threads; beyond seal_queue waiting outcomes a request seals its own.
  size_t seal_threads = 16;
  size_t seal_queue = 1024;
  int64_t approval_ttl_seconds = 15 * 60;     // pending/approved approvals expire
  size_t max_list_limit = 1000;               // receipts per list page
  int64_t tail_heartbeat_ms = 15000;          // SSE keep-alive comment interval
  // Receipt tails open at once on an admin listener (503 beyond). A tail
  // holds an admin worker while it lasts: at most half of them, so that
  // approvals, health checks and the proxy's calls never queue behind tails.
  size_t max_tails = 64;
};

// The tails an admin listener with `limits` serves at once.
inline size_t TailCapacity(const Limits& limits) {
  return std::max<size_t>(1, std::min(limits.max_tails, limits.server_threads / 2));
}

// The bounds an operator may set server_threads and max_concurrent_streams
// to (`[server] threads` / `max_streams`, `--server-threads` / `--max-streams`).
inline constexpr int64_t kMinServerThreads = 2;
inline constexpr int64_t kMaxServerThreads = 8192;

// kConfig unless threads is within its bounds and 1 <= max_streams < threads:
// a stream holds its worker while it lasts, so streams may never hold them all.
Status CheckWorkerLimits(int64_t threads, int64_t max_streams);

}  // namespace helm
