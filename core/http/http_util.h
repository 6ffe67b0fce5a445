// Helpers shared by helm's HTTP adapters (admin API, proxy). This header
// includes httplib.h: include it only from core/http/*.cpp.
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>

#include "core/common/json.h"
#include "core/common/limits.h"

namespace helm::http {

// Server defaults every helm listener uses: TCP_NODELAY, a worker pool sized
// for the promised concurrency, long keep-alive, bounded payloads, timeouts.
void ConfigureServer(httplib::Server& server, const Limits& limits);

void SendJson(httplib::Response& res, int status, const Json& body);
// {"error": {"code": CODE, "message": MESSAGE}} — the admin API's error shape.
void SendAdminError(httplib::Response& res, int status, std::string_view code,
                    std::string_view message);

// Binds host:port (port 0 picks a free one); returns the bound port or -1.
int Bind(httplib::Server& server, const std::string& host, int port);

}  // namespace helm::http
