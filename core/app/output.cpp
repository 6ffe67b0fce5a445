#include "core/app/output.h"

namespace helm::app {

std::string ReceiptLine(const Json& r) {
  if (!r.is_object()) return "(unreadable receipt)";
  std::string kind = r.value("kind", "");
  std::string what = kind == "decision" ? r.value("verdict", "") : r.value("status", "");
  std::string line = "#" + std::to_string(r.value("seq", uint64_t{0})) + " " + r.value("time", "") +
                     " " + kind;
  if (!what.empty()) line += " " + what;
  if (!r.value("reason_code", "").empty()) line += " " + r.value("reason_code", "");
  if (r.contains("principal") && r["principal"].is_object()) {
    line += " agent=" + r["principal"].value("agent", "");
  }
  return line + " id=" + r.value("receipt_id", "");
}

}  // namespace helm::app
