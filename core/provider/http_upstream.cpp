// HTTP(S) upstream over cpp-httplib 0.11.4 (the Debian build: a compiled
// library, so behaviour is set through its runtime setters only).
//
// Connections: a LIFO pool of idle keep-alive httplib::Client objects per
// upstream. Send takes one (or makes one when the pool is empty), uses it for
// exactly one request, and gives it back on success if fewer than
// max_idle_connections are idle; a Client whose request failed is destroyed
// with its socket. httplib checks an idle socket is still alive before it
// reuses it; a server closing the connection at the very moment it is reused
// still shows up as a kBroken fault (requests are never retried here: a POST
// to an LLM is not idempotent).
//
// Timeouts: httplib has one read timeout, applied to every recv. It is set to
// max(first_byte_timeout, idle_timeout). When the two differ, a watchdog
// thread (one per upstream) enforces the smaller one for its phase — no head
// within first_byte_timeout of the start of Send, or no body bytes for
// idle_timeout after the previous ones — by stopping the Client, which
// httplib documents as thread-safe. Neither is a total timer.
//
// Bodies: the request asks for "Accept-Encoding: identity" unless the caller
// set one; if the upstream compresses anyway, on_data receives the decoded
// bytes and on_head no content-encoding / content-length. Hop-by-hop headers
// (connection, transfer-encoding, ...) are never passed to on_head.
#include "core/provider/http_upstream.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace helm {
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

constexpr int64_t kNsPerMs = 1000000;

struct ParsedUrl {
  std::string scheme_host_port;  // for httplib::Client
  std::string base_path;         // "" or "/base" (no trailing slash)
};

Result<ParsedUrl> ParseUrl(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return MakeError(ErrorCode::kConfig, "invalid upstream URL \"" + url + "\": " + why);
  };
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return bad("no scheme");
  std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return bad("scheme must be http or https");
  std::string rest = url.substr(scheme_end + 3);
  size_t path_start = rest.find('/');
  std::string authority = rest.substr(0, path_start);
  std::string path = path_start == std::string::npos ? "" : rest.substr(path_start);
  if (authority.empty()) return bad("no host");
  for (char c : authority + path) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad("control character");
  }
  if (authority.find('@') != std::string::npos) return bad("credentials in the URL");
  if (size_t colon = authority.rfind(':');
      colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    std::string port = authority.substr(colon + 1);
    bool digits = !port.empty() && port.size() <= 5 &&
                  port.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stoi(port) < 1 || std::stoi(port) > 65535) return bad("invalid port");
  }
  if (path.find_first_of("?#") != std::string::npos) return bad("query or fragment");
  while (!path.empty() && path.back() == '/') path.pop_back();
  return ParsedUrl{scheme + "://" + authority, path};
}

// Enforces per-request deadlines that httplib's single read timeout cannot.
// Thread safety: all methods may be called from any thread.
class Watchdog {
 public:
  struct Watch {
    httplib::Client* client = nullptr;
    std::atomic<int64_t> deadline_ns{0};
    std::atomic<bool> fired{false};
    bool stopping = false;  // guarded by Watchdog::mu_
  };

  Watchdog() : thread_([this] { Loop(); }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  void Arm(Watch* w) {
    std::lock_guard<std::mutex> lock(mu_);
    watches_.push_back(w);
    cv_.notify_all();
  }

  // Moves the deadline; wakes the watchdog only when it moves earlier.
  void SetDeadline(Watch* w, int64_t deadline_ns) {
    int64_t old = w->deadline_ns.exchange(deadline_ns, std::memory_order_relaxed);
    if (deadline_ns < old) {
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_all();
    }
  }

  // After Disarm returns the watchdog never touches `w` or its client again.
  void Disarm(Watch* w) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [w] { return !w->stopping; });
    watches_.erase(std::find(watches_.begin(), watches_.end(), w));
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      int64_t now = NowNs();
      int64_t next = INT64_MAX;
      Watch* expired = nullptr;
      for (Watch* w : watches_) {
        if (w->fired.load()) continue;
        int64_t d = w->deadline_ns.load(std::memory_order_relaxed);
        if (d <= now) {
          expired = w;
          break;
        }
        next = std::min(next, d);
      }
      if (expired != nullptr) {
        Fire(expired, lock);
        continue;
      }
      if (next == INT64_MAX) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, SteadyClock::time_point(std::chrono::nanoseconds(next)));
      }
    }
  }

  // Stops the client without holding mu_ (stop may wait for a connect).
  void Fire(Watch* w, std::unique_lock<std::mutex>& lock) {
    w->fired.store(true);
    w->stopping = true;
    lock.unlock();
    w->client->stop();
    lock.lock();
    w->stopping = false;
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Watch*> watches_;  // guarded by mu_
  bool stopping_ = false;        // guarded by mu_
  std::thread thread_;
};

bool IsHopByHop(const std::string& lower) {
  return lower == "connection" || lower == "keep-alive" || lower == "transfer-encoding" ||
         lower == "te" || lower == "trailer" || lower == "upgrade" ||
         lower == "proxy-authenticate" || lower == "proxy-connection";
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

UpstreamHead MakeHead(const httplib::Response& res) {
  UpstreamHead head;
  head.status = res.status;
  std::string encoding = Lower(res.get_header_value("Content-Encoding"));
  bool decoded = encoding == "gzip" || encoding == "deflate" || encoding == "br";
  head.headers.reserve(res.headers.size());
  for (const auto& [name, value] : res.headers) {
    std::string lower = Lower(name);
    if (IsHopByHop(lower)) continue;
    if (decoded && (lower == "content-encoding" || lower == "content-length")) continue;
    head.headers.emplace_back(std::move(lower), value);
  }
  return head;
}

// A value that could split or end the request head if written as is.
bool HasHeaderBreak(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool IsValidPath(std::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  return std::none_of(path.begin(), path.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

// What happened during one Send, filled in by the httplib callbacks.
struct Attempt {
  int64_t start_ns = 0;
  int64_t last_byte_ns = 0;  // head or the latest body chunk
  bool head_seen = false;
  bool caller_cancelled = false;
};

class HttpUpstream final : public Upstream {
 public:
  HttpUpstream(std::string url, ParsedUrl parsed, const UpstreamOptions& options)
      : url_(std::move(url)), parsed_(std::move(parsed)), options_(options) {
    if (options_.first_byte_timeout_ms != options_.idle_timeout_ms) {
      watchdog_ = std::make_unique<Watchdog>();
    }
  }

  UpstreamResult Send(UpstreamRequest request,
                      const std::function<bool(const UpstreamHead&)>& on_head,
                      const std::function<bool(std::string_view)>& on_data) override;

  const std::string& url() const override { return url_; }

 private:
  std::unique_ptr<httplib::Client> TakeClient();
  void ReturnClient(std::unique_ptr<httplib::Client> client);
  std::unique_ptr<httplib::Client> NewClient() const;
  UpstreamFault MapError(httplib::Error err, const Attempt& attempt, bool watchdog_fired) const;

  const std::string url_;
  const ParsedUrl parsed_;
  const UpstreamOptions options_;
  std::unique_ptr<Watchdog> watchdog_;  // only when the two timeouts differ

  std::mutex mu_;
  std::vector<std::unique_ptr<httplib::Client>> idle_;  // guarded by mu_
};

std::unique_ptr<httplib::Client> HttpUpstream::NewClient() const {
  auto client = std::make_unique<httplib::Client>(parsed_.scheme_host_port);
  auto sec = [](int64_t ms) { return static_cast<time_t>(std::max<int64_t>(ms, 1) / 1000); };
  auto usec = [](int64_t ms) {
    return static_cast<time_t>(std::max<int64_t>(ms, 1) % 1000 * 1000);
  };
  const int64_t connect_ms = options_.connect_timeout_ms;
  const int64_t read_ms = std::max(options_.first_byte_timeout_ms, options_.idle_timeout_ms);
  const int64_t write_ms = std::max<int64_t>(connect_ms, 5000);
  client->set_connection_timeout(sec(connect_ms), usec(connect_ms));
  client->set_read_timeout(sec(read_ms), usec(read_ms));
  client->set_write_timeout(sec(write_ms), usec(write_ms));
  client->set_tcp_nodelay(true);
  client->set_keep_alive(true);
  client->set_follow_location(false);
  client->set_url_encode(false);  // paths are forwarded exactly as given
  client->set_decompress(true);
  return client;
}

std::unique_ptr<httplib::Client> HttpUpstream::TakeClient() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      auto client = std::move(idle_.back());
      idle_.pop_back();
      return client;
    }
  }
  return NewClient();
}

void HttpUpstream::ReturnClient(std::unique_ptr<httplib::Client> client) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(client));
  // Otherwise the client (and its socket) is destroyed here.
}

UpstreamFault HttpUpstream::MapError(httplib::Error err, const Attempt& attempt,
                                     bool watchdog_fired) const {
  if (attempt.caller_cancelled || err == httplib::Error::Canceled) {
    return UpstreamFault::kCancelled;
  }
  if (watchdog_fired) {
    return attempt.head_seen ? UpstreamFault::kIdleTimeout : UpstreamFault::kFirstByteTimeout;
  }
  switch (err) {
    case httplib::Error::Connection:
    case httplib::Error::ConnectionTimeout:
    case httplib::Error::BindIPAddress:
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLLoadingCerts:
    case httplib::Error::SSLServerVerification:
      return UpstreamFault::kConnect;
    case httplib::Error::Read: {
      // httplib reports a timeout and a closed connection alike: tell them
      // apart by how long the read waited.
      int64_t waited_ms = (NowNs() - attempt.last_byte_ns) / kNsPerMs;
      int64_t limit_ms =
          attempt.head_seen ? options_.idle_timeout_ms : options_.first_byte_timeout_ms;
      if (waited_ms * 10 >= limit_ms * 9) {
        return attempt.head_seen ? UpstreamFault::kIdleTimeout : UpstreamFault::kFirstByteTimeout;
      }
      return UpstreamFault::kBroken;
    }
    default:
      return UpstreamFault::kBroken;
  }
}

UpstreamResult HttpUpstream::Send(UpstreamRequest request,
                                  const std::function<bool(const UpstreamHead&)>& on_head,
                                  const std::function<bool(std::string_view)>& on_data) {
  UpstreamResult result;
  std::string path = parsed_.base_path + request.path;
  if (!IsValidPath(path)) {
    result.fault = UpstreamFault::kBroken;
    result.detail = "invalid request path";
    return result;
  }
  httplib::Request req;
  req.method = request.method;
  req.path = std::move(path);
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || HasHeaderBreak(name) || HasHeaderBreak(value)) {
      result.fault = UpstreamFault::kBroken;
      result.detail = "invalid request header";
      return result;
    }
    req.headers.emplace(name, value);
  }
  if (!req.has_header("Accept-Encoding")) req.headers.emplace("Accept-Encoding", "identity");
  if (!request.body.empty() && !req.has_header("Content-Type")) {
    req.headers.emplace("Content-Type", "application/json");
  }
  req.body = std::move(request.body);

  Attempt attempt;
  attempt.start_ns = NowNs();
  attempt.last_byte_ns = attempt.start_ns;
  std::unique_ptr<httplib::Client> client = TakeClient();
  Watchdog::Watch watch;
  watch.client = client.get();
  if (watchdog_) {
    watch.deadline_ns.store(attempt.start_ns + options_.first_byte_timeout_ms * kNsPerMs);
    watchdog_->Arm(&watch);
  }

  req.response_handler = [&](const httplib::Response& res) {
    int64_t now = NowNs();
    attempt.head_seen = true;
    attempt.last_byte_ns = now;
    result.first_byte_us = (now - attempt.start_ns) / 1000;
    if (watchdog_) watchdog_->SetDeadline(&watch, now + options_.idle_timeout_ms * kNsPerMs);
    if (!on_head(MakeHead(res))) attempt.caller_cancelled = true;
    return !attempt.caller_cancelled;
  };
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    int64_t now = NowNs();
    attempt.last_byte_ns = now;
    if (watchdog_) watch.deadline_ns.store(now + options_.idle_timeout_ms * kNsPerMs);
    if (!on_data(std::string_view(data, n))) attempt.caller_cancelled = true;
    return !attempt.caller_cancelled;
  };

  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  bool ok = false;
  try {
    ok = client->send(req, res, err);
  } catch (const std::exception& e) {  // e.g. std::bad_alloc, or thrown by a callback
    err = httplib::Error::Unknown;
    result.detail = e.what();
  }
  if (watchdog_) watchdog_->Disarm(&watch);

  if (ok) {
    ReturnClient(std::move(client));
    return result;
  }
  result.fault = MapError(err, attempt, watch.fired.load());
  if (result.detail.empty()) result.detail = httplib::to_string(err);
  return result;  // the failed client is destroyed here
}

}  // namespace

Result<std::unique_ptr<Upstream>> MakeHttpUpstream(const std::string& url,
                                                   const UpstreamOptions& options) {
  Result<ParsedUrl> parsed = ParseUrl(url);
  if (!parsed.ok()) return parsed.error();
  httplib::Client probe(parsed->scheme_host_port);
  if (!probe.is_valid()) {
    return MakeError(ErrorCode::kConfig, "invalid upstream URL (or no TLS support): " + url);
  }
  return std::unique_ptr<Upstream>(
      std::make_unique<HttpUpstream>(url, std::move(parsed).value(), options));
}

}  // namespace helm
