// Always-on assertions for programming errors (STYLE: errors of kind 1).
//
// AYNI_CHECK stays active in release builds: a broken money invariant must stop the
// process, never continue silently. It is never used on external input; bad input is
// refused with an Outcome or a Status instead.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace ayni::detail {
[[noreturn]] inline void CheckFailed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "AYNI_CHECK failed: %s at %s:%d\n", expr, file, line);
  std::fflush(stderr);
  std::abort();
}
}  // namespace ayni::detail

#define AYNI_CHECK(cond)                                           \
  do {                                                             \
    if (!(cond)) [[unlikely]]                                      \
      ::ayni::detail::CheckFailed(#cond, __FILE__, __LINE__);      \
  } while (false)
