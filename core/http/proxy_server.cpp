#include "core/http/proxy_server.h"

#include "core/common/metrics.h"
#include "core/http/http1_server.h"
#include "core/policy/facts.h"
#include "core/proxy/client_errors.h"

namespace helm {
namespace {

struct Route {
  const char* path;
  const char* protocol;
};

// Same-protocol routes: the upstream path is the client path.
constexpr Route kPostRoutes[] = {
    {"/v1/chat/completions", kOpenAiChat},     {"/v1/messages", kAnthropicMessages},
    {"/v1/responses", kOpenAiResponses},       {"/v1/embeddings", kOpenAiEmbeddings},
    {"/v1/completions", kOpenAiCompletions},
};

std::string ProtocolForPath(std::string_view path) {
  if (path.starts_with("/v1/messages")) return kAnthropicMessages;
  if (path.starts_with("/v1beta/")) return kGeminiGenerate;
  return kOpenAiChat;
}

// The credential: Bearer token, else x-api-key, else x-goog-api-key, else
// ?key=. Empty when none.
std::string Credential(const http::Http1Request& req) {
  constexpr std::string_view kBearer = "Bearer ";
  if (const std::string* auth = req.Header("authorization");
      auth != nullptr && auth->size() > kBearer.size() && auth->starts_with(kBearer)) {
    return auth->substr(kBearer.size());
  }
  for (const char* name : {"x-api-key", "x-goog-api-key"}) {
    if (const std::string* value = req.Header(name); value != nullptr && !value->empty()) {
      return *value;
    }
  }
  return req.QueryParam("key");
}

ProxyRequest Convert(http::Http1Request& req, const char* protocol) {
  ProxyRequest out;
  out.protocol = protocol;
  out.endpoint = req.path;
  out.upstream_path = req.path;
  out.body = std::move(req.body);
  if (const std::string* type = req.Header("content-type")) out.content_type = *type;
  out.credential = Credential(req);
  out.client_alive = std::move(req.client_alive);
  out.can_park = true;  // Http1Server resumes parked responses
  out.headers = std::move(req.headers);
  return out;
}

ProxyResponse JsonResponse(int status, const Json& body) {
  ProxyResponse r;
  r.status = status;
  r.body = DumpJson(body);
  return r;
}

ProxyResponse ErrorResponse(const std::string& path, int status, std::string_view message) {
  if (status == 500) GetCounter("helm_proxy_internal_errors_total").Add();
  const char* code = status == 404   ? "NOT_FOUND"
                     : status == 413 ? "REQUEST_TOO_LARGE"
                     : status == 405 ? "METHOD_NOT_ALLOWED"
                     : status == 500 ? "INTERNAL"
                                     : "BAD_REQUEST";
  ProxyResponse r;
  r.status = status;
  r.body = ClientErrorBody(ProtocolForPath(path), status, code,
                           status == 500 ? std::string_view("internal error") : message);
  return r;
}

constexpr std::string_view kGeminiPrefix = "/v1beta/models/";

// /v1beta/models/{model}:generateContent or :streamGenerateContent.
bool MatchGemini(const std::string& path, std::string& model, bool& stream) {
  if (!path.starts_with(kGeminiPrefix)) return false;
  std::string_view rest = std::string_view(path).substr(kGeminiPrefix.size());
  size_t colon = rest.find(':');
  if (colon == 0 || colon == std::string_view::npos ||
      rest.substr(0, colon).find('/') != std::string_view::npos) {
    return false;
  }
  std::string_view method = rest.substr(colon + 1);
  if (method != "generateContent" && method != "streamGenerateContent") return false;
  model.assign(rest.substr(0, colon));
  stream = method == "streamGenerateContent";
  return true;
}

ProxyResponse Dispatch(ProxyService& service, http::Http1Request& req) {
  const std::string& path = req.path;
  if (req.method == "POST") {
    for (const Route& route : kPostRoutes) {
      if (path == route.path) return service.Handle(Convert(req, route.protocol));
    }
    std::string model;
    bool stream = false;
    if (MatchGemini(path, model, stream)) {
      ProxyRequest r = Convert(req, kGeminiGenerate);
      r.path_model = std::move(model);
      r.path_stream = stream;
      // Google's default (alt=json) streams one JSON array; alt=sse asks for SSE.
      if (stream && req.QueryParam("alt") != "sse") {
        r.stream_framing = StreamFraming::kJsonArray;
      }
      return service.Handle(std::move(r));
    }
  } else if (req.method == "GET") {
    constexpr std::string_view kModels = "/v1/models";
    if (path == kModels) return service.Models(Convert(req, kOpenAiChat), "");
    if (path.size() > kModels.size() + 1 && path.starts_with(kModels) &&
        path[kModels.size()] == '/') {
      std::string id = path.substr(kModels.size() + 1);
      return service.Models(Convert(req, kOpenAiChat), id);
    }
    if (path == "/healthz") return JsonResponse(200, {{"status", "ok"}});
    if (path == "/version") return JsonResponse(200, {{"version", HELM_VERSION}});
    if (path == "/metrics") {
      ProxyResponse r;
      r.content_type = "text/plain; version=0.0.4";
      r.body = RenderMetrics() + service.BreakerMetrics();
      return r;
    }
  }
  return ErrorResponse(path, 404, "no route " + req.method + " " + path);
}

}  // namespace

struct ProxyServer::Impl {
  explicit Impl(http::Http1Server::Handler handler, http::Http1ServerOptions options)
      : server(std::move(handler), ErrorResponse, options) {}
  http::Http1Server server;
};

ProxyServer::ProxyServer(ProxyService* service, const Limits& limits) {
  http::Http1ServerOptions options;
  options.threads = limits.server_threads;
  options.max_connections = limits.max_connections;
  // One byte over the limit still reaches ProxyService, which answers 413 in
  // the client's shape and records the DENY; bigger bodies stop at the door.
  options.max_body_bytes = limits.max_body_bytes + 1;
  impl_ = std::make_unique<Impl>(
      [service](http::Http1Request& req) { return Dispatch(*service, req); }, options);
}

ProxyServer::~ProxyServer() { Stop(); }

Result<int> ProxyServer::Bind(const std::string& host, int port) {
  return impl_->server.Bind(host, port);
}

Status ProxyServer::Serve() { return impl_->server.Serve(); }

void ProxyServer::Stop() { impl_->server.Stop(); }

}  // namespace helm
