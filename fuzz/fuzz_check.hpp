// FUZZ_CHECK(cond): an invariant of the parser under test. Unlike assert() it stays on in every
// build type; a violation prints the condition and aborts, which libFuzzer reports as a crash
// (and the corpus replay as a failed test).
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)
