// Result<T>: the value or an Error, never an exception on the request path.
// An Error carries a closed code (see ErrorCode) and a human message; the code
// alone decides the HTTP status and the receipt outcome (core/common/error_map).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace helm {

enum class ErrorCode {
  kInvalidArgument,   // bad input from a caller: 400, nothing recorded beyond a DENY
  kNotFound,          // unknown id: 404
  kUnauthenticated,   // missing or wrong credential: 401
  kPermissionDenied,  // policy said no: 403
  kConflict,          // state does not allow it (approval used, expired): 409
  kTooLarge,          // over a configured limit: 413
  kUnavailable,       // a dependency (ledger, boundary, upstream) is down: 503
  kCorruption,        // stored data failed verification: refuse to start
  kConfig,            // invalid configuration: exit 2
  kInternal,          // cannot happen: 500
};

struct Error {
  ErrorCode code;
  std::string message;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Status: a Result with no value.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static Status Ok() { return Status(); }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_{ErrorCode::kInternal, ""};
  bool ok_ = true;
};

inline Error MakeError(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace helm
