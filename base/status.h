// Status and Result<T>: how every library folder reports errors.
//
// A Status is cheap when OK (no allocation) and otherwise carries a code and a
// message. The codes are few and chosen for what the caller does next:
//   NotFound        the thing asked for does not exist; not an error by itself.
//   Corruption      stored bytes do not decode; skip/report them, never crash.
//   IOError         the OS or storage failed; retry later or surface loudly.
//   InvalidArgument the caller passed something wrong; fix the input.
//   Retry           transient; try the same thing again after a backoff.
//   CursorExpired   a cursor points at history the journal no longer holds;
//                   the target needs a full sync.
//
// Result<T> is shaped like C++23 std::expected<T, Status> so that moving to it
// is a rename: has_value(), value(), error(), operator*, operator->.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ferry {

class [[nodiscard]] Status {
 public:
  enum class Code : unsigned char {
    kOk = 0,
    kNotFound,
    kCorruption,
    kIOError,
    kInvalidArgument,
    kRetry,
    kCursorExpired,
  };

  Status() = default;

  static Status Ok() { return Status(); }
  static Status NotFound(std::string_view msg) { return Status(Code::kNotFound, msg); }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, msg); }
  static Status IOError(std::string_view msg) { return Status(Code::kIOError, msg); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(Code::kInvalidArgument, msg);
  }
  static Status Retry(std::string_view msg) { return Status(Code::kRetry, msg); }
  static Status CursorExpired(std::string_view msg) { return Status(Code::kCursorExpired, msg); }

  bool ok() const { return state_ == nullptr; }
  Code code() const { return state_ ? state_->code : Code::kOk; }
  bool IsNotFound() const { return code() == Code::kNotFound; }
  bool IsCorruption() const { return code() == Code::kCorruption; }
  bool IsIOError() const { return code() == Code::kIOError; }
  bool IsInvalidArgument() const { return code() == Code::kInvalidArgument; }
  bool IsRetry() const { return code() == Code::kRetry; }
  bool IsCursorExpired() const { return code() == Code::kCursorExpired; }

  // The message without the code name; empty when OK.
  const std::string& message() const;
  // "Corruption: <message>", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>". OK stays OK.
  Status WithContext(std::string_view context) const;

 private:
  struct State {
    Code code;
    std::string message;
  };
  Status(Code code, std::string_view msg)
      : state_(std::make_shared<const State>(State{code, std::string(msg)})) {}

  // Shared and immutable, so copies are cheap; null means OK.
  std::shared_ptr<const State> state_;
};

std::string_view CodeName(Status::Code code);

// Translates an errno value into a Status once, at the edge:
//   ErrnoStatus(errno, "inotify_add_watch", path)
//   -> "IOError: inotify_add_watch /srv/a: No space left on device (ENOSPC)"
// ENOENT becomes NotFound, EINVAL InvalidArgument, EAGAIN/EINTR Retry, the rest IOError.
Status ErrnoStatus(int err, std::string_view call, std::string_view subject = {});

// Either a T or a non-OK Status. Constructing from an OK Status is a bug.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit, as std::expected
  Result(Status status) : v_(std::move(status)) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error; OK when a value is held (unlike std::expected, which is UB).
  Status error() const { return has_value() ? Status::Ok() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace ferry

// Returns early from a function returning Status or Result<T> when `expr` is
// not OK. `expr` must yield a Status.
#define FERRY_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::ferry::Status ferry_status_ = (expr);        \
    if (!ferry_status_.ok()) return ferry_status_; \
  } while (0)
