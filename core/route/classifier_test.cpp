#include "core/route/classifier.h"

#include <doctest/doctest.h>

#include <set>

namespace helm::route {
namespace {

const std::set<std::string> kAllLanes = {"economy", "balanced", "premium", "coding",
                                         "json",    "vision",   "tool_use"};

LaneExists Lanes(const std::set<std::string>& lanes) {
  return [lanes](std::string_view name) { return lanes.count(std::string(name)) > 0; };
}

Classification Run(const RouteFacts& f, const ClassifierConfig& c = {},
                   const std::set<std::string>& lanes = kAllLanes) {
  return Classify(f, c, Lanes(lanes));
}

TEST_CASE("classifier: each rule alone, as a table") {
  struct Row {
    const char* name;
    RouteFacts facts;
    const char* lane;
    const char* by;
  };
  RouteFacts tools, images, json, code, longin, plain;
  tools.has_tools = true;
  images.has_images = true;
  json.json_output = true;
  code.texts = {"fix this:\n```cpp\nint main() {}\n```"};
  longin.input_tokens = 32000;
  plain.texts = {"hello there"};
  plain.input_tokens = 31999;
  const Row rows[] = {
      {"tools", tools, "tool_use", "tools"},
      {"images", images, "vision", "images"},
      {"json", json, "json", "json"},
      {"code", code, "coding", "code"},
      {"long", longin, "premium", "long_input"},
      {"plain", plain, "balanced", "default"},
  };
  for (const Row& row : rows) {
    Classification c = Run(row.facts);
    CHECK_MESSAGE(c.lane == row.lane, row.name);
    CHECK_MESSAGE(c.classified_by == row.by, row.name);
  }
}

TEST_CASE("classifier: rule order tools > images > json > code > long_input") {
  RouteFacts f;
  f.has_tools = f.has_images = f.json_output = true;
  f.texts = {"```x```"};
  f.input_tokens = 100000;
  CHECK(Run(f).classified_by == "tools");
  f.has_tools = false;
  CHECK(Run(f).classified_by == "images");
  f.has_images = false;
  CHECK(Run(f).classified_by == "json");
  f.json_output = false;
  CHECK(Run(f).classified_by == "code");
  f.texts.clear();
  CHECK(Run(f).classified_by == "long_input");
  f.input_tokens = 0;
  CHECK(Run(f).classified_by == "default");
}

TEST_CASE("classifier: long_input threshold, just under and at") {
  ClassifierConfig c;
  c.long_input_tokens = 1000;
  RouteFacts f;
  f.input_tokens = 999;
  CHECK(Run(f, c).lane == "balanced");
  f.input_tokens = 1000;
  CHECK(Run(f, c).lane == "premium");
}

TEST_CASE("classifier: a disabled rule is skipped and the next one decides") {
  ClassifierConfig c;
  c.rules[static_cast<size_t>(ClassifierRule::kTools)].enabled = false;
  RouteFacts f;
  f.has_tools = true;
  f.json_output = true;
  CHECK(Run(f, c).classified_by == "json");
  f.json_output = false;
  Classification d = Run(f, c);
  CHECK(d.lane == "balanced");
  CHECK(d.classified_by == "default");
}

TEST_CASE("classifier: a rule whose lane is not configured is skipped") {
  RouteFacts f;
  f.has_images = true;
  f.texts = {"Traceback (most recent call last):\n  File \"x.py\""};
  CHECK(Run(f, {}, {"balanced", "coding"}).classified_by == "code");
  Classification c = Run(f, {}, {"balanced"});
  CHECK(c.lane == "balanced");
  CHECK(c.classified_by == "default");
}

TEST_CASE("classifier: a rule's lane can be renamed") {
  ClassifierConfig c;
  c.rules[static_cast<size_t>(ClassifierRule::kCode)].lane = "cheap-code";
  RouteFacts f;
  f.texts = {"```"};
  CHECK(Run(f, c, {"balanced", "cheap-code"}).lane == "cheap-code");
  CHECK(Run(f, c, {"balanced", "coding"}).lane == "balanced");
}

TEST_CASE("classifier: code and stack-trace detection") {
  const char* yes[] = {
      "```",
      "see ```python\nprint(1)\n```",
      "Traceback (most recent call last):\n  File \"a.py\", line 1",
      "Exception in thread \"main\" java.lang.NullPointerException",
      "java.lang.IllegalStateException: boom\n\tat java.base/java.util.Objects.x(Objects.java:1)",
      "error\n    at javax.servlet.Filter.doFilter(Filter.java:10)",
      "panic: runtime error: index out of range\n\ngoroutine 1 [running]:",
      "log:\npanic: boom",
      "goroutine 17 [chan receive]:",
      "error[E0382]: borrow of moved value: `v`",
  };
  for (const char* text : yes) CHECK_MESSAGE(LooksLikeCode(text), text);
  const char* no[] = {
      "",
      "hello",
      "``",
      "please look at java.util docs",  // not at the start of a line
      "don't panic: it is fine",
      "goroutine leak explained",
      "error[E] without a code",
      "an error[Ex",
  };
  for (const char* text : no) CHECK_FALSE_MESSAGE(LooksLikeCode(text), text);
}

TEST_CASE("classifier: code in any one of several texts fires the rule") {
  RouteFacts f;
  f.texts = {"system prompt", "user says hi", "tool result:\n```json\n{}\n```"};
  CHECK(RuleCode(f));
  f.texts.pop_back();
  CHECK_FALSE(RuleCode(f));
}

TEST_CASE("classifier: EstimateTokens rounds up") {
  CHECK(EstimateTokens(0) == 0);
  CHECK(EstimateTokens(1) == 1);
  CHECK(EstimateTokens(4) == 1);
  CHECK(EstimateTokens(5) == 2);
}

}  // namespace
}  // namespace helm::route
