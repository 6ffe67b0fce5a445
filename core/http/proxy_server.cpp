#include "core/http/proxy_server.h"

#include "core/common/metrics.h"
#include "core/http/client_probe.h"
#include "core/http/http_util.h"
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

std::string ProtocolForPath(const std::string& path) {
  if (path.rfind("/v1/messages", 0) == 0) return kAnthropicMessages;
  if (path.rfind("/v1beta/", 0) == 0) return kGeminiGenerate;
  return kOpenAiChat;
}

ProxyRequest Convert(const httplib::Request& req, const char* protocol) {
  ProxyRequest out;
  out.protocol = protocol;
  out.endpoint = req.path;
  out.upstream_path = req.path;
  out.body = req.body;
  out.content_type = req.get_header_value("Content-Type");
  out.credential = http::ExtractCredential(req);
  out.client_alive =
      http::MakeClientProbe(req.local_addr, req.local_port, req.remote_addr, req.remote_port);
  for (const auto& [name, value] : req.headers) {
    std::string lower = name;
    for (char& c : lower) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    out.headers.emplace(std::move(lower), value);  // the first value of a repeated header wins
  }
  return out;
}

class SinkWriter : public ResponseWriter {
 public:
  explicit SinkWriter(httplib::DataSink& sink) : sink_(sink) {}
  bool Write(std::string_view bytes) override {
    return sink_.is_writable() && sink_.write(bytes.data(), bytes.size());
  }
  bool Alive() override { return sink_.is_writable(); }

 private:
  httplib::DataSink& sink_;
};

void Send(ProxyResponse r, httplib::Response& res) {
  res.status = r.status;
  for (auto& [k, v] : r.headers) res.set_header(k.c_str(), v);
  if (!r.stream) {
    res.set_content(std::move(r.body), r.content_type.c_str());
    return;
  }
  auto stream = std::make_shared<std::function<void(ResponseWriter&)>>(std::move(r.stream));
  res.set_chunked_content_provider(
      r.content_type.c_str(), [stream](size_t, httplib::DataSink& sink) {
        SinkWriter writer(sink);
        (*stream)(writer);
        sink.done();
        return true;
      });
}

}  // namespace

struct ProxyServer::Impl {
  ProxyService* service;
  httplib::Server server;
};

ProxyServer::ProxyServer(ProxyService* service, const Limits& limits)
    : impl_(std::make_unique<Impl>()) {
  impl_->service = service;
  httplib::Server& s = impl_->server;
  http::ConfigureServer(s, limits);
  // One byte over the limit still reaches ProxyService, which answers 413 in
  // the client's shape and records the DENY; bigger bodies stop at the door.
  s.set_payload_max_length(limits.max_body_bytes + 1);
  for (const Route& route : kPostRoutes) {
    const char* protocol = route.protocol;
    s.Post(route.path, [service, protocol](const httplib::Request& req, httplib::Response& res) {
      Send(service->Handle(Convert(req, protocol)), res);
    });
  }
  // Gemini: the model and the streaming choice are in the path (SSE framing only).
  s.Post(R"(/v1beta/models/([^/:]+):(generateContent|streamGenerateContent))",
         [service](const httplib::Request& req, httplib::Response& res) {
           ProxyRequest r = Convert(req, kGeminiGenerate);
           r.path_model = req.matches[1];
           r.path_stream = req.matches[2] == "streamGenerateContent";
           Send(service->Handle(std::move(r)), res);
         });
  s.Get("/v1/models", [service](const httplib::Request& req, httplib::Response& res) {
    Send(service->Models(Convert(req, kOpenAiChat), ""), res);
  });
  s.Get(R"(/v1/models/(.+))", [service](const httplib::Request& req, httplib::Response& res) {
    Send(service->Models(Convert(req, kOpenAiChat), req.matches[1]), res);
  });
  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    http::SendJson(res, 200, {{"status", "ok"}});
  });
  s.Get("/version", [](const httplib::Request&, httplib::Response& res) {
    http::SendJson(res, 200, {{"version", HELM_VERSION}});
  });
  s.Get("/metrics", [service](const httplib::Request&, httplib::Response& res) {
    res.set_content(RenderMetrics() + service->BreakerMetrics(), "text/plain; version=0.0.4");
  });
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const char* code = res.status == 404   ? "NOT_FOUND"
                       : res.status == 413 ? "REQUEST_TOO_LARGE"
                       : res.status == 405 ? "METHOD_NOT_ALLOWED"
                                           : "BAD_REQUEST";
    res.set_content(ClientErrorBody(ProtocolForPath(req.path), res.status, code,
                                    res.status == 404 ? "no route " + req.method + " " + req.path
                                                      : std::string("request refused")),
                    "application/json");
  });
  s.set_exception_handler([](const httplib::Request& req, httplib::Response& res,
                             std::exception_ptr) {
    GetCounter("helm_proxy_internal_errors_total").Add();
    res.status = 500;
    res.set_content(ClientErrorBody(ProtocolForPath(req.path), 500, "INTERNAL", "internal error"),
                    "application/json");
  });
}

ProxyServer::~ProxyServer() { Stop(); }

Result<int> ProxyServer::Bind(const std::string& host, int port) {
  int bound = http::Bind(impl_->server, host, port);
  if (bound < 0) {
    return MakeError(ErrorCode::kConfig, "cannot listen on " + host + ":" + std::to_string(port));
  }
  return bound;
}

void ProxyServer::Serve() { impl_->server.listen_after_bind(); }

void ProxyServer::Stop() { impl_->server.stop(); }

}  // namespace helm
