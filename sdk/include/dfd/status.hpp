// dfd SDK — Status and Result<T>: how every plugin boundary reports success and failure.
//
// No exception ever crosses a plugin boundary. Every interface method is `noexcept` and returns a
// `Status` (success or a coded error with a human message) or a `Result<T>` (a value or a Status).
// Plugins convert anything thrown inside them with `dfd::guard(...)`.
//
// Thread-safety: Status and Result are values; distinct objects may be used from distinct threads.
#pragma once

#include <exception>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace dfd {

// Error categories. Numeric values are part of the ABI: append, never reorder.
enum class Code : int {
  kOk = 0,
  kInvalidArgument = 1,      // caller passed something malformed (bad config value, bad input)
  kNotFound = 2,             // the named thing does not exist
  kAlreadyExists = 3,        // unique thing exists already (user e-mail, plugin name)
  kPermissionDenied = 4,     // authenticated but not allowed (token for another file, expired)
  kUnauthenticated = 5,      // no or unusable credentials
  kUnavailable = 6,          // a dependency is down (broker, disk); retrying later may work
  kDeadlineExceeded = 7,     // a wait ran out (broker confirm, token wait)
  kIoError = 8,              // the operating system said no (errno text in the message)
  kCorruption = 9,           // data does not match its digest or format
  kNotSupported = 10,        // the plugin does not implement this optional operation
  kInternal = 11,            // a bug or an unexpected exception
  kResourceExhausted = 12,   // rate limit, disk full, too many of something
  kFailedPrecondition = 13,  // called in the wrong state (before start, after stop)
  kOutOfRange = 14,          // offset or range outside the object
};

// Stable lower-case name of a code, e.g. "not_found"; used in JSON error bodies.
constexpr std::string_view code_name(Code c) noexcept {
  switch (c) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
      return "invalid_argument";
    case Code::kNotFound:
      return "not_found";
    case Code::kAlreadyExists:
      return "already_exists";
    case Code::kPermissionDenied:
      return "permission_denied";
    case Code::kUnauthenticated:
      return "unauthenticated";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kDeadlineExceeded:
      return "deadline_exceeded";
    case Code::kIoError:
      return "io_error";
    case Code::kCorruption:
      return "corruption";
    case Code::kNotSupported:
      return "not_supported";
    case Code::kInternal:
      return "internal";
    case Code::kResourceExhausted:
      return "resource_exhausted";
    case Code::kFailedPrecondition:
      return "failed_precondition";
    case Code::kOutOfRange:
      return "out_of_range";
  }
  return "unknown";
}

// A success or an error with a code and a message meant for a human (operator or user).
// Messages carry context ("storage-fs: open 'a/b.bin': Permission denied"), never secrets.
class [[nodiscard]] Status {
 public:
  Status() noexcept = default;  // success
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() noexcept { return Status(); }
  static Status Error(Code code, std::string message) { return Status(code, std::move(message)); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) { return {Code::kDeadlineExceeded, std::move(m)}; }
  static Status IoError(std::string m) { return {Code::kIoError, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status NotSupported(std::string m) { return {Code::kNotSupported, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
  static Status ResourceExhausted(std::string m) {
    return {Code::kResourceExhausted, std::move(m)};
  }
  static Status FailedPrecondition(std::string m) {
    return {Code::kFailedPrecondition, std::move(m)};
  }
  static Status OutOfRange(std::string m) { return {Code::kOutOfRange, std::move(m)}; }

  bool ok() const noexcept { return code_ == Code::kOk; }
  explicit operator bool() const noexcept { return ok(); }
  Code code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

  // "not_found: storage-fs: no such file 'x'" (or "ok").
  std::string to_string() const {
    if (ok()) return "ok";
    std::string s(code_name(code_));
    s += ": ";
    s += message_;
    return s;
  }

  // Returns a copy whose message is prefixed with `context + ": "`; success stays success.
  Status with_context(std::string_view context) const {
    if (ok()) return *this;
    std::string m(context);
    m += ": ";
    m += message_;
    return Status(code_, std::move(m));
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// A value of T or an error Status. Accessing value() of an error is a programming error
// (it aborts in debug via assert semantics of std::get; never do it across the boundary).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : v_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    if (std::get<1>(v_).ok()) {
      v_.template emplace<1>(Code::kInternal, "Result constructed from a success Status");
    }
  }

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // The error; Status::Ok() when this holds a value.
  Status status() const { return ok() ? Status::Ok() : std::get<1>(v_); }

  T value_or(T fallback) const& { return ok() ? std::get<0>(v_) : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

// Runs `fn` (returning Status or Result<T>) and turns any exception into Code::kInternal (or
// kResourceExhausted for std::bad_alloc) prefixed with `context`. Use it at every noexcept
// boundary method whose body may throw.
template <typename Fn>
auto guard(std::string_view context, Fn&& fn) noexcept -> decltype(fn()) {
  using R = decltype(fn());
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return R(Status::ResourceExhausted(std::string(context) + ": out of memory"));
  } catch (const std::exception& e) {
    return R(Status::Internal(std::string(context) + ": " + e.what()));
  } catch (...) {
    return R(Status::Internal(std::string(context) + ": unknown exception"));
  }
}

}  // namespace dfd

// Early-return helpers for plugin implementations.
#define DFD_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::dfd::Status dfd_status_ = (expr);        \
    if (!dfd_status_.ok()) return dfd_status_; \
  } while (0)
