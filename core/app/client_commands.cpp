// Commands that read or change a running system through its admin API.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>

#include "core/app/commands.h"
#include "core/app/output.h"
#include "core/http/admin_client.h"

namespace helm::app {
std::string AdminToken(const std::string& data_dir) {
  if (const char* env = std::getenv("HELM_ADMIN_TOKEN"); env != nullptr && *env != '\0') return env;
  auto token = ReadFileToString(data_dir + "/keys/admin.token");
  if (!token.ok()) return "";
  std::string t = *token;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  return t;
}

namespace {

// Runs one request and prints the answer; returns the exit code.
int Call(const ClientOptions& o, const std::string& method, const std::string& path,
         const Json& body, void (*print_text)(const Json&)) {
  AdminClient client(o.server, AdminToken(o.data_dir));
  auto res = method == "GET" ? client.Get(path) : client.Post(path, body);
  if (!res.ok()) {
    std::cerr << "helm: " << res.error().message << "\n";
    return kExitFailure;
  }
  if (res->status != 200) {
    std::cerr << "helm: " << res->status << " " << DumpJson(res->body) << "\n";
    return res->status == 401 || res->status == 400 ? kExitConfig : kExitFailure;
  }
  if (o.format == Format::kJson || print_text == nullptr) {
    std::cout << DumpJson(res->body) << "\n";
  } else {
    print_text(res->body);
  }
  return kExitOk;
}

void PrintReceiptList(const Json& j) {
  for (const Json& r : j.value("receipts", Json::array())) std::cout << ReceiptLine(r) << "\n";
}

void PrintApprovals(const Json& j) {
  for (const Json& a : j.value("approvals", Json::array())) {
    std::cout << a.value("id", "") << "  " << a.value("status", "") << "  agent="
              << a.value("agent", "") << "  reason=" << a.value("reason_code", "")
              << "  rule=" << a.value("rule_id", "") << "\n";
  }
}

void PrintApproval(const Json& a) {
  std::cout << a.value("id", "") << " " << a.value("status", "") << "\n";
}

// "  lanes=a,b rpm=60 budget_usd=5.000000 spent_usd=0.120000", or "".
std::string LimitsText(const Json& k) {
  std::string out;
  const Json limits = k.value("limits", Json::object());
  auto usd = [](int64_t micros) {
    char buf[48];
    std::snprintf(buf, sizeof(buf), "%lld.%06lld", static_cast<long long>(micros / 1000000),
                  static_cast<long long>(micros % 1000000));
    return std::string(buf);
  };
  if (limits.contains("lanes")) {
    std::string lanes;
    for (const Json& lane : limits["lanes"]) lanes += (lanes.empty() ? "" : ",") + lane.get<std::string>();
    out += "  lanes=" + lanes;
  }
  for (const char* name : {"rpm", "tpm", "concurrency"}) {
    if (limits.contains(name)) out += std::string("  ") + name + "=" + limits[name].dump();
  }
  if (limits.contains("budget_micros")) {
    out += "  budget_usd=" + usd(limits["budget_micros"].get<int64_t>());
  }
  if (k.contains("spent_micros")) out += "  spent_usd=" + usd(k["spent_micros"].get<int64_t>());
  return out;
}

void PrintKey(const Json& k) {
  std::cout << k.value("id", "") << "  agent=" << k.value("agent", "")
            << (k.value("revoked", false) ? "  revoked" : "") << LimitsText(k) << "\n";
}

void PrintKeys(const Json& j) {
  for (const Json& k : j.value("keys", Json::array())) PrintKey(k);
}

// The admin API's `limits` object for the flags given; nullopt (said on
// stderr) when a value is out of range.
std::optional<Json> LimitsJson(const KeyLimitOptions& l) {
  Json limits = Json::object();
  if (!l.lanes.empty()) limits["lanes"] = l.lanes;
  if (l.rpm > 0) limits["rpm"] = l.rpm;
  if (l.tpm > 0) limits["tpm"] = l.tpm;
  if (l.budget_usd > 0) {
    if (l.budget_usd > 1e9) {
      std::cerr << "helm: --budget-usd is at most 1000000000\n";
      return std::nullopt;
    }
    limits["budget_micros"] = static_cast<int64_t>(std::llround(l.budget_usd * 1e6));
  }
  if (l.concurrency > 0) limits["concurrency"] = l.concurrency;
  return limits;
}

void PrintCreatedKey(const Json& k) {
  std::cout << "key id: " << k.value("id", "") << "\nagent:  " << k.value("agent", "")
            << "\nsecret: " << k.value("key", "") << "\n";
  if (std::string limits = LimitsText(k); !limits.empty()) std::cout << "limits:" << limits << "\n";
  std::cout << "(shown once: store it now)\n";
}

}  // namespace

int RunReceiptsTail(const TailOptions& o) {
  AdminClient client(o.client.server, AdminToken(o.client.data_dir));
  int64_t seen = 0;
  Status st = client.Tail(o.since < 0 ? 0 : static_cast<uint64_t>(o.since), o.since >= 0, o.agent,
                          [&](uint64_t, std::string_view stored) {
                            if (o.client.format == Format::kJson) {
                              std::cout << stored << std::endl;
                            } else {
                              std::cout << ReceiptLine(Json::parse(stored, nullptr, false))
                                        << std::endl;
                            }
                            return o.max_events < 0 || ++seen < o.max_events;
                          });
  if (!st.ok()) {
    std::cerr << "helm: " << st.error().message << "\n";
    return st.error().code == ErrorCode::kUnauthenticated ? kExitConfig : kExitFailure;
  }
  return kExitOk;
}

int RunReceiptsShow(const ClientOptions& o, const std::string& id) {
  return Call(o, "GET", "/api/v1/receipts/" + id, nullptr,
              [](const Json& r) { std::cout << r.dump(2) << "\n"; });
}

int RunReceiptsList(const ClientOptions& o, const std::string& agent, const std::string& verdict,
                    int64_t limit) {
  std::string path = "/api/v1/receipts?limit=" + std::to_string(limit);
  if (!agent.empty()) path += "&agent=" + agent;
  if (!verdict.empty()) path += "&verdict=" + verdict;
  return Call(o, "GET", path, nullptr, PrintReceiptList);
}

int RunApprovalsList(const ClientOptions& o, const std::string& status) {
  return Call(o, "GET", "/api/v1/approvals" + (status.empty() ? "" : "?status=" + status), nullptr,
              PrintApprovals);
}

int RunApprovalsDecide(const ClientOptions& o, const std::string& id, bool approve) {
  return Call(o, "POST", "/api/v1/approvals/" + id + (approve ? "/approve" : "/deny"),
              Json::object(), PrintApproval);
}

int RunKeysCreate(const ClientOptions& o, const std::string& agent, const KeyLimitOptions& l) {
  std::optional<Json> limits = LimitsJson(l);
  if (!limits) return kExitConfig;
  Json body{{"agent", agent}};
  if (!limits->empty()) body["limits"] = std::move(*limits);
  return Call(o, "POST", "/api/v1/keys", body, PrintCreatedKey);
}

int RunKeysLimits(const ClientOptions& o, const std::string& id, const KeyLimitOptions& l) {
  std::optional<Json> limits = LimitsJson(l);
  if (!limits) return kExitConfig;
  return Call(o, "POST", "/api/v1/keys/" + id + "/limits", Json{{"limits", std::move(*limits)}},
              PrintKey);
}

int RunKeysList(const ClientOptions& o) { return Call(o, "GET", "/api/v1/keys", nullptr, PrintKeys); }

int RunKeysRevoke(const ClientOptions& o, const std::string& id) {
  return Call(o, "POST", "/api/v1/keys/" + id + "/revoke", Json::object(), nullptr);
}

int RunKeysRotate(const ClientOptions& o, const std::string& id) {
  return Call(o, "POST", "/api/v1/keys/" + id + "/rotate", Json::object(), PrintCreatedKey);
}

int RunPolicyReload(const ClientOptions& o) {
  return Call(o, "POST", "/api/v1/policy/reload", Json::object(), nullptr);
}

}  // namespace helm::app
