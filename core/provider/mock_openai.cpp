#include "core/provider/mock_openai.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/common/json.h"

namespace helm {
namespace {

constexpr int64_t kCreated = 1700000000;  // fixed, so answers are byte-identical
constexpr int kDefaultEmbeddingDim = 8;
constexpr int kMaxEmbeddingDim = 4096;
constexpr int kMaxChunks = 10000;
constexpr const char* kFiller[] = {"lorem",      "ipsum", "dolor", "sit", "amet",    "consectetur",
                                   "adipiscing", "elit",  "sed",   "do",  "eiusmod", "tempor"};

uint64_t Fnv1a(std::string_view s, uint64_t seed = 1469598103934665603ULL) {
  uint64_t h = seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string Hex(uint64_t v, int digits = 16) {
  static const char* kDigits = "0123456789abcdef";
  std::string out(digits, '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) out[i] = kDigits[v & 0xf];
  return out;
}

// Members that exist with the right type, or null: a mock must never throw
// on a strange request.
const Json* Member(const Json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string StringMember(const Json& j, const char* key, std::string fallback = "") {
  const Json* m = Member(j, key);
  return m != nullptr && m->is_string() ? m->get<std::string>() : fallback;
}

std::vector<std::string> SplitWords(std::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) words.emplace_back(text.substr(start, i - start));
  }
  return words;
}

int64_t CountWords(std::string_view text) { return static_cast<int64_t>(SplitWords(text).size()); }

// The text of a message's content: a string, or the text parts of a list.
std::string ContentText(const Json& message) {
  const Json* content = Member(message, "content");
  if (content == nullptr) return "";
  if (content->is_string()) return content->get<std::string>();
  std::string out;
  if (!content->is_array()) return out;
  for (const Json& part : *content) {
    std::string text = StringMember(part, "text");
    if (text.empty()) continue;
    if (!out.empty()) out += " ";
    out += text;
  }
  return out;
}

Json ErrorBody(int status, const std::string& message) {
  const char* type = "invalid_request_error";
  if (status == 401) type = "authentication_error";
  if (status == 403) type = "permission_error";
  if (status == 429) type = "rate_limit_error";
  if (status >= 500) type = "server_error";
  return Json{
      {"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}}}};
}

MockReply JsonReply(int status, const Json& body) {
  MockReply r;
  r.status = status;
  r.headers = {{"content-type", "application/json"}};
  r.frames.push_back(DumpJson(body));
  return r;
}

MockReply ErrorReply(int status, const std::string& message, const MockDirectives& d) {
  MockReply r = JsonReply(status, ErrorBody(status, message));
  if (status == 429 || status == 503) {
    r.headers.emplace_back("retry-after", std::to_string(d.retry_after_s));
  }
  r.timing.first_byte_ms = d.first_byte_ms;
  return r;
}

std::string SseFrame(const Json& j) { return "data: " + DumpJson(j) + "\n\n"; }

// Splits `text` into `chunks` pieces at word boundaries (0 = one per word),
// adding filler words when the text has fewer words than pieces asked for.
// Every piece after the first starts with its separating space.
std::vector<std::string> Pieces(const std::string& text, int chunks) {
  std::vector<std::string> words = SplitWords(text);
  size_t n = chunks > 0 ? static_cast<size_t>(chunks) : words.size();
  for (size_t i = 0; words.size() < n; ++i) words.emplace_back(kFiller[i % std::size(kFiller)]);
  std::vector<std::string> pieces;
  for (size_t p = 0; p < n; ++p) {
    std::string piece;
    for (size_t w = p * words.size() / n; w < (p + 1) * words.size() / n; ++w) {
      if (w > 0) piece += " ";  // the separator goes with the word after it
      piece += words[w];
    }
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

// ---- Directives ---------------------------------------------------------

void ApplyDirective(std::string_view key, std::string_view value, MockDirectives* d) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || ptr != value.data() + value.size() || v < 0) return;
  if (key == "chunks") d->chunks = static_cast<int>(std::min<int64_t>(v, kMaxChunks));
  if (key == "delay_ms") d->delay_ms = v;
  if (key == "first_byte_ms") d->first_byte_ms = v;
  if (key == "status" && v >= 400 && v <= 599) d->status = static_cast<int>(v);
  if (key == "retry_after") d->retry_after_s = v;
  if (key == "cut") d->cut = static_cast<int>(std::min<int64_t>(v, INT32_MAX));
  if (key == "stall") d->stall = static_cast<int>(std::min<int64_t>(v, INT32_MAX));
}

}  // namespace

void ParseMockDirectives(std::string_view text, MockDirectives* d) {
  size_t pos = 0;
  while ((pos = text.find("[mock:", pos)) != std::string_view::npos) {
    size_t end = text.find(']', pos);
    if (end == std::string_view::npos) return;
    std::string_view body = text.substr(pos + 6, end - pos - 6);
    while (!body.empty()) {
      size_t comma = body.find(',');
      std::string_view item = body.substr(0, comma);
      size_t eq = item.find('=');
      if (eq != std::string_view::npos) ApplyDirective(item.substr(0, eq), item.substr(eq + 1), d);
      if (comma == std::string_view::npos) break;
      body.remove_prefix(comma + 1);
    }
    pos = end + 1;
  }
}

std::string StripMockDirectives(std::string_view text) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t start = text.find("[mock:", pos);
    size_t end = start == std::string_view::npos ? start : text.find(']', start);
    if (end == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    out.append(text.substr(pos, start - pos));
    pos = end + 1;
  }
  size_t first = out.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  size_t last = out.find_last_not_of(" \t\r\n");
  return out.substr(first, last - first + 1);
}

namespace {

// ---- Chat completions ---------------------------------------------------

struct ChatPlan {
  std::string id;
  std::string model;
  std::string text;       // the answer when there is no tool call
  std::string tool_name;  // non-empty: answer with this tool call
  std::string tool_args;  // its arguments (a JSON string)
  std::string tool_call_id;
  std::string finish_reason;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

// A placeholder value of a JSON-schema type.
Json Placeholder(const std::string& type) {
  if (type == "string") return "mock";
  if (type == "integer" || type == "number") return 0;
  if (type == "boolean") return false;
  if (type == "array") return Json::array();
  if (type == "object") return Json::object();
  return nullptr;
}

// Placeholder arguments satisfying the simple types of a tool's JSON schema.
Json PlaceholderArgs(const Json& tool) {
  Json args = Json::object();
  const Json* function = Member(tool, "function");
  const Json* params = function ? Member(*function, "parameters") : nullptr;
  const Json* props = params ? Member(*params, "properties") : nullptr;
  if (props == nullptr || !props->is_object()) return args;
  for (const auto& [name, schema] : props->items()) {
    args[name] = Placeholder(StringMember(schema, "type"));
  }
  return args;
}

// The tool the answer calls, or null: the named tool_choice, else the first
// tool — unless tool_choice is "none" or the last message is a tool result.
const Json* ChosenTool(const Json& body, const Json& last_message) {
  const Json* tools = Member(body, "tools");
  if (tools == nullptr || !tools->is_array() || tools->empty()) return nullptr;
  if (StringMember(last_message, "role") == "tool") return nullptr;
  const Json* choice = Member(body, "tool_choice");
  if (choice != nullptr && choice->is_string() && *choice == "none") return nullptr;
  if (choice != nullptr && choice->is_object()) {
    const Json* fn = Member(*choice, "function");
    std::string wanted = fn ? StringMember(*fn, "name") : "";
    for (const Json& tool : *tools) {
      const Json* tf = Member(tool, "function");
      if (tf != nullptr && StringMember(*tf, "name") == wanted) return &tool;
    }
  }
  return &(*tools)[0];
}

int64_t MaxTokens(const Json& body) {
  for (const char* key : {"max_completion_tokens", "max_tokens"}) {
    const Json* m = Member(body, key);
    if (m != nullptr && m->is_number_integer() && m->get<int64_t>() > 0) return m->get<int64_t>();
  }
  return -1;
}

ChatPlan PlanChat(const Json& body, const std::string& raw, const MockDirectives& d) {
  ChatPlan plan;
  const uint64_t h = Fnv1a(raw);
  plan.id = "chatcmpl-mock-" + Hex(h);
  plan.model = StringMember(body, "model", "mock");
  const Json* messages = Member(body, "messages");
  Json last_user = Json::object();
  Json last = Json::object();
  for (const Json& m : *messages) {
    plan.prompt_tokens += CountWords(ContentText(m));
    if (StringMember(m, "role") == "user") last_user = m;
    last = m;
  }
  plan.prompt_tokens = std::max<int64_t>(plan.prompt_tokens, 1);
  if (const Json* tool = ChosenTool(body, last)) {
    const Json* fn = Member(*tool, "function");
    plan.tool_name = fn ? StringMember(*fn, "name", "tool") : "tool";
    plan.tool_args = DumpJson(PlaceholderArgs(*tool));
    plan.tool_call_id = "call_mock_" + Hex(h >> 16, 12);
    plan.finish_reason = "tool_calls";
    plan.completion_tokens = CountWords(plan.tool_name + " " + plan.tool_args);
    return plan;
  }
  std::string text = StringMember(last, "role") == "tool"
                         ? "Tool result: " + StripMockDirectives(ContentText(last))
                         : "Echo: " + StripMockDirectives(ContentText(last_user));
  std::vector<std::string> words = SplitWords(text);
  if (d.chunks > 0) {  // the answer has at least as many words as pieces asked for
    for (size_t i = 0; words.size() < static_cast<size_t>(d.chunks); ++i) {
      words.emplace_back(kFiller[i % std::size(kFiller)]);
    }
  }
  plan.finish_reason = "stop";
  int64_t max_tokens = MaxTokens(body);
  if (max_tokens > 0 && static_cast<int64_t>(words.size()) > max_tokens) {
    words.resize(static_cast<size_t>(max_tokens));
    plan.finish_reason = "length";
  }
  for (size_t i = 0; i < words.size(); ++i) plan.text += (i ? " " : "") + words[i];
  plan.completion_tokens = static_cast<int64_t>(words.size());
  return plan;
}

Json Usage(const ChatPlan& plan) {
  return Json{{"prompt_tokens", plan.prompt_tokens},
              {"completion_tokens", plan.completion_tokens},
              {"total_tokens", plan.prompt_tokens + plan.completion_tokens}};
}

Json ToolCall(const ChatPlan& plan) {
  return Json{{"id", plan.tool_call_id},
              {"type", "function"},
              {"function", {{"name", plan.tool_name}, {"arguments", plan.tool_args}}}};
}

Json ChatCompletion(const ChatPlan& plan) {
  Json message = {{"role", "assistant"}, {"content", nullptr}, {"refusal", nullptr}};
  if (plan.tool_name.empty()) {
    message["content"] = plan.text;
  } else {
    message["tool_calls"] = Json::array({ToolCall(plan)});
  }
  return Json{{"id", plan.id},
              {"object", "chat.completion"},
              {"created", kCreated},
              {"model", plan.model},
              {"system_fingerprint", "fp_mock"},
              {"choices", Json::array({{{"index", 0},
                                        {"message", message},
                                        {"logprobs", nullptr},
                                        {"finish_reason", plan.finish_reason}}})},
              {"usage", Usage(plan)}};
}

Json ChunkSkeleton(const ChatPlan& plan, bool include_usage) {
  Json chunk = {{"id", plan.id},
                {"object", "chat.completion.chunk"},
                {"created", kCreated},
                {"model", plan.model},
                {"system_fingerprint", "fp_mock"}};
  if (include_usage) chunk["usage"] = nullptr;
  return chunk;
}

Json Choice(Json delta, const Json& finish_reason) {
  return Json::array({{{"index", 0},
                       {"delta", std::move(delta)},
                       {"logprobs", nullptr},
                       {"finish_reason", finish_reason}}});
}

std::vector<std::string> ChatStreamFrames(const ChatPlan& plan, const MockDirectives& d,
                                          bool include_usage) {
  std::vector<std::string> frames;
  auto push = [&](Json delta, const Json& finish) {
    Json chunk = ChunkSkeleton(plan, include_usage);
    chunk["choices"] = Choice(std::move(delta), finish);
    frames.push_back(SseFrame(chunk));
  };
  if (plan.tool_name.empty()) {
    push({{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}, nullptr);
    std::vector<std::string> pieces = Pieces(plan.text, d.chunks);
    for (size_t i = 0; i < pieces.size(); ++i) {
      push({{"content", pieces[i]}}, nullptr);
    }
  } else {
    push({{"role", "assistant"}, {"content", nullptr}, {"refusal", nullptr}}, nullptr);
    Json call = ToolCall(plan);
    call["index"] = 0;
    call["function"]["arguments"] = "";
    push({{"tool_calls", Json::array({call})}}, nullptr);
    const std::string& args = plan.tool_args;
    size_t n = static_cast<size_t>(std::max(d.chunks, 2));
    for (size_t p = 0; p < n; ++p) {  // arguments in n fragments, some maybe empty
      std::string part =
          args.substr(p * args.size() / n, (p + 1) * args.size() / n - p * args.size() / n);
      push({{"tool_calls", Json::array({{{"index", 0}, {"function", {{"arguments", part}}}}})}},
           nullptr);
    }
  }
  push(Json::object(), plan.finish_reason);
  if (include_usage) {
    Json chunk = ChunkSkeleton(plan, true);
    chunk["choices"] = Json::array();
    chunk["usage"] = Usage(plan);
    frames.push_back(SseFrame(chunk));
  }
  frames.push_back("data: [DONE]\n\n");
  return frames;
}

bool WantsStream(const Json& body) {
  const Json* s = Member(body, "stream");
  return s != nullptr && s->is_boolean() && s->get<bool>();
}

bool WantsUsage(const Json& body) {
  const Json* opts = Member(body, "stream_options");
  const Json* inc = opts ? Member(*opts, "include_usage") : nullptr;
  return inc != nullptr && inc->is_boolean() && inc->get<bool>();
}

MockReply StreamReply(std::vector<std::string> frames) {
  MockReply r;
  r.stream = true;
  r.headers = {{"content-type", "text/event-stream"}, {"cache-control", "no-cache"}};
  r.frames = std::move(frames);
  return r;
}

MockReply Chat(const Json& body, const std::string& raw, const MockDirectives& d) {
  const Json* messages = Member(body, "messages");
  if (messages == nullptr || !messages->is_array() || messages->empty()) {
    return ErrorReply(400, "'messages' must be a non-empty array", d);
  }
  ChatPlan plan = PlanChat(body, raw, d);
  if (!WantsStream(body)) return JsonReply(200, ChatCompletion(plan));
  return StreamReply(ChatStreamFrames(plan, d, WantsUsage(body)));
}

// ---- Legacy completions -------------------------------------------------

MockReply Completions(const Json& body, const std::string& raw, const MockDirectives& d) {
  const Json* prompt = Member(body, "prompt");
  std::string text;
  if (prompt != nullptr && prompt->is_string()) text = prompt->get<std::string>();
  if (prompt != nullptr && prompt->is_array() && !prompt->empty() && (*prompt)[0].is_string()) {
    text = (*prompt)[0].get<std::string>();
  }
  std::string answer = "Echo: " + StripMockDirectives(text);
  std::vector<std::string> pieces = Pieces(answer, d.chunks);
  answer.clear();
  for (const std::string& piece : pieces) answer += piece;
  int64_t prompt_tokens = std::max<int64_t>(CountWords(text), 1);
  int64_t completion_tokens = CountWords(answer);
  Json base = {{"id", "cmpl-mock-" + Hex(Fnv1a(raw))},
               {"object", "text_completion"},
               {"created", kCreated},
               {"model", StringMember(body, "model", "mock")}};
  auto choice = [](const std::string& t, const Json& finish) {
    return Json::array(
        {{{"text", t}, {"index", 0}, {"logprobs", nullptr}, {"finish_reason", finish}}});
  };
  if (!WantsStream(body)) {
    Json out = base;
    out["choices"] = choice(answer, "stop");
    out["usage"] = {{"prompt_tokens", prompt_tokens},
                    {"completion_tokens", completion_tokens},
                    {"total_tokens", prompt_tokens + completion_tokens}};
    return JsonReply(200, out);
  }
  std::vector<std::string> frames;
  for (size_t i = 0; i < pieces.size(); ++i) {
    Json chunk = base;
    chunk["choices"] = choice(pieces[i], nullptr);
    frames.push_back(SseFrame(chunk));
  }
  Json last = base;
  last["choices"] = choice("", "stop");
  frames.push_back(SseFrame(last));
  frames.push_back("data: [DONE]\n\n");
  return StreamReply(std::move(frames));
}

// ---- Embeddings -----------------------------------------------------------

std::string Base64(std::string_view bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

// A unit vector derived from the hash of `text`.
std::vector<float> EmbeddingOf(std::string_view text, int dim) {
  std::vector<float> v(static_cast<size_t>(dim));
  double norm = 0;
  for (int i = 0; i < dim; ++i) {
    uint64_t h = Fnv1a(text, Fnv1a(std::to_string(i)));
    v[i] =
        static_cast<float>(static_cast<double>(h >> 11) / static_cast<double>(1ULL << 53) * 2 - 1);
    norm += static_cast<double>(v[i]) * v[i];
  }
  norm = std::sqrt(norm);
  for (float& x : v) x = norm > 0 ? static_cast<float>(x / norm) : 0.0f;
  return v;
}

Json EncodeEmbedding(const std::vector<float>& v, bool base64) {
  if (!base64) return Json(v);
  std::string bytes(v.size() * sizeof(float), '\0');
  std::memcpy(bytes.data(), v.data(), bytes.size());  // little-endian hosts, as OpenAI sends
  return Base64(bytes);
}

MockReply Embeddings(const Json& body, const MockDirectives& d) {
  const Json* input = Member(body, "input");
  std::vector<Json> items;
  if (input != nullptr && (input->is_string() || (input->is_array() && !input->empty() &&
                                                  (*input)[0].is_number_integer()))) {
    items.push_back(*input);
  } else if (input != nullptr && input->is_array() && !input->empty()) {
    for (const Json& item : *input) items.push_back(item);
  } else {
    return ErrorReply(400, "'input' must be a string or a non-empty array", d);
  }
  int dim = kDefaultEmbeddingDim;
  const Json* dims = Member(body, "dimensions");
  if (dims != nullptr && dims->is_number_integer()) {
    dim = static_cast<int>(std::clamp<int64_t>(dims->get<int64_t>(), 1, kMaxEmbeddingDim));
  }
  bool base64 = StringMember(body, "encoding_format") == "base64";
  Json data = Json::array();
  int64_t tokens = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const Json& item = items[i];
    std::string text = item.is_string() ? item.get<std::string>() : DumpJson(item);
    tokens += item.is_array() ? static_cast<int64_t>(item.size()) : CountWords(text);
    data.push_back({{"object", "embedding"},
                    {"index", i},
                    {"embedding", EncodeEmbedding(EmbeddingOf(text, dim), base64)}});
  }
  tokens = std::max<int64_t>(tokens, 1);
  return JsonReply(200, {{"object", "list"},
                         {"data", data},
                         {"model", StringMember(body, "model", "mock-embedding")},
                         {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
}

// ---- Models ---------------------------------------------------------------

Json ModelObject(const std::string& id) {
  return {{"id", id}, {"object", "model"}, {"created", kCreated}, {"owned_by", "helm-mock"}};
}

MockReply Models(std::string_view path) {
  constexpr std::string_view kPrefix = "/v1/models/";
  if (path.substr(0, kPrefix.size()) == kPrefix && path.size() > kPrefix.size()) {
    return JsonReply(200, ModelObject(std::string(path.substr(kPrefix.size()))));
  }
  Json data = Json::array();
  for (const char* id : {"mock-1", "mock-1-slow", "mock-embedding"})
    data.push_back(ModelObject(id));
  return JsonReply(200, {{"object", "list"}, {"data", data}});
}

MockDirectives DirectivesFor(const Json& body) {
  MockDirectives d;
  std::string model = StringMember(body, "model");
  if (model.size() >= 5 && model.compare(model.size() - 5, 5, "-slow") == 0) {
    d.chunks = 20;
    d.delay_ms = 50;
  }
  ParseMockDirectives(model, &d);
  const Json* messages = Member(body, "messages");
  if (messages != nullptr && messages->is_array()) {
    for (auto it = messages->rbegin(); it != messages->rend(); ++it) {
      if (StringMember(*it, "role") != "user") continue;
      ParseMockDirectives(ContentText(*it), &d);
      break;
    }
  }
  const Json* prompt = Member(body, "prompt");
  if (prompt != nullptr && prompt->is_string()) ParseMockDirectives(prompt->get<std::string>(), &d);
  return d;
}

MockReply Route(const UpstreamRequest& request, std::string_view path) {
  const bool is_post = request.method == "POST";
  if (request.method == "GET" && (path == "/v1/models" || path.rfind("/v1/models/", 0) == 0)) {
    return Models(path);
  }
  if (path != "/v1/chat/completions" && path != "/v1/completions" && path != "/v1/embeddings") {
    return ErrorReply(404, "Unknown request URL: " + request.method + " " + std::string(path),
                      MockDirectives{});
  }
  if (!is_post) return ErrorReply(405, "Method not allowed", MockDirectives{});
  Result<Json> body = ParseStrictJson(request.body);
  if (!body.ok()) return ErrorReply(400, body.error().message, MockDirectives{});
  if (!body->is_object()) return ErrorReply(400, "request body must be a JSON object", {});
  MockDirectives d = DirectivesFor(*body);
  MockReply reply;
  if (d.status != 0) {
    reply = ErrorReply(d.status, "mock: error status requested by directive", d);
  } else if (path == "/v1/chat/completions") {
    reply = Chat(*body, request.body, d);
  } else if (path == "/v1/completions") {
    reply = Completions(*body, request.body, d);
  } else {
    reply = Embeddings(*body, d);
  }
  reply.timing = d;
  return reply;
}

}  // namespace

MockReply MockRespond(const UpstreamRequest& request) {
  std::string_view path = request.path;
  path = path.substr(0, path.find('?'));
  MockReply reply = Route(request, path);
  reply.headers.emplace_back("x-request-id", "req_mock_" + Hex(Fnv1a(request.body), 12));
  return reply;
}

}  // namespace helm
