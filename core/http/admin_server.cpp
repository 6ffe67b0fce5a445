#include "core/http/admin_server.h"

#include <atomic>
#include <charconv>
#include <chrono>
#include <optional>

#include "core/common/metrics.h"
#include "core/crypto/crypto.h"
#include "core/http/http_util.h"
#include "core/http/openapi.h"

namespace helm {
namespace {

constexpr size_t kTailBatch = 256;

int StatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kTooLarge: return 413;
    case ErrorCode::kUnavailable: return 503;
    default: return 500;
  }
}

const char* CodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "INVALID_REQUEST";
    case ErrorCode::kNotFound: return "NOT_FOUND";
    case ErrorCode::kConflict: return "CONFLICT";
    case ErrorCode::kUnavailable: return "LEDGER_UNAVAILABLE";
    case ErrorCode::kConfig: return "POLICY_INVALID";
    default: return "INTERNAL";
  }
}

void SendError(httplib::Response& res, const Error& e) {
  http::SendAdminError(res, StatusFor(e.code), CodeFor(e.code), e.message);
}

// Parses the body as a strict JSON object or answers 400.
bool ParseBody(const httplib::Request& req, httplib::Response& res, Json* out) {
  auto parsed = ParseStrictJson(req.body);
  if (!parsed.ok() || !parsed->is_object()) {
    http::SendAdminError(res, 400, "INVALID_REQUEST",
                         parsed.ok() ? "body must be a JSON object" : parsed.error().message);
    return false;
  }
  *out = std::move(parsed.value());
  return true;
}

// A decimal unsigned integer, nothing else (no sign, no spaces, below 2^64).
std::optional<uint64_t> ParseU64(std::string_view s) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// A count or seq from the request: `fallback` when absent. Anything but a
// decimal integer is a 400 naming it (false), never taken for the default: a
// tail resumed from a mangled cursor would otherwise start at the head and
// skip what came in between.
bool NumberParam(std::string_view name, const std::string& value, uint64_t fallback, uint64_t* out,
                 httplib::Response& res) {
  if (value.empty()) {
    *out = fallback;
    return true;
  }
  const std::optional<uint64_t> parsed = ParseU64(value);
  if (!parsed) {
    http::SendAdminError(
        res, 400, "INVALID_REQUEST",
        std::string(name) + " must be a non-negative integer, not \"" + value + "\"");
    return false;
  }
  *out = *parsed;
  return true;
}

std::string SseEvent(const Appended& r) {
  return "id: " + std::to_string(r.seq) + "\nevent: receipt\ndata: " + r.stored + "\n\n";
}

// A ledger that cannot be read (a damaged file, kCorruption, or an I/O error,
// kUnavailable) is unavailable to a reader: never a page that just ends early,
// nor "no such receipt".
void SendReadError(httplib::Response& res, const Error& e) {
  http::SendAdminError(res, 503, "LEDGER_UNAVAILABLE", e.message);
}

// The same for a tail, whose 200 has gone out: its last event, in the
// shape of an error answer, which a client tells from the end of the stream.
std::string SseReadError(const Error& e) {
  Json error{{"error", {{"code", "LEDGER_UNAVAILABLE"}, {"message", e.message}}}};
  return "event: error\ndata: " + DumpJson(error) + "\n\n";
}

// A new key's secret, shown this once: {id, key, agent, limits?}.
void SendCreatedKey(httplib::Response& res, const Result<CreatedKey>& created) {
  if (!created.ok()) return SendError(res, created.error());
  Json out{{"id", created->id}, {"key", created->secret}, {"agent", created->agent}};
  if (created->limits.any()) out["limits"] = created->limits.ToJson();
  http::SendJson(res, 200, out);
}

}  // namespace

struct AdminServer::Impl {
  LocalBoundary* boundary;
  Limits limits;
  // Open receipt tails (TailCapacity at most); declared before the server,
  // whose workers give the last ones back.
  std::atomic<size_t> tails{0};
  httplib::Server server;
  std::atomic<bool> stopping{false};

  bool Authorized(const httplib::Request& req) const {
    std::string auth = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    return auth.size() > kBearer.size() && auth.compare(0, kBearer.size(), kBearer) == 0 &&
           crypto::SecretEquals(std::string_view(auth).substr(kBearer.size()),
                                boundary->data_dir().admin_token);
  }

  void Routes();
  void Evaluate(const httplib::Request& req, httplib::Response& res);
  void Seal(const httplib::Request& req, httplib::Response& res);
  void ListReceipts(const httplib::Request& req, httplib::Response& res);
  void GetReceipt(const httplib::Request& req, httplib::Response& res);
  void Tail(const httplib::Request& req, httplib::Response& res);
  void Approvals(httplib::Server& s);
  void Keys(httplib::Server& s);
};

void AdminServer::Impl::Evaluate(const httplib::Request& req, httplib::Response& res) {
  Json body;
  if (!ParseBody(req, res, &body)) return;
  if (!body.contains("agent") || !body["agent"].is_string() || !body.contains("protocol") ||
      !body["protocol"].is_string() || !body.contains("body") || !body["body"].is_object()) {
    http::SendAdminError(res, 400, "INVALID_REQUEST",
                         "evaluate needs agent (string), protocol (string) and body (object)");
    return;
  }
  EvaluateInput in;
  in.principal.agent = body["agent"];
  in.principal.api_key_id = body.value("api_key_id", "");
  in.protocol = body["protocol"];
  in.endpoint = body.value("endpoint", "");
  in.body = body["body"];
  std::string body_text = DumpJson(in.body);
  in.request_hash = body.value("request_hash", crypto::Sha256Tagged(body_text));
  in.body_bytes = body.value("body_bytes", static_cast<int64_t>(body_text.size()));
  if (body.contains("model") && body["model"].is_string()) in.path_model = body["model"];
  if (body.contains("stream") && body["stream"].is_boolean()) in.path_stream = body["stream"];
  in.approval_id = body.value("approval_id", "");
  in.invalid_reason = body.value("invalid_reason", "");
  in.gate_reason = body.value("gate_reason", "");
  if (!in.gate_reason.empty() && !IsGateReason(in.gate_reason)) {
    http::SendAdminError(res, 400, "INVALID_REQUEST", "gate_reason is not a gate reason code");
    return;
  }
  in.correlation_id = body.value("correlation_id", NewId("cor_"));
  if (body.contains("headers") && body["headers"].is_object()) {
    for (const auto& [k, v] : body["headers"].items()) {
      if (v.is_string()) in.headers.emplace_back(k, v.get<std::string>());
    }
  }
  auto decision = boundary->Evaluate(in);
  if (!decision.ok()) return SendError(res, decision.error());
  Json out = decision->ToJson();
  out["correlation_id"] = in.correlation_id;
  http::SendJson(res, 200, out);
}

void AdminServer::Impl::Seal(const httplib::Request& req, httplib::Response& res) {
  Json body;
  if (!ParseBody(req, res, &body)) return;
  auto outcome = Outcome::FromJson(body);
  if (!outcome.ok()) return SendError(res, outcome.error());
  auto id = boundary->Seal(*outcome);
  if (!id.ok()) return SendError(res, id.error());
  http::SendJson(res, 200, {{"receipt_id", *id}});
}

void AdminServer::Impl::ListReceipts(const httplib::Request& req, httplib::Response& res) {
  Ledger& ledger = boundary->ledger();
  uint64_t limit = 0;
  if (!NumberParam("limit", req.get_param_value("limit"), 100, &limit, res)) return;
  limit = std::min<uint64_t>(limit, limits.max_list_limit);
  std::string agent = req.get_param_value("agent");
  std::string verdict = req.get_param_value("verdict");
  // Default: the newest `limit` receipts.
  uint64_t head = ledger.HeadSeq();
  uint64_t from = 0;
  if (!NumberParam("from", req.get_param_value("from"), head > limit ? head - limit + 1 : 1, &from,
                   res)) {
    return;
  }
  Json list = Json::array();
  while (list.size() < limit && from <= head) {
    Result<std::vector<Appended>> page = ledger.List(from, limit, agent);
    if (!page.ok()) return SendReadError(res, page.error());
    if (page->empty()) break;
    for (const Appended& r : *page) {
      from = r.seq + 1;
      Json j = Json::parse(r.stored, nullptr, false);
      if (!verdict.empty() && j.value("verdict", "") != verdict) continue;
      list.push_back(std::move(j));
      if (list.size() >= limit) break;
    }
    if (verdict.empty() && agent.empty()) break;
  }
  http::SendJson(res, 200, {{"receipts", list}, {"head_seq", head}});
}

void AdminServer::Impl::GetReceipt(const httplib::Request& req, httplib::Response& res) {
  std::string id = req.matches[1];
  Result<std::optional<std::string>> stored = boundary->ledger().GetById(id);
  if (stored.ok() && !*stored && !id.empty() &&
      id.find_first_not_of("0123456789") == std::string::npos) {
    stored = boundary->ledger().Get(ParseU64(id).value_or(0));  // beyond 2^64: none
  }
  if (!stored.ok()) return SendReadError(res, stored.error());
  if (!*stored) return http::SendAdminError(res, 404, "NOT_FOUND", "no receipt " + id);
  res.status = 200;
  res.set_content(**stored, "application/json");
}

void AdminServer::Impl::Tail(const httplib::Request& req, httplib::Response& res) {
  Ledger& ledger = boundary->ledger();
  std::string_view name = "Last-Event-ID";
  std::string since = req.get_header_value("Last-Event-ID");
  if (since.empty()) {
    name = "since";
    since = req.get_param_value("since");
  }
  const uint64_t start = ledger.HeadSeq();
  auto cursor = std::make_shared<uint64_t>(start);
  if (!NumberParam(name, since, start, cursor.get(), res)) return;
  if (*cursor > start) {  // from another ledger, or one restored to an earlier state
    http::SendAdminError(
        res, 400, "INVALID_REQUEST",
        "cannot resume after seq " + since + ": the ledger's head is " + std::to_string(start));
    return;
  }
  // A tail holds a worker while it lasts: beyond the cap, refused at once.
  if (tails.fetch_add(1) >= TailCapacity(limits)) {
    tails.fetch_sub(1);
    GetCounter("helm_tail_refused_total").Add();
    res.set_header("Retry-After", "1");
    http::SendAdminError(res, 503, "TAIL_CAPACITY",
                         std::to_string(TailCapacity(limits)) + " receipt tails are open already");
    return;
  }
  // Given back when the response, and with it the provider, is destroyed.
  auto slot = std::shared_ptr<std::atomic<size_t>>(&tails, [](std::atomic<size_t>* n) { --*n; });
  std::string agent = req.get_param_value("agent");
  int64_t heartbeat_ms = limits.tail_heartbeat_ms;
  res.set_header("Cache-Control", "no-cache");
  GetCounter("helm_tail_subscribers_total").Add();
  auto last_write = std::make_shared<std::chrono::steady_clock::time_point>(
      std::chrono::steady_clock::now());
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, &ledger, cursor, agent, heartbeat_ms, last_write, slot](size_t,
                                                                     httplib::DataSink& sink) {
        if (stopping) return false;
        uint64_t head = ledger.WaitForAppend(*cursor, std::chrono::milliseconds(
                                                          std::min<int64_t>(heartbeat_ms, 500)));
        if (head <= *cursor) {  // nothing new: a comment keeps proxies and the client honest
          auto now = std::chrono::steady_clock::now();
          if (now - *last_write >= std::chrono::milliseconds(heartbeat_ms)) {
            *last_write = now;
            return sink.write(": keep-alive\n\n", 14);
          }
          return sink.is_writable();
        }
        const Result<std::vector<Appended>> page = ledger.List(*cursor + 1, kTailBatch, agent);
        if (!page.ok()) {
          std::string event = SseReadError(page.error());
          if (!sink.write(event.data(), event.size())) return false;
          sink.done();  // the tail ends here: the next read would likely fail the same way
          return true;
        }
        for (const Appended& r : *page) {
          std::string event = SseEvent(r);
          if (!sink.write(event.data(), event.size())) return false;
          *cursor = r.seq;
          *last_write = std::chrono::steady_clock::now();
        }
        // A short page holds every receipt of the agent up to the head: the
        // other agents' receipts in between are skipped. A full page may not.
        if (!agent.empty() && page->size() < kTailBatch && *cursor < head) *cursor = head;
        return true;
      });
}

void AdminServer::Impl::Approvals(httplib::Server& s) {
  s.Get("/api/v1/approvals", [this](const httplib::Request& req, httplib::Response& res) {
    auto approvals = boundary->approvals().List(req.get_param_value("status"));
    if (!approvals.ok()) return SendError(res, approvals.error());
    http::SendJson(res, 200, {{"approvals", *approvals}});
  });
  s.Get(R"(/api/v1/approvals/([A-Za-z0-9_]+))",
        [this](const httplib::Request& req, httplib::Response& res) {
          auto a = boundary->approvals().Get(req.matches[1]);
          if (!a.ok()) return SendError(res, a.error());
          http::SendJson(res, 200, *a);
        });
  s.Post(R"(/api/v1/approvals/([A-Za-z0-9_]+)/(approve|deny))",
         [this](const httplib::Request& req, httplib::Response& res) {
           std::string id = req.matches[1];
           bool approve = req.matches[2] == "approve";
           Status st = boundary->approvals().Decide(id, approve, "admin");
           if (!st.ok()) return SendError(res, st.error());
           GetCounter("helm_approvals_decided_total", approve ? R"(decision="approve")"
                                                              : R"(decision="deny")")
               .Add();
           auto decided = boundary->approvals().Get(id);
           if (!decided.ok()) return SendError(res, decided.error());
           http::SendJson(res, 200, *decided);
         });
}

void AdminServer::Impl::Keys(httplib::Server& s) {
  s.Get("/api/v1/keys", [this](const httplib::Request&, httplib::Response& res) {
    http::SendJson(res, 200, {{"keys", boundary->api_keys().List()}});
  });
  s.Post("/api/v1/keys", [this](const httplib::Request& req, httplib::Response& res) {
    Json body;
    if (!ParseBody(req, res, &body)) return;
    auto key_limits = KeyLimits::FromJson(body.value("limits", Json()));
    if (!key_limits.ok()) return SendError(res, key_limits.error());
    SendCreatedKey(res, boundary->api_keys().Create(body.value("agent", ""), *key_limits));
  });
  s.Post(R"(/api/v1/keys/([A-Za-z0-9_]+)/rotate)",
         [this](const httplib::Request& req, httplib::Response& res) {
           SendCreatedKey(res, boundary->api_keys().Rotate(req.matches[1]));
         });
  s.Post(R"(/api/v1/keys/([A-Za-z0-9_]+)/limits)",
         [this](const httplib::Request& req, httplib::Response& res) {
           Json body;
           if (!ParseBody(req, res, &body)) return;
           if (!body.contains("limits")) {
             return http::SendAdminError(res, 400, "INVALID_REQUEST",
                                         "body needs limits ({} for none)");
           }
           auto key_limits = KeyLimits::FromJson(body["limits"]);
           if (!key_limits.ok()) return SendError(res, key_limits.error());
           auto key = boundary->api_keys().SetLimits(req.matches[1], *key_limits);
           if (!key.ok()) return SendError(res, key.error());
           http::SendJson(res, 200, *key);
         });
  s.Post(R"(/api/v1/keys/([A-Za-z0-9_]+)/revoke)",
         [this](const httplib::Request& req, httplib::Response& res) {
           Status st = boundary->api_keys().Revoke(req.matches[1]);
           if (!st.ok()) return SendError(res, st.error());
           http::SendJson(res, 200, {{"id", req.matches[1]}, {"revoked", true}});
         });
}

void AdminServer::Impl::Routes() {
  httplib::Server& s = server;
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/healthz") return httplib::Server::HandlerResponse::Unhandled;
    if (!Authorized(req)) {
      GetCounter("helm_admin_unauthorized_total").Add();
      http::SendAdminError(res, 401, "UNAUTHENTICATED", "admin token required");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    http::SendAdminError(res, 400, "INVALID_REQUEST", "request has a field of the wrong type");
  });
  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    http::SendJson(res, 200, {{"status", "ok"}});
  });
  s.Get("/version", [this](const httplib::Request&, httplib::Response& res) {
    const DataDir& d = boundary->data_dir();
    http::SendJson(res, 200,
                   {{"version", HELM_VERSION},
                    {"ledger_id", boundary->ledger().ledger_id()},
                    {"key_id", crypto::KeyId(d.signing_key.public_key)},
                    {"public_key", crypto::HexEncode(d.signing_key.public_key)}});
  });
  s.Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(RenderMetrics(), "text/plain; version=0.0.4");
  });
  s.Get("/openapi.json", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(http::OpenApiDocument(), "application/json");
  });
  s.Post("/api/v1/evaluate",
         [this](const httplib::Request& q, httplib::Response& r) { Evaluate(q, r); });
  s.Post("/api/v1/seal", [this](const httplib::Request& q, httplib::Response& r) { Seal(q, r); });
  s.Post("/api/v1/authenticate", [this](const httplib::Request& req, httplib::Response& res) {
    Json body;
    if (!ParseBody(req, res, &body)) return;
    auto p = boundary->Authenticate(body.value("key", ""));
    if (!p.ok()) return http::SendAdminError(res, 401, "UNAUTHENTICATED", "invalid API key");
    Json out{{"agent", p->agent}, {"api_key_id", p->api_key_id},
             {"may_pin_models", p->may_pin_models}};
    if (p->limits) {
      out["limits"] = p->limits->ToJson();
      out["spent_micros"] = p->spent_micros;
    }
    http::SendJson(res, 200, out);
  });
  s.Get("/api/v1/receipts/tail",
        [this](const httplib::Request& q, httplib::Response& r) { Tail(q, r); });
  s.Get("/api/v1/receipts",
        [this](const httplib::Request& q, httplib::Response& r) { ListReceipts(q, r); });
  s.Get(R"(/api/v1/receipts/([A-Za-z0-9_]+))",
        [this](const httplib::Request& q, httplib::Response& r) { GetReceipt(q, r); });
  s.Get("/api/v1/checkpoint", [this](const httplib::Request&, httplib::Response& res) {
    Ledger& l = boundary->ledger();
    http::SendJson(res, 200,
                   {{"ledger_id", l.ledger_id()}, {"seq", l.HeadSeq()}, {"head_hash", l.HeadHash()}});
  });
  s.Post("/api/v1/checkpoint", [this](const httplib::Request&, httplib::Response& res) {
    auto cp = boundary->ledger().Checkpoint();
    if (!cp.ok()) return SendError(res, cp.error());
    res.set_content(cp->stored, "application/json");
  });
  s.Post("/api/v1/policy/reload", [this](const httplib::Request&, httplib::Response& res) {
    Status st = boundary->ReloadPolicy();
    if (!st.ok()) {
      return http::SendAdminError(res, 422, "POLICY_INVALID",
                                  st.error().message + " (the previous policy stays active)");
    }
    auto p = boundary->policy();
    http::SendJson(res, 200, {{"policy", {{"id", p->id()}, {"version", p->version()},
                                          {"hash", p->hash()}}}});
  });
  Approvals(s);
  Keys(s);
}

AdminServer::AdminServer(LocalBoundary* boundary, const Limits& limits)
    : impl_(std::make_unique<Impl>()) {
  impl_->boundary = boundary;
  impl_->limits = limits;
  http::ConfigureServer(impl_->server, limits);
  // evaluate embeds the client's body in an envelope: allow room for it.
  impl_->server.set_payload_max_length(limits.max_body_bytes + 64 * 1024);
  impl_->Routes();
}

AdminServer::~AdminServer() { Stop(); }

Result<int> AdminServer::Bind(const std::string& host, int port) {
  int bound = http::Bind(impl_->server, host, port);
  if (bound < 0) {
    return MakeError(ErrorCode::kConfig,
                     "cannot listen on " + host + ":" + std::to_string(port));
  }
  return bound;
}

void AdminServer::Serve() { impl_->server.listen_after_bind(); }

void AdminServer::Stop() {
  impl_->stopping = true;
  impl_->server.stop();
}

}  // namespace helm
