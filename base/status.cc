#include "base/status.h"

#include <cerrno>
#include <cstring>

namespace ferry {

const std::string& Status::message() const {
  static const std::string kEmpty;
  return state_ ? state_->message : kEmpty;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(CodeName(code()));
  out += ": ";
  out += state_->message;
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += state_->message;
  return Status(state_->code, msg);
}

std::string_view CodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return "OK";
    case Status::Code::kNotFound:
      return "NotFound";
    case Status::Code::kCorruption:
      return "Corruption";
    case Status::Code::kIOError:
      return "IOError";
    case Status::Code::kInvalidArgument:
      return "InvalidArgument";
    case Status::Code::kRetry:
      return "Retry";
    case Status::Code::kCursorExpired:
      return "CursorExpired";
  }
  return "Unknown";
}

Status ErrnoStatus(int err, std::string_view call, std::string_view subject) {
  std::string msg(call);
  if (!subject.empty()) {
    msg += ' ';
    msg += subject;
  }
  msg += ": ";
  msg += std::strerror(err);
  const char* name = strerrorname_np(err);
  if (name != nullptr) {
    msg += " (";
    msg += name;
    msg += ')';
  }
  switch (err) {
    case ENOENT:
      return Status::NotFound(msg);
    case EINVAL:
      return Status::InvalidArgument(msg);
    case EAGAIN:
    case EINTR:
      return Status::Retry(msg);
    default:
      return Status::IOError(msg);
  }
}

}  // namespace ferry
