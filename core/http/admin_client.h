// A client of the boundary's admin API, for the CLI commands that talk to a
// running system and for the proxy's remote boundary. One instance per
// thread (not thread-safe).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/common/json.h"

namespace helm {

class AdminClient {
 public:
  // server: "http://host:port"; token: the admin token.
  AdminClient(const std::string& server, const std::string& token, int64_t timeout_ms = 10000);
  ~AdminClient();

  // kUnavailable when the server cannot be reached; otherwise the status and
  // the parsed JSON body (or the raw text under "text" when not JSON).
  struct Response {
    int status = 0;
    Json body;
  };
  Result<Response> Get(const std::string& path);
  Result<Response> Post(const std::string& path, const Json& body);

  // Follows /api/v1/receipts/tail; calls on_receipt(seq, stored) for each
  // event until it returns false or the connection ends.
  Status Tail(uint64_t since, bool has_since, const std::string& agent,
              const std::function<bool(uint64_t, std::string_view)>& on_receipt);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace helm
