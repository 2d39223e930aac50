/* Shared by the native baselines (layernorm.c, ops.c): clock, median sort, deterministic data. */
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double d = *(const double *)a - *(const double *)b;
  return (d > 0) - (d < 0);
}

static unsigned long long rng = 0x9e3779b97f4a7c15ull;
static float uniform(void) { /* [-1, 1) */
  rng = rng * 6364136223846793005ull + 1442695040888963407ull;
  return (float)((rng >> 40) * (1.0 / (1ull << 23)) - 1.0);
}

#define MAX_SAMPLES 100000
