/*
 * Native C baselines for the LayerNorm benchmark (f32 in, f32 out, normalised over each row).
 *
 *   layernorm_sse   : SSE intrinsics (128-bit, the same width as wasm SIMD), two passes for the
 *                     statistics (mean, then centred variance) and one output pass; 4 vector
 *                     accumulators (16 floats per iteration), scalar tail.
 *   layernorm_plain : the obvious scalar loops, left to the compiler's autovectoriser. Without
 *                     -ffast-math gcc cannot reorder the float reductions, so only the output
 *                     loop vectorises; with -ffast-math all three do.
 *
 * Usage: layernorm KERNEL ROWSxCOLS...   (KERNEL = sse | plain)
 * For each shape prints one JSON line:
 *   {"kernel", "rows", "cols", "nsPerElement", "usPerCall", "maxAbsError", "samples", "callsPerSample"}
 * Time is the median over samples of ~0.3 s of repeated calls; maxAbsError is measured against a
 * double-precision reference computed in this program.
 */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <smmintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "harness.h"

typedef void kernel_fn(const float *x, const float *w, const float *b, float *y, int rows, int cols, float eps);

static inline float hsum(__m128 v) {
  v = _mm_add_ps(v, _mm_movehl_ps(v, v));
  v = _mm_add_ss(v, _mm_shuffle_ps(v, v, 1));
  return _mm_cvtss_f32(v);
}

__attribute__((noipa)) void layernorm_sse(const float *x, const float *w, const float *b, float *y,
                                          int rows, int cols, float eps) {
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * cols;
    float *yr = y + (size_t)r * cols;
    int i;

    /* pass 1: mean */
    __m128 a0 = _mm_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (i = 0; i + 16 <= cols; i += 16) {
      a0 = _mm_add_ps(a0, _mm_loadu_ps(xr + i));
      a1 = _mm_add_ps(a1, _mm_loadu_ps(xr + i + 4));
      a2 = _mm_add_ps(a2, _mm_loadu_ps(xr + i + 8));
      a3 = _mm_add_ps(a3, _mm_loadu_ps(xr + i + 12));
    }
    for (; i + 4 <= cols; i += 4) a0 = _mm_add_ps(a0, _mm_loadu_ps(xr + i));
    float sum = hsum(_mm_add_ps(_mm_add_ps(a0, a1), _mm_add_ps(a2, a3)));
    for (; i < cols; i++) sum += xr[i];
    const float mean = sum / (float)cols;
    const __m128 vm = _mm_set1_ps(mean);

    /* pass 2: centred variance */
    a0 = a1 = a2 = a3 = _mm_setzero_ps();
    for (i = 0; i + 16 <= cols; i += 16) {
      __m128 d0 = _mm_sub_ps(_mm_loadu_ps(xr + i), vm);
      __m128 d1 = _mm_sub_ps(_mm_loadu_ps(xr + i + 4), vm);
      __m128 d2 = _mm_sub_ps(_mm_loadu_ps(xr + i + 8), vm);
      __m128 d3 = _mm_sub_ps(_mm_loadu_ps(xr + i + 12), vm);
      a0 = _mm_add_ps(a0, _mm_mul_ps(d0, d0));
      a1 = _mm_add_ps(a1, _mm_mul_ps(d1, d1));
      a2 = _mm_add_ps(a2, _mm_mul_ps(d2, d2));
      a3 = _mm_add_ps(a3, _mm_mul_ps(d3, d3));
    }
    for (; i + 4 <= cols; i += 4) {
      __m128 d = _mm_sub_ps(_mm_loadu_ps(xr + i), vm);
      a0 = _mm_add_ps(a0, _mm_mul_ps(d, d));
    }
    float sq = hsum(_mm_add_ps(_mm_add_ps(a0, a1), _mm_add_ps(a2, a3)));
    for (; i < cols; i++) { float d = xr[i] - mean; sq += d * d; }
    const float rstd = 1.0f / sqrtf(sq / (float)cols + eps);
    const __m128 vs = _mm_set1_ps(rstd);

    /* pass 3: y = (x - mean) * rstd * w + b */
    for (i = 0; i + 4 <= cols; i += 4) {
      __m128 v = _mm_mul_ps(_mm_sub_ps(_mm_loadu_ps(xr + i), vm), vs);
      _mm_storeu_ps(yr + i, _mm_add_ps(_mm_mul_ps(v, _mm_loadu_ps(w + i)), _mm_loadu_ps(b + i)));
    }
    for (; i < cols; i++) yr[i] = (xr[i] - mean) * rstd * w[i] + b[i];
  }
}

__attribute__((noipa)) void layernorm_plain(const float *x, const float *w, const float *b, float *y,
                                            int rows, int cols, float eps) {
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * cols;
    float *yr = y + (size_t)r * cols;
    float sum = 0;
    for (int i = 0; i < cols; i++) sum += xr[i];
    const float mean = sum / (float)cols;
    float sq = 0;
    for (int i = 0; i < cols; i++) { float d = xr[i] - mean; sq += d * d; }
    const float rstd = 1.0f / sqrtf(sq / (float)cols + eps);
    for (int i = 0; i < cols; i++) yr[i] = (xr[i] - mean) * rstd * w[i] + b[i];
  }
}

static double max_abs_error(const float *x, const float *w, const float *b, const float *y,
                            int rows, int cols, double eps) {
  double err = 0;
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * cols;
    double mean = 0, var = 0;
    for (int i = 0; i < cols; i++) mean += xr[i];
    mean /= cols;
    for (int i = 0; i < cols; i++) var += (xr[i] - mean) * (xr[i] - mean);
    const double rstd = 1.0 / sqrt(var / cols + eps);
    for (int i = 0; i < cols; i++) {
      double e = fabs((xr[i] - mean) * rstd * w[i] + b[i] - y[(size_t)r * cols + i]);
      if (e > err) err = e;
    }
  }
  return err;
}



int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s sse|plain ROWSxCOLS...\n", argv[0]); return 2; }
  kernel_fn *kernel = strcmp(argv[1], "sse") == 0 ? layernorm_sse
                    : strcmp(argv[1], "plain") == 0 ? layernorm_plain : NULL;
  if (!kernel) { fprintf(stderr, "unknown kernel %s\n", argv[1]); return 2; }
  const float eps = 1e-5f;
  static double samples[MAX_SAMPLES];

  for (int a = 2; a < argc; a++) {
    int rows, cols;
    if (sscanf(argv[a], "%dx%d", &rows, &cols) != 2 || rows < 1 || cols < 1) {
      fprintf(stderr, "bad shape %s\n", argv[a]);
      return 2;
    }
    size_t n = (size_t)rows * cols;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    float *w = malloc(cols * sizeof *w), *b = malloc(cols * sizeof *b);
    if (!x || !y || !w || !b) { fprintf(stderr, "out of memory\n"); return 1; }
    for (int r = 0; r < rows; r++) { /* a per-row offset makes the mean matter */
      float offset = 3 * uniform();
      for (int i = 0; i < cols; i++) x[(size_t)r * cols + i] = offset + 2 * uniform();
    }
    for (int i = 0; i < cols; i++) { w[i] = 1 + 0.25f * uniform(); b[i] = 0.25f * uniform(); }

    kernel(x, w, b, y, rows, cols, eps);
    double err = max_abs_error(x, w, b, y, rows, cols, eps);

    /* calls per sample: enough that one sample lasts >= 20 us (clock resolution, call overhead) */
    int k = 1;
    for (;;) {
      double t0 = now();
      for (int j = 0; j < k; j++) { kernel(x, w, b, y, rows, cols, eps); __asm__ volatile("" ::: "memory"); }
      if (now() - t0 >= 20e-6) break;
      k *= 2;
    }
    /* warm up ~50 ms, then sample for ~0.3 s */
    for (double t0 = now(); now() - t0 < 0.05;) kernel(x, w, b, y, rows, cols, eps);
    int s = 0;
    for (double start = now(); s < MAX_SAMPLES && (now() - start < 0.3 || s < 5); s++) {
      double t0 = now();
      for (int j = 0; j < k; j++) { kernel(x, w, b, y, rows, cols, eps); __asm__ volatile("" ::: "memory"); }
      samples[s] = (now() - t0) / k;
    }
    qsort(samples, s, sizeof *samples, cmp_double);
    double median = s % 2 ? samples[s / 2] : 0.5 * (samples[s / 2 - 1] + samples[s / 2]);

    printf("{\"kernel\":\"%s\",\"rows\":%d,\"cols\":%d,\"nsPerElement\":%.4f,\"usPerCall\":%.4f,"
           "\"maxAbsError\":%.3g,\"samples\":%d,\"callsPerSample\":%d}\n",
           argv[1], rows, cols, median * 1e9 / n, median * 1e6, err, s, k);
    fflush(stdout);
    free(x); free(y); free(w); free(b);
  }
  return 0;
}
