//===- Progress.h - What kiln is doing, on stderr ---------------*- C++ -*-===//
//
// Progress lines ("kiln: importing: 1.3 s") go to stderr so that a long
// compile or build is not silent and stdout stays the command's result. The
// library is quiet unless a tool sets a verbosity: `kiln` is Normal unless
// --quiet or --verbose.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_DRIVER_PROGRESS_H
#define KILN_LIB_DRIVER_PROGRESS_H

#include <chrono>
#include <string>

namespace kiln {

enum class Verbosity {
  Quiet,   ///< errors only
  Normal,  ///< slow steps (a second or more) and cache use
  Verbose, ///< every step with its time, and the commands run
};

void setVerbosity(Verbosity v);
Verbosity verbosity();

/// A line for Normal and Verbose ("kiln: " + text).
void progressNote(const std::string &text);
/// A line for Verbose only.
void progressDetail(const std::string &text);

/// Times a step and reports it when it ends: always in Verbose, in Normal
/// when it took a second or more. An announced step (one known to be slow,
/// such as building C++) also says when it starts, in Normal.
class ProgressStep {
public:
  explicit ProgressStep(std::string what, bool announce = false);
  ~ProgressStep();
  ProgressStep(const ProgressStep &) = delete;
  ProgressStep &operator=(const ProgressStep &) = delete;

private:
  std::string what_;
  std::chrono::steady_clock::time_point start_;
};

} // namespace kiln

#endif // KILN_LIB_DRIVER_PROGRESS_H
