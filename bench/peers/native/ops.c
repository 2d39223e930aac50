/* Native C baselines for the ops besides LayerNorm (bench/native-ops.ts): plain loops compiled
 * with -O3 -msse4.2 -ffast-math, which gcc autovectorises (reductions included) with 128-bit SSE,
 * the width of wasm SIMD. Each kernel does the work the library's call does with the same
 * arguments (bench/native-ops.ts lists them) and nothing more: float accumulators (as torch's CPU
 * kernels), two passes over the row for a mean and variance. The program checks every op's main
 * output against a double-precision computation, times it (median, ~0.3 s per op and shape) and
 * prints one JSON line per op and shape.
 * Usage: ops OP ROWSxCOLS...   (OP: rmsNorm skipLayerNorm skipRmsNorm layerNormBackward
 *        rmsNormBackward batchNormTrainNCHW)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "harness.h"

typedef struct {
  int rows, cols;
  float *x, *skip, *rb, *w, *b, *y, *sum, *dy, *dx, *dw, *db, *mean, *rstd, *rm, *rv;
} Case;

#define BN_C 3 /* batchNormTrainNCHW: x is [rows, BN_C, cols], as in `npm run bench` */

static void rms_norm(Case *c) {
  for (int r = 0; r < c->rows; r++) {
    const float *x = c->x + (size_t)r * c->cols;
    float *y = c->y + (size_t)r * c->cols;
    float q = 0;
    for (int i = 0; i < c->cols; i++) q += x[i] * x[i];
    const float rs = 1.0f / sqrtf(q / c->cols + 1.1920929e-7f);
    for (int i = 0; i < c->cols; i++) y[i] = x[i] * rs * c->w[i];
  }
}

static void skip_norm(Case *c, int rms) {
  const int d = c->cols;
  for (int r = 0; r < c->rows; r++) {
    const size_t o = (size_t)r * d;
    float *s = c->sum + o, *y = c->y + o;
    float m = 0;
    for (int i = 0; i < d; i++) { s[i] = c->x[o + i] + c->skip[o + i] + c->rb[i]; m += s[i]; }
    m = rms ? 0 : m / d;
    float q = 0;
    for (int i = 0; i < d; i++) q += (s[i] - m) * (s[i] - m);
    const float rs = 1.0f / sqrtf(q / d + (rms ? 1.1920929e-7f : 1e-5f));
    if (rms) for (int i = 0; i < d; i++) y[i] = s[i] * rs * c->w[i];
    else for (int i = 0; i < d; i++) y[i] = (s[i] - m) * rs * c->w[i] + c->b[i];
  }
}

/* dx, dweight and dbias from dy, x, weight and the saved mean / rstd (torch's formula). */
static void norm_backward(Case *c, int rms) {
  const int d = c->cols;
  memset(c->dw, 0, d * sizeof *c->dw);
  memset(c->db, 0, d * sizeof *c->db);
  for (int r = 0; r < c->rows; r++) {
    const size_t o = (size_t)r * d;
    const float *x = c->x + o, *dy = c->dy + o;
    float *dx = c->dx + o;
    const float m = rms ? 0 : c->mean[r], rs = c->rstd[r];
    float A = 0, B = 0;
    for (int i = 0; i < d; i++) {
      const float u = (x[i] - m) * rs, g = dy[i] * c->w[i];
      A += g;
      B += g * u;
      c->dw[i] += dy[i] * u;
      if (!rms) c->db[i] += dy[i];
    }
    const float ma = rms ? 0 : A / d, mb = B / d;
    for (int i = 0; i < d; i++) {
      const float u = (x[i] - m) * rs;
      dx[i] = rs * (dy[i] * c->w[i] - ma - u * mb);
    }
  }
}

/* Training BatchNorm over [rows, BN_C, cols]: batch statistics (two passes), output, running stats. */
static void batch_norm_train(Case *c) {
  const int N = c->rows, L = c->cols;
  const double M = (double)N * L;
  for (int ch = 0; ch < BN_C; ch++) {
    float s = 0;
    for (int n = 0; n < N; n++) {
      const float *x = c->x + ((size_t)n * BN_C + ch) * L;
      for (int i = 0; i < L; i++) s += x[i];
    }
    const float m = s / M;
    float q = 0;
    for (int n = 0; n < N; n++) {
      const float *x = c->x + ((size_t)n * BN_C + ch) * L;
      for (int i = 0; i < L; i++) q += (x[i] - m) * (x[i] - m);
    }
    const float v = q / M, rs = 1.0f / sqrtf(v + 1e-5f), a = rs * c->w[ch], k = c->b[ch] - m * a;
    for (int n = 0; n < N; n++) {
      const float *x = c->x + ((size_t)n * BN_C + ch) * L;
      float *y = c->y + ((size_t)n * BN_C + ch) * L;
      for (int i = 0; i < L; i++) y[i] = x[i] * a + k;
    }
    c->rm[ch] = 0.9f * c->rm[ch] + 0.1f * m;
    c->rv[ch] = 0.9f * c->rv[ch] + 0.1f * v * (float)(M / (M - 1));
  }
}

/* Max abs error of the op's main output (y, or dx) against a double-precision computation. */
static double check(const char *op, Case *c) {
  const int d = c->cols;
  double err = 0;
  if (strcmp(op, "batchNormTrainNCHW") == 0) {
    for (int ch = 0; ch < BN_C; ch++) {
      double s = 0, q = 0, M = (double)c->rows * d;
      for (int n = 0; n < c->rows; n++) for (int i = 0; i < d; i++) s += c->x[((size_t)n * BN_C + ch) * d + i];
      for (int n = 0; n < c->rows; n++) for (int i = 0; i < d; i++) { double t = c->x[((size_t)n * BN_C + ch) * d + i] - s / M; q += t * t; }
      const double rs = 1 / sqrt(q / M + 1e-5);
      for (int n = 0; n < c->rows; n++) for (int i = 0; i < d; i++) {
        const size_t k = ((size_t)n * BN_C + ch) * d + i;
        const double e = fabs((c->x[k] - s / M) * rs * c->w[ch] + c->b[ch] - c->y[k]);
        if (e > err) err = e;
      }
    }
    return err;
  }
  const int back = strstr(op, "Backward") != NULL, rms = strstr(op, "ms") != NULL, skip = strncmp(op, "skip", 4) == 0;
  double *s = malloc(d * sizeof *s);
  for (int r = 0; r < c->rows; r++) {
    const size_t o = (size_t)r * d;
    double m = 0, q = 0, A = 0, B = 0;
    for (int i = 0; i < d; i++) { s[i] = skip ? (double)c->x[o + i] + c->skip[o + i] + c->rb[i] : c->x[o + i]; m += s[i]; }
    m = rms ? 0 : m / d;
    if (back) m = rms ? 0 : c->mean[r];
    for (int i = 0; i < d; i++) q += (s[i] - m) * (s[i] - m);
    const double rs = back ? c->rstd[r] : 1 / sqrt(q / d + (rms ? 1.1920929e-7 : 1e-5));
    if (back) for (int i = 0; i < d; i++) { const double g = (double)c->dy[o + i] * c->w[i]; A += g; B += g * (s[i] - m) * rs; }
    for (int i = 0; i < d; i++) {
      const double u = (s[i] - m) * rs;
      const double want = back ? rs * ((double)c->dy[o + i] * c->w[i] - (rms ? 0 : A / d) - u * B / d)
                               : u * c->w[i] + (rms ? 0 : c->b[i]);
      const double e = fabs(want - (back ? c->dx : c->y)[o + i]);
      if (e > err) err = e;
    }
  }
  free(s);
  return err;
}

static void run(const char *op, Case *c) {
  if (strcmp(op, "rmsNorm") == 0) rms_norm(c);
  else if (strcmp(op, "skipLayerNorm") == 0) skip_norm(c, 0);
  else if (strcmp(op, "skipRmsNorm") == 0) skip_norm(c, 1);
  else if (strcmp(op, "layerNormBackward") == 0) norm_backward(c, 0);
  else if (strcmp(op, "rmsNormBackward") == 0) norm_backward(c, 1);
  else batch_norm_train(c);
}


static float *filled(size_t n, float offset, float scale) {
  float *a = malloc(n * sizeof *a);
  if (!a) { fprintf(stderr, "out of memory\n"); exit(1); }
  for (size_t i = 0; i < n; i++) a[i] = offset + scale * uniform();
  return a;
}


int main(int argc, char **argv) {
  static const char *ops[] = { "rmsNorm", "skipLayerNorm", "skipRmsNorm", "layerNormBackward", "rmsNormBackward", "batchNormTrainNCHW" };
  if (argc < 3) { fprintf(stderr, "usage: %s OP ROWSxCOLS...\n", argv[0]); return 2; }
  const char *op = argv[1];
  int known = 0;
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) known |= strcmp(op, ops[i]) == 0;
  if (!known) { fprintf(stderr, "unknown op %s\n", op); return 2; }
  static double samples[MAX_SAMPLES];
  for (int a = 2; a < argc; a++) {
    Case c;
    if (sscanf(argv[a], "%dx%d", &c.rows, &c.cols) != 2 || c.rows < 1 || c.cols < 1) {
      fprintf(stderr, "bad shape %s\n", argv[a]);
      return 2;
    }
    const int bn = strcmp(op, "batchNormTrainNCHW") == 0;
    const size_t n = (size_t)c.rows * c.cols * (bn ? BN_C : 1), d = bn ? BN_C : c.cols;
    c.x = filled(n, 0.5f, 2); c.skip = filled(n, 0, 1); c.dy = filled(n, 0.1f, 1);
    c.y = filled(n, 0, 0); c.sum = filled(n, 0, 0); c.dx = filled(n, 0, 0);
    c.rb = filled(d, 0, 0.25f); c.w = filled(d, 1, 0.25f); c.b = filled(d, 0, 0.25f);
    c.dw = filled(d, 0, 0); c.db = filled(d, 0, 0); c.rm = filled(d, 0, 0); c.rv = filled(d, 1, 0);
    c.mean = filled(c.rows, 0, 0); c.rstd = filled(c.rows, 0, 0);
    for (int r = 0; r < c.rows; r++) { /* the saved statistics, as the forward returns them */
      double m = 0, q = 0;
      for (int i = 0; i < c.cols; i++) m += c.x[(size_t)r * c.cols + i];
      m /= c.cols;
      for (int i = 0; i < c.cols; i++) { double t = c.x[(size_t)r * c.cols + i] - m; q += t * t; }
      const int rms = strstr(op, "ms") != NULL;
      if (rms) q += m * m * c.cols;
      c.mean[r] = rms ? 0 : (float)m;
      c.rstd[r] = (float)(1 / sqrt(q / c.cols + (rms ? 1.1920929e-7 : 1e-5)));
    }
    run(op, &c);
    const double err = check(op, &c);
    int k = 1; /* calls per sample: one sample lasts >= 20 us */
    for (;;) {
      double t0 = now();
      for (int j = 0; j < k; j++) { run(op, &c); __asm__ volatile("" ::: "memory"); }
      if (now() - t0 >= 20e-6) break;
      k *= 2;
    }
    for (double t0 = now(); now() - t0 < 0.05;) run(op, &c);
    int s = 0;
    for (double start = now(); s < MAX_SAMPLES && (now() - start < 0.3 || s < 5); s++) {
      double t0 = now();
      for (int j = 0; j < k; j++) { run(op, &c); __asm__ volatile("" ::: "memory"); }
      samples[s] = (now() - t0) / k;
    }
    qsort(samples, s, sizeof *samples, cmp_double);
    const double median = s % 2 ? samples[s / 2] : 0.5 * (samples[s / 2 - 1] + samples[s / 2]);
    printf("{\"op\":\"%s\",\"rows\":%d,\"cols\":%d,\"nsPerElement\":%.4f,\"maxAbsError\":%.3g}\n",
           op, c.rows, c.cols, median * 1e9 / n, err);
    fflush(stdout);
    float *all[] = { c.x, c.skip, c.dy, c.y, c.sum, c.dx, c.rb, c.w, c.b, c.dw, c.db, c.rm, c.rv, c.mean, c.rstd };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) free(all[i]);
  }
  return 0;
}
