#include "core/provider/upstream.h"

#include <sys/socket.h>

#include "core/provider/http_upstream.h"
#include "core/provider/mock_upstream.h"

namespace helm {

void SendCancel::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void SendCancel::Attach(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  fd_ = fd;
  if (cancelled_ && fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

const char* UpstreamFaultName(UpstreamFault f) {
  switch (f) {
    case UpstreamFault::kNone:
      return "none";
    case UpstreamFault::kConnect:
      return "connect";
    case UpstreamFault::kFirstByteTimeout:
      return "first_byte_timeout";
    case UpstreamFault::kIdleTimeout:
      return "idle_timeout";
    case UpstreamFault::kBroken:
      return "broken";
    case UpstreamFault::kCancelled:
      return "cancelled";
    case UpstreamFault::kNotSent:
      return "not_sent";
  }
  return "unknown";
}

bool PassGate(DispatchGate* gate, UpstreamResult* result) {
  if (gate == nullptr) return true;
  const Status& status = gate->Wait();
  if (status.ok()) return true;
  result->fault = UpstreamFault::kNotSent;
  result->detail = "not sent: " + status.error().message;
  return false;
}

Result<std::unique_ptr<Upstream>> MakeUpstream(const std::string& url,
                                               const UpstreamOptions& options) {
  if (url.rfind("mock://", 0) == 0) return MakeMockUpstream(url, options);
  if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) {
    return MakeHttpUpstream(url, options);
  }
  return MakeError(ErrorCode::kConfig,
                   "upstream URL must start with http://, https:// or mock://: " + url);
}

}  // namespace helm
