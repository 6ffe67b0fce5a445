// Internal to the proxy: the state of one request in flight and the helpers
// both halves of ProxyService (buffered and streaming) use to answer.
#pragma once

#include <optional>
#include <string>

#include "core/boundary/boundary.h"
#include "core/proxy/proxy_service.h"

namespace helm {

struct ProxyService::Flight {
  ProxyRequest req;
  int64_t start_us = 0;
  std::string correlation_id;
  Principal principal;
  Decision decision;
  Json body;
  std::string model;
  bool stream = false;
  UpstreamRequest upstream;
  HeaderList headers;  // X-Helm-* for the client
  std::string output_hash;
  std::optional<Json> usage;
};

// Adds the flight's X-Helm-* headers and the X-Helm-Output-Hash of res.body.
ProxyResponse Finish(ProxyService::Flight& f, ProxyResponse res);
// An error in the client's protocol shape; with_helm adds the helm member.
ProxyResponse ErrorResponse(ProxyService::Flight& f, int status, const std::string& code,
                            const std::string& message, bool with_helm = false);

}  // namespace helm
