//===- Status.h - Errors as values ------------------------------*- C++ -*-===//
//
// Every runtime entry point that can fail on user input returns a Status with a
// message instead of aborting.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_STATUS_H
#define KILN_RUNTIME_STATUS_H

#include <string>
#include <utility>

namespace kiln {

class [[nodiscard]] Status {
public:
  Status() = default;
  static Status success() { return Status(); }
  static Status error(std::string message) {
    Status s;
    s.failed_ = true;
    s.message_ = std::move(message);
    return s;
  }

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string &message() const { return message_; }

  /// Prefixes the message with some context ("model 'x': ").
  Status &prepend(const std::string &context) {
    if (failed_)
      message_ = context + message_;
    return *this;
  }

private:
  bool failed_ = false;
  std::string message_;
};

} // namespace kiln

#endif // KILN_RUNTIME_STATUS_H
