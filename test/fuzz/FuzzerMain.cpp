//===- FuzzerMain.cpp - A driver for fuzz targets without libFuzzer -------===//
//
// Kiln's fuzz targets define LLVMFuzzerTestOneInput. Built with clang and
// -DKILN_FUZZ=ON they link libFuzzer (coverage-guided, see scripts/fuzz.sh);
// otherwise they link this driver, so that every build (GCC included) can
// run them in the test suite. It takes a subset of libFuzzer's command line:
//
//   TARGET [-max_total_time=S] [-runs=N] [-seed=N] [-max_len=N] CORPUS...
//
// Each CORPUS file (or the files of a CORPUS directory) is run once, then
// random mutations of them (bit flips, byte changes, interesting integers,
// insertions, deletions, splices of two inputs) until the time or run count
// is spent. Before a crash kills the process the input that caused it is
// written to ./crash-<hash>, as libFuzzer does; a hang is the caller's
// timeout to catch.
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <random>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

// The input being run, for the crash handler (which may only call
// async-signal-safe functions: open, write, close).
const uint8_t *currentData = nullptr;
size_t currentSize = 0;
char crashPath[64] = "crash-input";

uint64_t fnv1a(const uint8_t *data, size_t size) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < size; ++i)
    h = (h ^ data[i]) * 1099511628211ull;
  return h;
}

void onCrash(int sig) {
  int fd = open(crashPath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    size_t done = 0;
    while (done < currentSize) {
      ssize_t n = write(fd, currentData + done, currentSize - done);
      if (n <= 0)
        break;
      done += n;
    }
    close(fd);
  }
  static const char msg[] = "\n==fuzz== crashed; the input is in ";
  (void)!write(2, msg, sizeof msg - 1);
  (void)!write(2, crashPath, strlen(crashPath));
  (void)!write(2, "\n", 1);
  signal(sig, SIG_DFL);
  raise(sig);
}

void runOne(const std::vector<uint8_t> &input) {
  currentData = input.data();
  currentSize = input.size();
  std::snprintf(crashPath, sizeof crashPath, "crash-%016llx",
                (unsigned long long)fnv1a(input.data(), input.size()));
  LLVMFuzzerTestOneInput(input.data(), input.size());
}

bool readFile(const std::string &path, std::vector<uint8_t> &out) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return false;
  out.clear();
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    out.insert(out.end(), buf, buf + n);
  std::fclose(f);
  return true;
}

void collect(const std::string &path, std::vector<std::string> &files) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0)
    return;
  if (S_ISREG(st.st_mode)) {
    files.push_back(path);
    return;
  }
  if (!S_ISDIR(st.st_mode))
    return;
  DIR *dir = opendir(path.c_str());
  if (!dir)
    return;
  std::vector<std::string> names;
  while (dirent *e = readdir(dir))
    if (e->d_name[0] != '.')
      names.push_back(e->d_name);
  closedir(dir);
  std::sort(names.begin(), names.end());
  for (const std::string &n : names)
    collect(path + "/" + n, files);
}

class Mutator {
public:
  Mutator(uint64_t seed, size_t maxLen) : rng(seed), maxLen(maxLen) {}

  std::vector<uint8_t> mutate(std::vector<uint8_t> v, const std::vector<uint8_t> &other) {
    int steps = 1 + below(4);
    for (int s = 0; s < steps; ++s)
      step(v, other);
    if (v.size() > maxLen)
      v.resize(maxLen);
    return v;
  }

private:
  size_t below(size_t n) { return n ? std::uniform_int_distribution<size_t>(0, n - 1)(rng) : 0; }

  void step(std::vector<uint8_t> &v, const std::vector<uint8_t> &other) {
    static const int64_t interesting[] = {0,      1,          -1,         2,          7,
                                          8,      16,         64,         127,        128,
                                          255,    256,        1024,       4096,       65535,
                                          65536,  INT32_MAX,  INT32_MIN,  INT64_MAX,  INT64_MIN,
                                          1ll << 31, 1ll << 32, 1ll << 40, 1ll << 62, -2};
    switch (below(v.empty() ? 2 : 7)) {
    case 0: { // insert random bytes
      size_t at = below(v.size() + 1), n = 1 + below(8);
      std::vector<uint8_t> bytes(n);
      for (auto &b : bytes)
        b = uint8_t(below(256));
      v.insert(v.begin() + at, bytes.begin(), bytes.end());
      break;
    }
    case 1: { // splice a piece of another input
      if (other.empty())
        break;
      size_t from = below(other.size()), n = 1 + below(std::min<size_t>(other.size() - from, 256));
      size_t at = below(v.size() + 1);
      v.insert(v.begin() + at, other.begin() + from, other.begin() + from + n);
      break;
    }
    case 2: // flip a bit
      v[below(v.size())] ^= uint8_t(1u << below(8));
      break;
    case 3: // set a byte
      v[below(v.size())] = uint8_t(below(256));
      break;
    case 4: { // overwrite with an interesting integer (1, 2, 4 or 8 bytes)
      int64_t x = interesting[below(sizeof interesting / sizeof *interesting)];
      size_t width = size_t(1) << below(4), at = below(v.size());
      for (size_t i = 0; i < width && at + i < v.size(); ++i)
        v[at + i] = uint8_t(uint64_t(x) >> (8 * i));
      break;
    }
    case 5: { // erase a range
      size_t at = below(v.size()), n = 1 + below(std::min<size_t>(v.size() - at, 64));
      v.erase(v.begin() + at, v.begin() + at + n);
      break;
    }
    default: { // duplicate a range
      size_t at = below(v.size()), n = 1 + below(std::min<size_t>(v.size() - at, 64));
      std::vector<uint8_t> piece(v.begin() + at, v.begin() + at + n);
      v.insert(v.begin() + below(v.size() + 1), piece.begin(), piece.end());
      break;
    }
    }
  }

  std::mt19937_64 rng;
  size_t maxLen;
};

} // namespace

int main(int argc, char **argv) {
  double maxSeconds = 0;
  long long maxRuns = -1;
  uint64_t seed = uint64_t(std::chrono::system_clock::now().time_since_epoch().count());
  size_t maxLen = 1 << 20;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (!std::strncmp(a, "-max_total_time=", 16))
      maxSeconds = std::atof(a + 16);
    else if (!std::strncmp(a, "-runs=", 6))
      maxRuns = std::atoll(a + 6);
    else if (!std::strncmp(a, "-seed=", 6))
      seed = std::strtoull(a + 6, nullptr, 10);
    else if (!std::strncmp(a, "-max_len=", 9))
      maxLen = std::strtoull(a + 9, nullptr, 10);
    else if (a[0] == '-')
      std::fprintf(stderr, "fuzz: ignoring flag %s (libFuzzer only)\n", a);
    else
      collect(a, files);
  }
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT})
    std::signal(sig, onCrash);
  std::fprintf(stderr, "fuzz: %zu corpus files, seed %llu\n", files.size(),
               (unsigned long long)seed);

  auto start = std::chrono::steady_clock::now();
  auto timeUp = [&] {
    return maxSeconds > 0 &&
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >=
               maxSeconds;
  };
  long long runs = 0;
  std::vector<std::vector<uint8_t>> corpus;
  std::vector<uint8_t> input;
  // The corpus in a seeded order, so that a short run does not always
  // spend its time on the same files.
  std::mt19937_64 order(seed);
  std::shuffle(files.begin(), files.end(), order);
  for (const std::string &f : files) {
    if (timeUp() || (maxRuns >= 0 && runs >= maxRuns))
      break;
    if (!readFile(f, input))
      continue;
    if (input.size() > maxLen)
      input.resize(maxLen);
    runOne(input);
    ++runs;
    corpus.push_back(input);
  }
  size_t replayed = corpus.size();
  if (corpus.empty())
    corpus.push_back({});
  Mutator mutator(seed, maxLen);
  std::mt19937_64 pick(seed ^ 0x9e3779b97f4a7c15ull);
  while (!timeUp() && (maxRuns < 0 || runs < maxRuns) && (maxSeconds > 0 || maxRuns >= 0)) {
    const auto &base = corpus[pick() % corpus.size()];
    const auto &other = corpus[pick() % corpus.size()];
    runOne(mutator.mutate(base, other));
    ++runs;
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "fuzz: %lld runs (%zu corpus files, %lld mutations) in %.1f s, no crash\n",
               runs, replayed, runs - (long long)replayed, seconds);
  return 0;
}
