#include "core/common/limits.h"

#include <string>

namespace helm {

Status CheckWorkerLimits(int64_t threads, int64_t max_streams) {
  if (threads < kMinServerThreads || threads > kMaxServerThreads) {
    return MakeError(ErrorCode::kConfig, "server threads must be between " +
                                             std::to_string(kMinServerThreads) + " and " +
                                             std::to_string(kMaxServerThreads) + ", got " +
                                             std::to_string(threads));
  }
  if (max_streams < 1 || max_streams >= threads) {
    return MakeError(
        ErrorCode::kConfig,
        "max streams must be at least 1 and below the server threads (" + std::to_string(threads) +
            "), so that short requests still find a worker; got " + std::to_string(max_streams));
  }
  return Status::Ok();
}

}  // namespace helm
