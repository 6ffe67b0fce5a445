// An RFC 8785 object built member by member, without a JSON tree in between.
// Receipts are made this way on every request: a nlohmann object costs a map
// node and often a string per member, and is then walked again to
// canonicalise it. Here each member's `"name":value` text is written once,
// into one buffer, and members are sorted by name when the object is read.
//
// A failed member (invalid UTF-8, a float, an integer a double cannot hold)
// makes the object invalid: status() says why, and the ledger refuses it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/json.h"
#include "core/common/result.h"

namespace helm {

class CanonicalObject {
 public:
  // `expected_bytes`: the text reserved at the first member. The default
  // suits a nested object; a whole receipt reserves kReceiptBytes.
  static constexpr size_t kReceiptBytes = 990;  // a chunk below malloc's large ones (1 KiB)
  explicit CanonicalObject(size_t expected_bytes = 192) : expected_bytes_(expected_bytes) {}
  struct Member {
    std::string_view name;  // the member's name, unescaped
    std::string_view text;  // `"name":value`, canonical
  };

  void AddString(std::string_view name, std::string_view value);
  void AddInt(std::string_view name, int64_t value);
  void AddBool(std::string_view name, bool value);
  void AddObject(std::string_view name, const CanonicalObject& value);
  void AddJson(std::string_view name, const Json& value);
  // `canonical` must already be an RFC 8785 value (possibly empty: a slot
  // the ledger fills in later).
  void AddCanonical(std::string_view name, std::string_view canonical);

  const Status& status() const { return status_; }
  // The members in RFC 8785 order; views into this object, valid until the
  // next Add. kInvalidArgument when a name repeats or a member failed.
  Result<std::vector<Member>> Sorted() const;
  // The object's canonical text.
  Result<std::string> Text() const;
  // Appends it to *out (nothing on an error).
  Status AppendTo(std::string* out) const;

 private:
  struct Entry {
    bool escaped_name;              // the name is in names_, else in text_
    uint32_t name_begin, name_end;  // the unescaped name
    uint32_t begin, end;            // `"name":value` in text_
  };
  // Starts a member: its quoted name and ':' (names are escaped as JCS says).
  void Begin(std::string_view name);
  void End();
  void Fail(std::string_view name, const Error& error);
  // Fills members[0..entries_.size()) in RFC 8785 order.
  Status SortInto(Member* members) const;

  size_t expected_bytes_;
  std::vector<Entry> entries_;
  std::string names_;  // names that JCS escapes
  std::string text_;
  Status status_ = Status::Ok();
};

// Appends the RFC 8785 form of `value`. Common receipt values (printable
// ASCII strings and names, integers within +-2^53, booleans, null) are
// written directly; other strings and integers go through Canonicalize.
// kInvalidArgument for a floating-point number (receipts hold none) or
// invalid UTF-8.
Status AppendCanonicalJson(const Json& value, std::string* out);

// RFC 8785 member order: by UTF-16 code units of the (valid UTF-8) names.
// Names that agree up to an ASCII byte are ordered by that byte directly.
bool Utf16Less(std::string_view a, std::string_view b);

}  // namespace helm
