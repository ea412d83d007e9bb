// Status and Result<T>: how errors cross module boundaries in scaletwin.
//
// Every fallible operation outside a unit's private helpers returns a Status
// (success or a code plus message) or a Result<T> (a value or a Status, never
// both). Nothing in model/, sim/ or reports/ throws across its public API.
//
//   Result<Duration> d = ParseDuration("250ms");
//   if (!d.ok()) return d.status();
//   Use(*d);
//
// Thread-safety: plain values; copy freely.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace scaletwin {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad input from a user: scenario, flag, request
  kNotFound,         // a named file, key or record does not exist
  kIOError,          // the OS refused a read or write
  kFailedPrecondition,
  kInternal,         // a bug: an invariant did not hold
  kCancelled,        // the caller asked the operation to stop (Ctrl-C) before it finished
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid argument: <message>" — for logs and CLI output.
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or an error. REQUIRES: constructed from a non-OK Status when it holds no value.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // OK when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

inline std::string Status::ToString() const {
  const char* name = "ok";
  switch (code_) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: name = "invalid argument"; break;
    case StatusCode::kNotFound: name = "not found"; break;
    case StatusCode::kIOError: name = "I/O error"; break;
    case StatusCode::kFailedPrecondition: name = "failed precondition"; break;
    case StatusCode::kInternal: name = "internal error"; break;
    case StatusCode::kCancelled: name = "cancelled"; break;
  }
  return std::string(name) + ": " + message_;
}

}  // namespace scaletwin
