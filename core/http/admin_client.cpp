#include "core/http/admin_client.h"

#include <algorithm>

#include "core/http/http_util.h"
#include "core/provider/sse.h"

namespace helm {

struct AdminClient::Impl {
  httplib::Client client;
  std::string token;
  explicit Impl(const std::string& server) : client(server) {}
  httplib::Headers Headers() const { return {{"Authorization", "Bearer " + token}}; }
};

AdminClient::AdminClient(const std::string& server, const std::string& token, int64_t timeout_ms)
    : impl_(std::make_unique<Impl>(server)) {
  impl_->token = token;
  impl_->client.set_tcp_nodelay(true);
  impl_->client.set_keep_alive(true);
  impl_->client.set_connection_timeout(std::chrono::milliseconds(timeout_ms));
  impl_->client.set_read_timeout(std::chrono::milliseconds(timeout_ms));
  impl_->client.set_write_timeout(std::chrono::milliseconds(timeout_ms));
}

AdminClient::~AdminClient() = default;

namespace {

Result<AdminClient::Response> Convert(const httplib::Result& r, const std::string& path) {
  if (!r) {
    return MakeError(ErrorCode::kUnavailable,
                     "cannot reach the boundary for " + path + ": " + httplib::to_string(r.error()));
  }
  AdminClient::Response out;
  out.status = r->status;
  auto parsed = ParseStrictJson(r->body);
  out.body = parsed.ok() ? std::move(parsed.value()) : Json{{"text", r->body}};
  return out;
}

// "CODE: message" of an admin API error body, else the text as sent.
std::string ErrorText(std::string_view data) {
  Result<Json> parsed = ParseStrictJson(data);
  if (parsed.ok() && parsed->contains("error")) {
    const Json& error = parsed->at("error");
    if (error.contains("code") && error["code"].is_string() && error.contains("message") &&
        error["message"].is_string()) {
      return error["code"].get<std::string>() + ": " + error["message"].get<std::string>();
    }
  }
  return std::string(data);
}

// What a refused tail's body is kept up to, for its message.
constexpr size_t kMaxRefusalBytes = 4096;

// The error event that ends a tail: data is {"error": {"code", "message"}}.
Error TailError(std::string_view data) {
  return MakeError(ErrorCode::kUnavailable,
                   "tail: the server ended the stream: " + ErrorText(data));
}

}  // namespace

Result<AdminClient::Response> AdminClient::Get(const std::string& path) {
  return Convert(impl_->client.Get(path, impl_->Headers()), path);
}

Result<AdminClient::Response> AdminClient::Post(const std::string& path, const Json& body) {
  return Convert(impl_->client.Post(path, impl_->Headers(), DumpJson(body), "application/json"),
                 path);
}

Status AdminClient::Tail(uint64_t since, bool has_since, const std::string& agent,
                         const std::function<bool(uint64_t, std::string_view)>& on_receipt) {
  std::string path = "/api/v1/receipts/tail";
  std::string query;
  if (has_since) query += "since=" + std::to_string(since);
  if (!agent.empty()) query += (query.empty() ? "" : "&") + std::string("agent=") + agent;
  if (!query.empty()) path += "?" + query;
  impl_->client.set_read_timeout(std::chrono::hours(24 * 365));
  SseParser parser;
  bool stop = false;
  Status failed;  // an error event: the server could not go on
  int status = 0;
  std::string refusal;  // the body of an answer other than 200
  auto result = impl_->client.Get(
      path, impl_->Headers(),
      [&](const httplib::Response& res) {
        status = res.status;
        return true;
      },
      [&](const char* data, size_t len) {
        if (status != 200) {  // an error body: kept (bounded) for the message
          refusal.append(data, std::min(len, kMaxRefusalBytes - refusal.size()));
          return refusal.size() < kMaxRefusalBytes;
        }
        std::vector<SseEvent> events;
        Status fed = parser.Feed(std::string_view(data, len), &events);
        for (const SseEvent& e : events) {
          if (stop) break;
          if (e.event == "error") {
            failed = TailError(e.data);
            stop = true;
          } else if (e.event == "receipt") {
            stop = !on_receipt(std::strtoull(e.id.c_str(), nullptr, 10), e.data);
          }
        }
        return fed.ok() && !stop;
      });
  if (!failed.ok()) return failed;
  if (stop) return Status::Ok();
  if (status != 0 && status != 200) {
    const ErrorCode code = status == 401   ? ErrorCode::kUnauthenticated
                           : status == 400 ? ErrorCode::kInvalidArgument
                                           : ErrorCode::kUnavailable;
    return MakeError(code, "tail: server answered " + std::to_string(status) +
                               (refusal.empty() ? "" : ": " + ErrorText(refusal)));
  }
  if (!result) {
    return MakeError(ErrorCode::kUnavailable, "tail: " + httplib::to_string(result.error()));
  }
  return Status::Ok();
}

}  // namespace helm
