// Whether the client of a request is still connected, before any response
// byte was written. cpp-httplib 0.11 does not hand the connection to request
// handlers, so the probe finds this process's socket with the request's
// address pair (once, lazily) and polls it for a hang-up.
#pragma once

#include <functional>
#include <string>

namespace helm::http {

// A probe for the connection local_addr:local_port <-> remote_addr:remote_port.
// Calling it is cheap after the first call; it answers true when in doubt.
std::function<bool()> MakeClientProbe(std::string local_addr, int local_port,
                                      std::string remote_addr, int remote_port);

}  // namespace helm::http
