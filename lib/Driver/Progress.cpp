//===- Progress.cpp - What kiln is doing, on stderr -----------------------===//

#include "lib/Driver/Progress.h"

#include <atomic>
#include <cstdio>

namespace kiln {

static std::atomic<Verbosity> currentVerbosity{Verbosity::Quiet};

void setVerbosity(Verbosity v) { currentVerbosity = v; }
Verbosity verbosity() { return currentVerbosity; }

static void line(const std::string &text) {
  // One write per line, so lines of concurrent steps do not interleave.
  std::string out = "kiln: " + text + "\n";
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
}

void progressNote(const std::string &text) {
  if (verbosity() != Verbosity::Quiet)
    line(text);
}

void progressDetail(const std::string &text) {
  if (verbosity() == Verbosity::Verbose)
    line(text);
}

ProgressStep::ProgressStep(std::string what, bool announce)
    : what_(std::move(what)), start_(std::chrono::steady_clock::now()) {
  if (announce || verbosity() == Verbosity::Verbose)
    progressNote(what_ + "...");
}

ProgressStep::~ProgressStep() {
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (verbosity() == Verbosity::Verbose || (verbosity() == Verbosity::Normal && seconds >= 1.0)) {
    char text[32];
    std::snprintf(text, sizeof text, ": %.2f s", seconds);
    line(what_ + text);
  }
}

} // namespace kiln
