// Errors as values at component boundaries (DESIGN.md guideline 7). The ground floor of the house: every component
// returns these, so they live in pipeguard::base, which depends on nothing of ours.
//
// A Status is either OK or carries a code and a human-readable message that says what went wrong, where, and
// how to fix it. StatusOr<T> holds either a T or a non-OK Status. Both are cheap to move and safe to copy.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace pipeguard {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // the input is malformed or violates a documented limit
  kNotFound,          // a named thing does not exist
  kUnavailable,       // a remote system could not be reached (retrying may help)
  kDeadlineExceeded,  // the operation ran out of time
  kPermissionDenied,  // the remote system refused our credentials
  kFailedPrecondition,
  kInternal,  // a bug: an invariant did not hold
};

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
  static Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Holds a value or an error of type `Error` (default-constructible; the default-constructed error is what an
// accessor of a success returns). Accessing value() on an error is a programming bug (asserts in debug builds).
// StatusOr and aws::AwsResult are this with their own error type.
template <typename T, typename Error>
class ValueOrError {
 public:
  ValueOrError(T value) : value_(std::move(value)) {}      // NOLINT: implicit by design, like absl::StatusOr
  ValueOrError(Error error) : error_(std::move(error)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 protected:
  const Error& stored_error() const { return error_; }

 private:
  std::optional<T> value_;
  Error error_;
};

// Holds a value or a Status that is not OK; status() is OK when it holds a value.
template <typename T>
class StatusOr : public ValueOrError<T, Status> {
 public:
  StatusOr(T value) : ValueOrError<T, Status>(std::move(value)) {}  // NOLINT: implicit by design
  StatusOr(Status status) : ValueOrError<T, Status>(std::move(status)) { assert(!this->status().ok()); }  // NOLINT

  const Status& status() const { return this->stored_error(); }
};

}  // namespace pipeguard

// Returns the Status of `expr` from the enclosing function when it is not OK. `expr` is evaluated once; works for
// functions returning Status or any StatusOr<T>.
#define PIPEGUARD_RETURN_IF_ERROR(expr)                                            \
  do {                                                                             \
    if (::pipeguard::Status pipeguard_status_ = (expr); !pipeguard_status_.ok()) { \
      return pipeguard_status_;                                                    \
    }                                                                              \
  } while (false)
