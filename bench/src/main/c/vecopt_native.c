/*
 * The native peer of the vecopt benchmarks: the engine's kernels written in plain C, element for element the same
 * float operations as vecopt.kernel.ScalarKernels (fmaf where Java calls Math.fma, the same order, no contraction:
 * built with -ffp-contract=off), so that its results are bitwise those of the engine and any speed difference is
 * code generation, not arithmetic. gcc -O3 -march=native -fno-math-errno vectorizes every loop here (without
 * -fno-math-errno it would keep sqrtf scalar).
 *
 * Threads: each kernel is a plain serial loop over a range with restrict pointers, and OpenMP only hands the
 * vo_set_threads(n) threads chunks of the range (see SPLIT). Writing the loops as "omp parallel for simd" instead
 * made gcc 12 fall back to its scalar loop (the pointers, read back from OpenMP's shared-data block, lose restrict
 * and the alias checks fail): 3.4x slower on one thread.
 *
 * Also the memory ceilings the kernels are read against: a STREAM triad, a pass with AdamW's own traffic (read four
 * arrays, write three) and a one-array read pass.
 */
#include <math.h>
#include <omp.h>
#include <stddef.h>
#include <stdint.h>

static int vo_threads = 1;

void vo_set_threads(int n) { vo_threads = n < 1 ? 1 : n; }
int vo_max_threads(void) { return omp_get_max_threads(); }

/* Work is cut into chunks of 64 Ki floats (the engine's grid, vecopt.parallel.ChunkGrid.CHUNK) that the threads take
 * dynamically, as the engine's pool does. A static half-each split was 5-50x slower than one thread on a loaded
 * machine: whenever one thread of the team is descheduled, the whole step waits a scheduler slice for it. */
#define CHUNK ((int64_t) 65536)

/* Runs BODY (which uses lo and hi) on the whole range, or chunk by chunk on the team. */
#define SPLIT(n, BODY)                                                          \
    do {                                                                        \
        int64_t n_ = (n);                                                       \
        if (vo_threads <= 1 || n_ <= CHUNK) {                                   \
            int64_t lo = 0, hi = n_;                                            \
            BODY;                                                               \
        } else {                                                                \
            int64_t chunks_ = (n_ + CHUNK - 1) / CHUNK;                         \
            _Pragma("omp parallel for num_threads(vo_threads) schedule(dynamic, 1)") \
            for (int64_t c_ = 0; c_ < chunks_; c_++) {                          \
                int64_t lo = c_ * CHUNK, hi = lo + CHUNK < n_ ? lo + CHUNK : n_; \
                BODY;                                                           \
            }                                                                   \
        }                                                                       \
    } while (0)

/* Math.max's NaN rule (NaN if either is NaN) with compares gcc vectorizes; fmaxf it does not vectorize. The one
 * difference, max(+0, -0), cannot occur: v = fma(v, b2, g*c2*g) is never -0. */
static inline float amax(float a, float b) { return (a != a || b != b) ? a + b : (a > b ? a : b); }

typedef struct { float b1, c1, b2, c2, eps, decay, l2, neg_step, inv_bc2, scale; } adam_k;

/* AdamW (decoupled: l2 == 0) or Adam with L2 decay, as vecopt.kernel.AdamStep documents. The branch on l2 stays
 * outside the loops, as in the engine (fmaf(p, 0, g) is not g for infinite p). */
static void adam_range(float *restrict p, const float *restrict gr, float *restrict m_, float *restrict v_,
                       int64_t n, adam_k k) {
    if (k.l2 != 0.0f) {
        for (int64_t i = 0; i < n; i++) {
            float pi = p[i];
            float g = fmaf(pi, k.l2, gr[i] * k.scale);
            float m = fmaf(m_[i], k.b1, g * k.c1);
            float v = fmaf(v_[i], k.b2, (g * k.c2) * g);
            m_[i] = m;
            v_[i] = v;
            float d = fmaf(sqrtf(v), k.inv_bc2, k.eps);
            p[i] = fmaf(m / d, k.neg_step, pi * k.decay);
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            float pi = p[i];
            float g = gr[i] * k.scale;
            float m = fmaf(m_[i], k.b1, g * k.c1);
            float v = fmaf(v_[i], k.b2, (g * k.c2) * g);
            m_[i] = m;
            v_[i] = v;
            float d = fmaf(sqrtf(v), k.inv_bc2, k.eps);
            p[i] = fmaf(m / d, k.neg_step, pi * k.decay);
        }
    }
}

static void amsgrad_range(float *restrict p, const float *restrict gr, float *restrict m_, float *restrict v_,
                          float *restrict x_, int64_t n, adam_k k) {
    if (k.l2 != 0.0f) {
        for (int64_t i = 0; i < n; i++) {
            float pi = p[i];
            float g = fmaf(pi, k.l2, gr[i] * k.scale);
            float m = fmaf(m_[i], k.b1, g * k.c1);
            float v = fmaf(v_[i], k.b2, (g * k.c2) * g);
            m_[i] = m;
            v_[i] = v;
            float x = amax(x_[i], v);
            x_[i] = x;
            float d = fmaf(sqrtf(x), k.inv_bc2, k.eps);
            p[i] = fmaf(m / d, k.neg_step, pi * k.decay);
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            float pi = p[i];
            float g = gr[i] * k.scale;
            float m = fmaf(m_[i], k.b1, g * k.c1);
            float v = fmaf(v_[i], k.b2, (g * k.c2) * g);
            m_[i] = m;
            v_[i] = v;
            float x = amax(x_[i], v);
            x_[i] = x;
            float d = fmaf(sqrtf(x), k.inv_bc2, k.eps);
            p[i] = fmaf(m / d, k.neg_step, pi * k.decay);
        }
    }
}

void vo_adam(float *p, const float *g, float *m, float *v, int64_t n, float b1, float c1, float b2, float c2,
             float eps, float decay, float l2, float neg_step, float inv_bc2, float scale) {
    adam_k k = {b1, c1, b2, c2, eps, decay, l2, neg_step, inv_bc2, scale};
    SPLIT(n, adam_range(p + lo, g + lo, m + lo, v + lo, hi - lo, k));
}

/* AdamW over many separate tensors (pieces), one after another, as a C multi-tensor kernel runs a tensor list
 * (PyTorch's fused/foreach Adam over a parameter list, DeepSpeed's multi-tensor step): piece i is n[i] floats at
 * p[i], g[i], m[i], v[i]. The same-run ceiling of the engine on layouts of many small buffers. Threads take runs of
 * consecutive pieces of about CHUNK floats dynamically (starts[r] .. starts[r + 1]), like the engine's work items. */
void vo_adam_pieces(int64_t runs, const int64_t *starts, float *const *p, const float *const *g, float *const *m,
                    float *const *v, const int64_t *n, float b1, float c1, float b2, float c2, float eps, float decay,
                    float l2, float neg_step, float inv_bc2, float scale) {
    adam_k k = {b1, c1, b2, c2, eps, decay, l2, neg_step, inv_bc2, scale};
    _Pragma("omp parallel for num_threads(vo_threads) schedule(dynamic, 1) if (vo_threads > 1)")
    for (int64_t r = 0; r < runs; r++) {
        for (int64_t i = starts[r]; i < starts[r + 1]; i++) {
            adam_range(p[i], g[i], m[i], v[i], n[i], k);
        }
    }
}

void vo_amsgrad(float *p, const float *g, float *m, float *v, float *x, int64_t n, float b1, float c1, float b2,
                float c2, float eps, float decay, float l2, float neg_step, float inv_bc2, float scale) {
    adam_k k = {b1, c1, b2, c2, eps, decay, l2, neg_step, inv_bc2, scale};
    SPLIT(n, amsgrad_range(p + lo, g + lo, m + lo, v + lo, x + lo, hi - lo, k));
}

/* SGD with momentum after the first step (the buffer exists), PyTorch semantics, as vecopt.kernel.SgdStep documents;
 * weight decay wd != 0 (the engine skips the fma when wd == 0). */
static void sgd_range(float *restrict p, const float *restrict gr, float *restrict buf_, int64_t n, float neg_lr,
                      float mom, float damp1, float wd, float scale, int nesterov) {
    if (nesterov) {
        for (int64_t i = 0; i < n; i++) {
            float pi = p[i];
            float g = fmaf(pi, wd, gr[i] * scale);
            float b = fmaf(buf_[i], mom, g * damp1);
            buf_[i] = b;
            p[i] = fmaf(fmaf(b, mom, g), neg_lr, pi);
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            float pi = p[i];
            float g = fmaf(pi, wd, gr[i] * scale);
            float b = fmaf(buf_[i], mom, g * damp1);
            buf_[i] = b;
            p[i] = fmaf(b, neg_lr, pi);
        }
    }
}

void vo_sgd_momentum(float *p, const float *g, float *buf, int64_t n, float neg_lr, float mom, float damp1,
                     float wd, float scale, int nesterov) {
    SPLIT(n, sgd_range(p + lo, g + lo, buf + lo, hi - lo, neg_lr, mom, damp1, wd, scale, nesterov));
}

/* Sum of squares in double (the global-norm pass). 32 partial sums (eight 4-double vectors) so that the adds are not
 * one dependency chain: with "omp simd reduction" alone gcc kept one accumulator and the loop ran at the add latency,
 * 8 GB/s in cache, which would have made this peer, and the read ceiling below, a compute figure. */
static double sumsq_range(const float *restrict g, int64_t n) {
    double acc[32] = {0};
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int j = 0; j < 32; j++) {
            double x = g[i + j];
            acc[j] += x * x;
        }
    double s = 0.0;
    for (; i < n; i++) {
        double x = g[i];
        s += x * x;
    }
    for (int j = 0; j < 32; j++) s += acc[j];
    return s;
}

double vo_sum_squares(const float *g, int64_t n) {
    if (vo_threads <= 1 || n <= CHUNK) return sumsq_range(g, n);
    double total = 0.0;
    int64_t chunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for num_threads(vo_threads) schedule(dynamic, 1) reduction(+:total)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t lo = c * CHUNK, hi = lo + CHUNK < n ? lo + CHUNK : n;
        total += sumsq_range(g + lo, hi - lo);
    }
    return total;
}

static void scale_range(float *restrict g, int64_t n, float coef) {
    for (int64_t i = 0; i < n; i++) g[i] *= coef;
}

/* g *= coef: the separate clipping pass that fused clipping avoids. */
void vo_scale(float *g, int64_t n, float coef) {
    SPLIT(n, scale_range(g + lo, hi - lo, coef));
}

/* ---- memory ceilings ---- */

static void triad_range(float *restrict a, const float *restrict b, const float *restrict c, int64_t n, float s) {
    for (int64_t i = 0; i < n; i++) a[i] = b[i] + s * c[i];
}

/* STREAM triad: a = b + s*c (12 bytes per element counted, as STREAM counts them). */
void vo_triad(float *a, const float *b, const float *c, int64_t n, float s) {
    SPLIT(n, triad_range(a + lo, b + lo, c + lo, hi - lo, s));
}

static void traffic_range(float *restrict p, const float *restrict g, float *restrict m, float *restrict v,
                          int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float gi = g[i];
        p[i] = p[i] + gi;
        m[i] = m[i] + gi;
        v[i] = v[i] + gi;
    }
}

/* AdamW's traffic with next to no arithmetic: read p, g, m, v, write p, m, v (28 bytes per element). */
void vo_adamw_traffic(float *p, const float *g, float *m, float *v, int64_t n) {
    SPLIT(n, traffic_range(p + lo, g + lo, m + lo, v + lo, hi - lo));
}

static void update_traffic_range(float *restrict p, const float *restrict g, float *restrict s0,
                                 float *restrict s1, float *restrict s2, int64_t n, int states) {
    if (states == 0) {
        for (int64_t i = 0; i < n; i++) p[i] += g[i];
    } else if (states == 1) {
        for (int64_t i = 0; i < n; i++) { float x = g[i]; p[i] += x; s0[i] += x; }
    } else if (states == 2) {
        for (int64_t i = 0; i < n; i++) { float x = g[i]; p[i] += x; s0[i] += x; s1[i] += x; }
    } else {
        for (int64_t i = 0; i < n; i++) { float x = g[i]; p[i] += x; s0[i] += x; s1[i] += x; s2[i] += x; }
    }
}

/* An elementwise optimizer's traffic with next to no arithmetic, the streams of its peer's signature: read p, g and
 * `states` state arrays (0-3), write p and the states: 12 + 8 * states bytes per element (2 states: AdamW's traffic).
 * The ceiling each optimizer is read against in StepBench: its own mix of reads and writes. */
void vo_update_traffic(float *p, const float *g, float *s0, float *s1, float *s2, int64_t n, int states) {
    SPLIT(n, update_traffic_range(p + lo, g + lo, s0 ? s0 + lo : 0, s1 ? s1 + lo : 0, s2 ? s2 + lo : 0, hi - lo,
                                  states));
}

static float read_range(const float *restrict a, int64_t n) {
    float acc[64] = {0}; /* 64 partial sums: eight 8-float vectors, eight independent add chains */
    int64_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (int j = 0; j < 64; j++) acc[j] += a[i + j];
    float s = 0.0f;
    for (; i < n; i++) s += a[i];
    for (int j = 0; j < 64; j++) s += acc[j];
    return s;
}

/* One-array read pass (4 bytes per element): what a norm over the gradients can at best reach. */
float vo_read(const float *a, int64_t n) {
    if (vo_threads <= 1 || n <= CHUNK) return read_range(a, n);
    float total = 0.0f;
    int64_t chunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for num_threads(vo_threads) schedule(dynamic, 1) reduction(+:total)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t lo = c * CHUNK, hi = lo + CHUNK < n ? lo + CHUNK : n;
        total += read_range(a + lo, hi - lo);
    }
    return total;
}

/* One pass of a multi-pass optimizer's traffic with next to no arithmetic: reads the first `reads` of a0..a3 and writes
 * back the first `writes` of them (in place, as the optimizers write their own buffers), so a written stream costs
 * its read only. A pass that writes nothing returns a sum of what it read (kept live by the caller). A layer-wise
 * optimizer's ceiling is the sequence of its passes' calls (see CeilingBench). */
static float pass_range(float *restrict a0, float *restrict a1, float *restrict a2, float *restrict a3, int64_t n,
                        int reads, int writes) {
    if (writes == 0) {
        float acc[64] = {0}; /* as read_range: independent add chains */
        int64_t i = 0;
        if (reads == 1) {
            for (; i + 64 <= n; i += 64)
                for (int j = 0; j < 64; j++) acc[j] += a0[i + j];
        } else if (reads == 2) {
            for (; i + 64 <= n; i += 64)
                for (int j = 0; j < 64; j++) acc[j] += a0[i + j] * a1[i + j];
        } else {
            for (; i + 64 <= n; i += 64)
                for (int j = 0; j < 64; j++) acc[j] += a0[i + j] * a1[i + j] + a2[i + j];
        }
        float s = 0.0f;
        for (; i < n; i++) s += reads == 1 ? a0[i] : (reads == 2 ? a0[i] * a1[i] : a0[i] * a1[i] + a2[i]);
        for (int j = 0; j < 64; j++) s += acc[j];
        return s;
    }
    /* The last stream read is the one that is only read; the written ones take it in. */
    const float *r = reads == 2 ? a1 : (reads == 3 ? a2 : a3);
    if (writes == 1 && reads == 2) {
        for (int64_t i = 0; i < n; i++) a0[i] += r[i];
    } else if (writes == 1 && reads == 3) {
        for (int64_t i = 0; i < n; i++) a0[i] += a1[i] * r[i];
    } else if (writes == 2 && reads == 3) {
        for (int64_t i = 0; i < n; i++) { float x = r[i]; a0[i] += x; a1[i] += x; }
    } else { /* writes 2, reads 4 */
        for (int64_t i = 0; i < n; i++) { float x = a2[i] * r[i]; a0[i] += x; a1[i] += x; }
    }
    return 0.0f;
}

/* See pass_range: reads 1-4 streams (a0 first), writes 0-2 of them (reads 2-4 when writing; reads 4 needs writes 2). */
float vo_pass_traffic(float *a0, float *a1, float *a2, float *a3, int64_t n, int reads, int writes) {
    if (vo_threads <= 1 || n <= CHUNK) return pass_range(a0, a1, a2, a3, n, reads, writes);
    float total = 0.0f;
    int64_t chunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for num_threads(vo_threads) schedule(dynamic, 1) reduction(+:total)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t lo = c * CHUNK, hi = lo + CHUNK < n ? lo + CHUNK : n;
        total += pass_range(a0 + lo, a1 + lo, a2 ? a2 + lo : 0, a3 ? a3 + lo : 0, hi - lo, reads, writes);
    }
    return total;
}

/* ---- The optimizers after AdamW, Adam and SGD: one peer each of the engine's vecopt.kernel.<Name>Step loop (its
 * Javadoc states the formula), element for element the same float operations. Every one has the same signature:
 * p, g, up to three state arrays (NULL where the optimizer keeps fewer), n, and k, the step's prepared floats in the
 * order UpdatePeers (bench) reads them from the engine's step object; a flag is 0 or 1 in k. The flags select
 * loops outside the element loop (gcc -O3 unswitches them), as the engine's loop-invariant flags do. */

/* Math.signum: 1, -1, or the argument itself for +0, -0 and NaN (selects gcc vectorizes). */
static inline float jsignum(float x) { return x > 0 ? 1.0f : (x < 0 ? -1.0f : x); }

/* k: neg_clr, eps, wd, use_wd, scale (AdagradStep) */
static void adagrad_range(float *restrict p, const float *restrict gr, float *restrict s_, int64_t n,
                          const float *k) {
    const float neg_clr = k[0], eps = k[1], wd = k[2], scale = k[4];
    const int use_wd = k[3] != 0;
    for (int64_t i = 0; i < n; i++) {
        float pi = p[i];
        float g = gr[i] * scale;
        if (use_wd) g = fmaf(pi, wd, g);
        float sum = fmaf(g, g, s_[i]);
        s_[i] = sum;
        float std = sqrtf(sum) + eps;
        p[i] = fmaf(g / std, neg_clr, pi);
    }
}

void vo_adagrad(float *p, const float *g, float *s0, float *s1, float *s2, int64_t n, const float *k) {
    (void) s1; (void) s2;
    SPLIT(n, adagrad_range(p + lo, g + lo, s0 + lo, hi - lo, k));
}

/* k: neg_lr, alpha, one_minus_alpha, eps, momentum, wd, use_wd, centered, use_momentum, scale (RmspropStep);
 * state: square_avg, then momentum_buffer if use_momentum, then grad_avg if centered (the engine's order).
 * The body is inlined with centered and use_mom as constants, one loop per variant, so that a loop never names an
 * array its variant does not use. With the flags tested inside one loop, gcc if-converts the loop and reads
 * momentum_buffer and grad_avg with AVX-512 masked loads whose mask is all off; for plain RMSprop those arrays are
 * NULL, and a masked load from an unmapped page, even with no lane enabled, takes a fault-suppression microcode
 * assist on every vector: 60-80 Mparams/s in cache instead of 5,800 (this machine, AMD family 26). */
static inline __attribute__((always_inline)) void rmsprop_body(float *restrict p, const float *restrict gr,
        float *restrict sa_, float *restrict buf_, float *restrict ga_, int64_t n, const float *k,
        const int centered, const int use_mom) {
    const float neg_lr = k[0], alpha = k[1], c1 = k[2], eps = k[3], mom = k[4], wd = k[5], scale = k[9];
    const int use_wd = k[6] != 0;
    for (int64_t i = 0; i < n; i++) {
        float pi = p[i];
        float g = gr[i] * scale;
        if (use_wd) g = fmaf(pi, wd, g);
        float sa = fmaf(sa_[i], alpha, (g * c1) * g);
        sa_[i] = sa;
        float var = sa;
        if (centered) {
            float ga = fmaf(ga_[i], alpha, g * c1);
            ga_[i] = ga;
            var = sa - ga * ga;
        }
        float avg = sqrtf(var) + eps;
        float d = g / avg;
        if (use_mom) {
            d = fmaf(buf_[i], mom, d);
            buf_[i] = d;
        }
        p[i] = fmaf(d, neg_lr, pi);
    }
}

static void rmsprop_range(float *restrict p, const float *restrict gr, float *restrict sa_, float *restrict buf_,
                          float *restrict ga_, int64_t n, const float *k) {
    const int centered = k[7] != 0, use_mom = k[8] != 0;
    if (centered && use_mom) rmsprop_body(p, gr, sa_, buf_, ga_, n, k, 1, 1);
    else if (centered) rmsprop_body(p, gr, sa_, NULL, ga_, n, k, 1, 0);
    else if (use_mom) rmsprop_body(p, gr, sa_, buf_, NULL, n, k, 0, 1);
    else rmsprop_body(p, gr, sa_, NULL, NULL, n, k, 0, 0);
}

void vo_rmsprop(float *p, const float *g, float *s0, float *s1, float *s2, int64_t n, const float *k) {
    int use_mom = k[8] != 0, centered = k[7] != 0;
    float *buf = use_mom ? s1 : NULL, *ga = centered ? (use_mom ? s2 : s1) : NULL;
    SPLIT(n, rmsprop_range(p + lo, g + lo, s0 + lo, buf ? buf + lo : NULL, ga ? ga + lo : NULL, hi - lo, k));
}

/* k: neg_lr, decay, b1, c1, b2, c2, scale (LionStep) */
static void lion_range(float *restrict p, const float *restrict gr, float *restrict m_, int64_t n, const float *k) {
    const float neg_lr = k[0], decay = k[1], b1 = k[2], c1 = k[3], b2 = k[4], c2 = k[5], scale = k[6];
    for (int64_t i = 0; i < n; i++) {
        float g = gr[i] * scale;
        float m = m_[i];
        float u = jsignum(fmaf(m, b1, g * c1));
        p[i] = fmaf(u, neg_lr, p[i] * decay);
        m_[i] = fmaf(m, b2, g * c2);
    }
}

void vo_lion(float *p, const float *g, float *s0, float *s1, float *s2, int64_t n, const float *k) {
    (void) s1; (void) s2;
    SPLIT(n, lion_range(p + lo, g + lo, s0 + lo, hi - lo, k));
}

/* k: neg_clr, b1, c1, b2, eps, wd, use_wd, scale (AdamaxStep) */
static void adamax_range(float *restrict p, const float *restrict gr, float *restrict m_, float *restrict u_,
                         int64_t n, const float *k) {
    const float neg_clr = k[0], b1 = k[1], c1 = k[2], b2 = k[3], eps = k[4], wd = k[5], scale = k[7];
    const int use_wd = k[6] != 0;
    for (int64_t i = 0; i < n; i++) {
        float pi = p[i];
        float g = gr[i] * scale;
        if (use_wd) g = fmaf(pi, wd, g);
        float m = fmaf(m_[i], b1, g * c1);
        float u = amax(u_[i] * b2, fabsf(g) + eps);
        m_[i] = m;
        u_[i] = u;
        p[i] = fmaf(m / u, neg_clr, pi);
    }
}

void vo_adamax(float *p, const float *g, float *s0, float *s1, float *s2, int64_t n, const float *k) {
    (void) s2;
    SPLIT(n, adamax_range(p + lo, g + lo, s0 + lo, s1 + lo, hi - lo, k));
}

/* k: decay, wd, use_l2, b1, o1, b2, o2, bc2, eps, c1, c2, scale (NAdamStep) */
static void nadam_range(float *restrict p, const float *restrict gr, float *restrict m_, float *restrict v_,
                        int64_t n, const float *k) {
    const float decay = k[0], wd = k[1], b1 = k[3], o1 = k[4], b2 = k[5], o2 = k[6], bc2 = k[7], eps = k[8];
    const float c1 = k[9], c2 = k[10], scale = k[11];
    const int use_l2 = k[2] != 0;
    for (int64_t i = 0; i < n; i++) {
        float pi = p[i];
        float g = gr[i] * scale;
        if (use_l2) g = fmaf(pi, wd, g);
        pi = pi * decay;
        float m = fmaf(m_[i], b1, g * o1);
        float v = fmaf(v_[i], b2, (g * o2) * g);
        m_[i] = m;
        v_[i] = v;
        float d = sqrtf(v / bc2) + eps;
        pi = fmaf(g / d, c1, pi);
        p[i] = fmaf(m / d, c2, pi);
    }
}

void vo_nadam(float *p, const float *g, float *s0, float *s1, float *s2, int64_t n, const float *k) {
    (void) s2;
    SPLIT(n, nadam_range(p + lo, g + lo, s0 + lo, s1 + lo, hi - lo, k));
}

/* k: decay, wd, use_l2, b1, o1, b2, o2, eps, neg_k, rectified, scale (RAdamStep) */
static void radam_range(float *restrict p, const float *restrict gr, float *restrict m_, float *restrict v_,
                        int64_t n, const float *k) {
    const float decay = k[0], wd = k[1], b1 = k[3], o1 = k[4], b2 = k[5], o2 = k[6], eps = k[7], neg_k = k[8];
    const float scale = k[10];
    const int use_l2 = k[2] != 0, rectified = k[9] != 0;
    for (int64_t i = 0; i < n; i++) {
        float pi = p[i];
        float g = gr[i] * scale;
        if (use_l2) g = fmaf(pi, wd, g);
        pi = pi * decay;
        float m = fmaf(m_[i], b1, g * o1);
        float v = fmaf(v_[i], b2, (g * o2) * g);
        m_[i] = m;
        v_[i] = v;
        float d = rectified ? m / (sqrtf(v) + eps) : m;
        p[i] = fmaf(d, neg_k, pi);
    }
}

void vo_radam(float *p, const float *g, float *s0, float *s1, float *s2, int64_t n, const float *k) {
    (void) s2;
    SPLIT(n, radam_range(p + lo, g + lo, s0 + lo, s1 + lo, hi - lo, k));
}

/* k: neg_lr, rho, one_minus_rho, eps, wd, use_wd, scale (AdadeltaStep) */
static void adadelta_range(float *restrict p, const float *restrict gr, float *restrict sa_, float *restrict ad_,
                           int64_t n, const float *k) {
    const float neg_lr = k[0], rho = k[1], c1 = k[2], eps = k[3], wd = k[4], scale = k[6];
    const int use_wd = k[5] != 0;
    for (int64_t i = 0; i < n; i++) {
        float pi = p[i];
        float g = gr[i] * scale;
        if (use_wd) g = fmaf(pi, wd, g);
        float sa = fmaf(sa_[i], rho, (g * c1) * g);
        sa_[i] = sa;
        float ad = ad_[i];
        float d = sqrtf(ad + eps) / sqrtf(sa + eps) * g;
        ad_[i] = fmaf(ad, rho, (d * c1) * d);
        p[i] = fmaf(d, neg_lr, pi);
    }
}

void vo_adadelta(float *p, const float *g, float *s0, float *s1, float *s2, int64_t n, const float *k) {
    (void) s2;
    SPLIT(n, adadelta_range(p + lo, g + lo, s0 + lo, s1 + lo, hi - lo, k));
}

/* k: lr, eta_minus, eta_plus, step_min, step_max, first_step, scale (RpropStep); state: prev, step_size. The clamp
 * is Math.min(Math.max(x, lo), hi) with compares: they differ from Math's only for NaN, which step sizes never are. */
static void rprop_range(float *restrict p, const float *restrict gr, float *restrict prev_, float *restrict ss_,
                        int64_t n, const float *k) {
    const float lr = k[0], eta_minus = k[1], eta_plus = k[2], lo_ = k[3], hi_ = k[4], scale = k[6];
    const int first = k[5] != 0;
    for (int64_t i = 0; i < n; i++) {
        float pi = p[i];
        float g = gr[i] * scale;
        float s = g * prev_[i];
        float f = s > 0 ? eta_plus : (s < 0 ? eta_minus : 1.0f);
        float x = (first ? lr : ss_[i]) * f;
        x = x > lo_ ? x : lo_;
        x = x < hi_ ? x : hi_;
        ss_[i] = x;
        g = s < 0 ? 0.0f : g;
        p[i] = fmaf(jsignum(g), -x, pi);
        prev_[i] = g;
    }
}

void vo_rprop(float *p, const float *g, float *s0, float *s1, float *s2, int64_t n, const float *k) {
    (void) s2;
    SPLIT(n, rprop_range(p + lo, g + lo, s0 + lo, s1 + lo, hi - lo, k));
}

/* k: decay, neg_eta, mu, average, wd, use_wd, scale (AsgdStep); state: ax. */
static void asgd_range(float *restrict p, const float *restrict gr, float *restrict ax_, int64_t n, const float *k) {
    const float decay = k[0], neg_eta = k[1], mu = k[2], wd = k[4], scale = k[6];
    const int average = k[3] != 0, use_wd = k[5] != 0;
    for (int64_t i = 0; i < n; i++) {
        float pi = p[i];
        float g = gr[i] * scale;
        if (use_wd) g = fmaf(pi, wd, g);
        pi = fmaf(g, neg_eta, pi * decay);
        p[i] = pi;
        if (average) {
            float ax = ax_[i];
            ax_[i] = ax + (pi - ax) * mu;
        } else {
            ax_[i] = pi;
        }
    }
}

void vo_asgd(float *p, const float *g, float *s0, float *s1, float *s2, int64_t n, const float *k) {
    (void) s1; (void) s2;
    SPLIT(n, asgd_range(p + lo, g + lo, s0 + lo, hi - lo, k));
}

/* ---- Adafactor (Hugging Face's transformers.optimization.Adafactor): the peer of the engine's three passes
 * (vecopt.kernel.AdafactorStep states the formulas and the one summation order; vecopt.optim.Adafactor the passes
 * and what runs between them), bitwise its results for one tensor (the engine cuts a tensor's grid from its first
 * element): chunks of AF_CHUNK elements (vecopt.optim.Adafactor.CHUNK); in each, 64 double
 * partials per sum, element j of a row segment (of the chunk, for a 1-D tensor) to partial j mod 64, and where the
 * chunk holds 4 whole rows of one matrix from a row's start (a group) 16 partials per row and sum, row r's element j
 * to 16 r + j mod 16; the partials added in order, the chunks' sums added in chunk order on the calling thread between
 * the passes. The threads take whole chunks (dynamic, as the engine's pool); a chunk's sums do not depend on which
 * thread ran it, so the result does not depend on the thread count.
 *   factored (rows > 0): pass 1 reads p, g (row and column sums of g^2 + eps1, p^2); between: exp_avg_sq_row and
 *     _col, their factors; pass 2 reads g (update^2); between: RMS(u), lr, the clipping divisor; pass 3 reads p, g
 *     (and exp_avg) and writes p (and exp_avg);
 *   1-D (rows == 0): pass 1 reads p, g, exp_avg_sq and writes exp_avg_sq (p^2, update^2); pass 3 as above.
 * The loops are blocks of 64 (or 16) elements whose partials gcc keeps in registers, so that each partial still
 * takes its elements in element order. */
#define AF_CHUNK ((int64_t) 262144)
#define AF_P 64
#define AF_GP 16 /* partials per row of a group */
#define AF_U AF_P
#define AF_ROW (2 * AF_P)

/* One chunk's place in its tensor and its sums (vecopt.kernel.AdafactorChunk). */
typedef struct {
    int64_t first, row_first, batch_first;
    int64_t len, col_first, row_count, col_count;
    int ring;
    double *rows, *cols;
    double param_sq, update_sq;
    double acc[3 * AF_P];
} af_chunk;

/* The step's scalars: k[0..7] the engine's prepared AdafactorStep (eps1, beta2t, oneMinusBeta2t, beta1,
 * oneMinusBeta1, gradScale as floats; firstMoment, decay as 0 or 1), k[8..12] the tensor's lr before its RMS factor
 * (HF's relative step or manual lr, times the step's lr and lrScale), eps2, scaleParameter (0 or 1), weightDecay,
 * clipThreshold. Per tensor, set between the passes: lr, -weight_decay * lr, the clipping divisor. */
typedef struct {
    float eps1, b2, c2, b1, c1, scale;
    int first, decays;
    double rel, eps2, wd, clip;
    int scale_param;
    float lr, decay, d;
} af_k;

static int64_t af_chunks(int64_t n) { return (n + AF_CHUNK - 1) / AF_CHUNK; }

/* Chunk c's first element and length, and the rows and column slots it touches (AdafactorChunk: its columns around
 * the row when it is no longer than a row, else per (batch, column) of the batches it touches). */
static void af_chunk_shape(int64_t c, int64_t n, int64_t R, int64_t C, int64_t *first, int64_t *len, int64_t *rows,
                           int64_t *cols) {
    *first = c * AF_CHUNK;
    *len = *first + AF_CHUNK < n ? AF_CHUNK : n - *first;
    *rows = *cols = 0;
    if (C > 0) {
        int64_t r0 = *first / C, rl = (*first + *len - 1) / C;
        *rows = rl - r0 + 1;
        *cols = *len <= C ? *len : (rl / R - r0 / R + 1) * C;
    }
}

/* Lays the workspace out (chunks, their row and column sums, the tensor's double totals, its sums of p^2 and u^2,
 * its float factors) and returns its size in bytes; with work NULL only the size. */
static int64_t af_layout(int64_t n, int64_t R, int64_t C, void *work, af_chunk **chunks, double **rt, double **ct,
                         double **sq, float **rf, float **cf) {
    int64_t nc = af_chunks(n), at = nc * (int64_t) sizeof(af_chunk), B = C > 0 ? n / (R * C) : 0;
    char *base = work;
    af_chunk *w = (af_chunk *) base;
    for (int64_t c = 0; c < nc; c++) {
        int64_t first, len, rows, cols;
        af_chunk_shape(c, n, R, C, &first, &len, &rows, &cols);
        if (work && C > 0) {
            w[c].row_first = first / C;
            w[c].col_first = first - w[c].row_first * C;
            w[c].batch_first = w[c].row_first / R;
            w[c].ring = len <= C;
        }
        if (work) {
            w[c].first = first;
            w[c].len = len;
            w[c].row_count = rows;
            w[c].col_count = cols;
            w[c].rows = (double *) (base + at);
            w[c].cols = (double *) (base + at + rows * (int64_t) sizeof(double));
        }
        at += (rows + cols) * (int64_t) sizeof(double);
    }
    if (work) {
        *chunks = w;
        *rt = (double *) (base + at);
        *ct = *rt + B * R;
        *sq = *ct + B * C;
        *rf = (float *) (*sq + 2);
        *cf = *rf + B * R;
    }
    return at + 2 * (int64_t) sizeof(double) + B * (R + C) * (int64_t) (sizeof(double) + sizeof(float));
}

/* The n partials from acc, added in order from 0 (AdafactorChunk.total). */
static double af_total(const double *acc, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += acc[i];
    return s;
}

static inline int af_group(const af_chunk *w, int64_t R, int64_t C, int64_t i, int64_t gr, int64_t col) {
    return col == 0 && 4 * C <= w->len - i && gr / R == (gr + 3) / R;
}

static inline int64_t af_col_slot(const af_chunk *w, int64_t R, int64_t C, int64_t gr, int64_t col) {
    if (w->ring) return gr == w->row_first ? col - w->col_first : C - w->col_first + col;
    return (gr / R - w->batch_first) * C + col;
}

/* One element of pass 1's row loops: g^2 + eps1 added to its row partial *r and its column's sum *c, p^2 to *q.
 * Each loop below calls it in its vector body (block of 64 or 16) and its tail alike. */
static inline __attribute__((always_inline)) void af_sum(float p, float g, double *r, double *c, double *q,
                                                         float scale, float eps1) {
    float x = g * scale;
    double s = x * x + eps1, y = p;
    *r += s;
    *c += s;
    *q = fma(y, y, *q);
}

/* Pass 1 over a row segment taken alone: element j to row partial ra[j mod 64], p^2 partial pa[j mod 64], and its
 * column's sum cs[j]. */
static void af_row_sums(const float *restrict p, const float *restrict g, double *restrict cs, int64_t len,
                        double *restrict ra, double *restrict pa, float scale, float eps1) {
    double r[AF_P], q[AF_P];
    for (int l = 0; l < AF_P; l++) { r[l] = ra[l]; q[l] = pa[l]; }
    int64_t j = 0;
    for (; j + AF_P <= len; j += AF_P)
        for (int l = 0; l < AF_P; l++) af_sum(p[j + l], g[j + l], &r[l], &cs[j + l], &q[l], scale, eps1);
    for (; j < len; j++) af_sum(p[j], g[j], &r[j & (AF_P - 1)], &cs[j], &q[j & (AF_P - 1)], scale, eps1);
    for (int l = 0; l < AF_P; l++) { ra[l] = r[l]; pa[l] = q[l]; }
}

/* Column j of a group's 4 rows (C apart), its sum loaded once and the rows' g^2 + eps1 added to it in row order; row
 * k's element to row partial r[16 k + l] and p^2 partial q[16 k + l]. */
static inline __attribute__((always_inline)) void af_group_column(const float *restrict p, const float *restrict g,
        double *restrict cs, int64_t C, int64_t j, int l, double *r, double *q, float scale, float eps1) {
    double c = cs[j];
    for (int k = 0; k < 4; k++) af_sum(p[k * C + j], g[k * C + j], &r[k * AF_GP + l], &c, &q[k * AF_GP + l], scale, eps1);
    cs[j] = c;
}

/* Pass 1 over a group's 4 rows in one loop: row r's element j to row partial ra[16 r + j mod 16] and p^2 partial
 * pa[16 r + j mod 16]. */
static void af_group_sums(const float *restrict p, const float *restrict g, double *restrict cs, int64_t C,
                          double *restrict ra, double *restrict pa, float scale, float eps1) {
    double r[4 * AF_GP], q[4 * AF_GP];
    for (int l = 0; l < 4 * AF_GP; l++) { r[l] = ra[l]; q[l] = pa[l]; }
    int64_t j = 0;
    for (; j + AF_GP <= C; j += AF_GP)
        for (int l = 0; l < AF_GP; l++) af_group_column(p, g, cs, C, j + l, l, r, q, scale, eps1);
    for (; j < C; j++) af_group_column(p, g, cs, C, j, (int) (j & (AF_GP - 1)), r, q, scale, eps1);
    for (int l = 0; l < 4 * AF_GP; l++) { ra[l] = r[l]; pa[l] = q[l]; }
}

/* One element of a 1-D tensor's pass 1: exp_avg_sq *v updated, p^2 to *q, update^2 to *u2. */
static inline __attribute__((always_inline)) void af_vector_sum(float p, float g, float *v_, double *q, double *u2,
        float scale, float eps1, float b2, float c2) {
    float x = g * scale;
    float v = fmaf(x * x + eps1, c2, *v_ * b2);
    *v_ = v;
    double u = (1.0f / sqrtf(v)) * x, y = p;
    *q = fma(y, y, *q);
    *u2 = fma(u, u, *u2);
}

/* Pass 1 of a 1-D tensor's chunk: exp_avg_sq updated, p^2 and update^2 summed (element j to partial j mod 64). */
static void af_vector_sums(const float *restrict p, const float *restrict g, float *restrict v_, int64_t len,
                           double *restrict pa, double *restrict ua, const af_k *k) {
    const float scale = k->scale, eps1 = k->eps1, b2 = k->b2, c2 = k->c2;
    double q[AF_P], u2[AF_P];
    for (int l = 0; l < AF_P; l++) { q[l] = pa[l]; u2[l] = ua[l]; }
    int64_t j = 0;
    for (; j + AF_P <= len; j += AF_P)
        for (int l = 0; l < AF_P; l++) af_vector_sum(p[j + l], g[j + l], &v_[j + l], &q[l], &u2[l], scale, eps1, b2, c2);
    for (; j < len; j++)
        af_vector_sum(p[j], g[j], &v_[j], &q[j & (AF_P - 1)], &u2[j & (AF_P - 1)], scale, eps1, b2, c2);
    for (int l = 0; l < AF_P; l++) { pa[l] = q[l]; ua[l] = u2[l]; }
}

static void af_sums(const float *p, const float *g, float *v, int64_t R, int64_t C, af_chunk *w, const af_k *k) {
    const float *pc = p + w->first, *gc = g + w->first;
    for (int l = 0; l < 3 * AF_P; l++) w->acc[l] = 0;
    if (C == 0) {
        af_vector_sums(pc, gc, v + w->first, w->len, w->acc, w->acc + AF_U, k);
        w->param_sq = af_total(w->acc, AF_P);
        w->update_sq = af_total(w->acc + AF_U, AF_P);
        return;
    }
    for (int64_t l = 0; l < w->col_count; l++) w->cols[l] = 0;
    for (int64_t i = 0; i < w->len;) {
        int64_t pos = w->first + i, gr = pos / C, col = pos - gr * C, len = C - col < w->len - i ? C - col : w->len - i;
        double *cs = w->cols + af_col_slot(w, R, C, gr, col);
        if (af_group(w, R, C, i, gr, col)) {
            af_group_sums(pc + i, gc + i, cs, C, w->acc + AF_ROW, w->acc, k->scale, k->eps1);
            for (int r = 0; r < 4; r++) w->rows[gr - w->row_first + r] = af_total(w->acc + AF_ROW + r * AF_GP, AF_GP);
            i += 4 * C;
        } else {
            af_row_sums(pc + i, gc + i, cs, len, w->acc + AF_ROW, w->acc, k->scale, k->eps1);
            w->rows[gr - w->row_first] = af_total(w->acc + AF_ROW, AF_P);
            i += len;
        }
        for (int l = 0; l < AF_P; l++) w->acc[AF_ROW + l] = 0;
    }
    w->param_sq = af_total(w->acc, AF_P);
}

/* Column j of pass 2's `rows` row segments (C apart): row k's update^2 to a[k * width + l]. */
static inline __attribute__((always_inline)) void af_update_column(const float *restrict g, float cf,
        const float *restrict rf, int64_t C, int64_t j, int l, double *a, float scale, const int rows, const int width) {
    for (int k = 0; k < rows; k++) {
        double u = (rf[k] * cf) * (g[k * C + j] * scale);
        a[k * width + l] = fma(u, u, a[k * width + l]);
    }
}

/* Pass 2 over `rows` row segments (4: a group, C apart; 1: a segment alone) from its first column's factor cf:
 * row r's element j to partial ua[16 r + j mod 16] (a group) or ua[j mod 64]. */
static inline __attribute__((always_inline)) void af_update_body(const float *restrict g, const float *restrict cf,
        const float *restrict rf, int64_t C, int64_t len, double *restrict ua, float scale, const int rows,
        const int width) {
    double a[AF_P];
    for (int l = 0; l < AF_P; l++) a[l] = ua[l];
    int64_t j = 0;
    for (; j + width <= len; j += width)
        for (int l = 0; l < width; l++) af_update_column(g, cf[j + l], rf, C, j + l, l, a, scale, rows, width);
    for (; j < len; j++) af_update_column(g, cf[j], rf, C, j, (int) (j & (width - 1)), a, scale, rows, width);
    for (int l = 0; l < AF_P; l++) ua[l] = a[l];
}

static void af_update_sums(const float *g, const float *rf, const float *cf, int64_t R, int64_t C, af_chunk *w,
                           const af_k *k) {
    const float *gc = g + w->first;
    for (int l = 0; l < AF_P; l++) w->acc[AF_U + l] = 0;
    for (int64_t i = 0; i < w->len;) {
        int64_t pos = w->first + i, gr = pos / C, col = pos - gr * C, len = C - col < w->len - i ? C - col : w->len - i;
        const float *cfr = cf + (gr / R) * C + col;
        if (af_group(w, R, C, i, gr, col)) {
            af_update_body(gc + i, cfr, rf + gr, C, C, w->acc + AF_U, k->scale, 4, AF_GP);
            i += 4 * C;
        } else {
            af_update_body(gc + i, cfr, rf + gr, C, len, w->acc + AF_U, k->scale, 1, AF_P);
            i += len;
        }
    }
    w->update_sq = af_total(w->acc + AF_U, AF_P);
}

/* Pass 3's last steps for one element: the first moment (if any), the weight decay (if any), the update; the scalars
 * as values, read once before the loop rather than through the af_k pointer after each store to p. */
static inline __attribute__((always_inline)) void af_finish(float *restrict p, float *restrict m, int64_t j,
        float u, float b1, float c1, int decays, float decay, const int first) {
    if (first) {
        u = fmaf(u, c1, m[j] * b1);
        m[j] = u;
    }
    float x = p[j];
    if (decays) x = fmaf(x, decay, x);
    p[j] = x - u;
}

/* Pass 3 over `rows` row segments of a matrix (C apart), each `len` long, from its first column's factor cf. ivdep:
 * the rows are C apart and the segments at most C long, so no store reaches another row's load; without it gcc
 * versioned the loop on a run-time overlap test that failed, and the scalar copy ran (pass 3 at 1.10-1.20 ns per
 * element at 16M, 4096 wide, one thread, against 0.59 with it and the engine's 0.58). */
static inline __attribute__((always_inline)) void af_apply_body(float *restrict p, const float *restrict g,
        float *restrict m, const float *restrict cf, const float *restrict rf, int64_t C, int64_t len, const af_k *k,
        const int rows, const int first) {
    const float scale = k->scale, d = k->d, lr = k->lr, b1 = k->b1, c1 = k->c1, decay = k->decay;
    const int decays = k->decays;
#pragma GCC ivdep
    for (int64_t j = 0; j < len; j++) {
        float c = cf[j];
        for (int r = 0; r < rows; r++) {
            float u = (((rf[r] * c) * (g[r * C + j] * scale)) / d) * lr;
            af_finish(p + r * C, first ? m + r * C : m, j, u, b1, c1, decays, decay, first);
        }
    }
}

static void af_vector_apply(float *restrict p, const float *restrict g, float *restrict m, const float *restrict v,
                            int64_t len, const af_k *k, const int first) {
    const float scale = k->scale, d = k->d, lr = k->lr, b1 = k->b1, c1 = k->c1, decay = k->decay;
    const int decays = k->decays;
    for (int64_t j = 0; j < len; j++) {
        float u = (((1.0f / sqrtf(v[j])) * (g[j] * scale)) / d) * lr;
        af_finish(p, m, j, u, b1, c1, decays, decay, first);
    }
}

/* Pass 3 of a chunk. As the engine: a matrix's groups of 4 rows in one loop without a first moment (the column
 * factors loaded once per 4 rows), row by row with one; no sums, so the grouping changes no bits. */
static void af_apply(float *p, const float *g, float *m, const float *v, const float *rf, const float *cf, int64_t R,
                     int64_t C, const af_chunk *w, const af_k *k) {
    float *pc = p + w->first, *mc = m ? m + w->first : NULL;
    const float *gc = g + w->first;
    if (C == 0) {
        if (k->first) af_vector_apply(pc, gc, mc, v + w->first, w->len, k, 1);
        else af_vector_apply(pc, gc, NULL, v + w->first, w->len, k, 0);
        return;
    }
    for (int64_t i = 0; i < w->len;) {
        int64_t pos = w->first + i, gr = pos / C, col = pos - gr * C, len = C - col < w->len - i ? C - col : w->len - i;
        const float *cfr = cf + (gr / R) * C + col;
        if (k->first) {
            af_apply_body(pc + i, gc + i, mc + i, cfr, rf + gr, C, len, k, 1, 1);
            i += len;
        } else if (af_group(w, R, C, i, gr, col)) {
            af_apply_body(pc + i, gc + i, NULL, cfr, rf + gr, C, C, k, 4, 0);
            i += 4 * C;
        } else {
            af_apply_body(pc + i, gc + i, NULL, cfr, rf + gr, C, len, k, 1, 0);
            i += len;
        }
    }
}

/* HF's _rms from the chunks' sums in chunk order: (float) sqrt(sum) / (float) sqrt(numel); the sum kept in *total. */
static float af_rms(const af_chunk *w, int64_t nc, int64_t n, int params, double *total) {
    double s = 0;
    for (int64_t c = 0; c < nc; c++) s += params ? w[c].param_sq : w[c].update_sq;
    *total = s;
    return (float) sqrt(s) / (float) sqrt((double) n);
}

/* Between passes 1 and 2: the chunks' row and column sums added in chunk order, exp_avg_sq_row and _col, their
 * factors (Adafactor.factors). */
static void af_factors(const af_chunk *w, int64_t nc, int64_t n, int64_t R, int64_t C, float *row, float *colst,
                       double *rt, double *ct, float *rf, float *cf, const af_k *k) {
    int64_t B = n / (R * C);
    for (int64_t i = 0; i < B * R; i++) rt[i] = 0;
    for (int64_t i = 0; i < B * C; i++) ct[i] = 0;
    for (int64_t c = 0; c < nc; c++) {
        for (int64_t i = 0; i < w[c].row_count; i++) rt[w[c].row_first + i] += w[c].rows[i];
        if (!w[c].ring) {
            double *t = ct + w[c].batch_first * C;
            for (int64_t i = 0; i < w[c].col_count; i++) t[i] += w[c].cols[i];
        } else {
            int64_t head = C - w[c].col_first;
            for (int64_t i = 0; i < w[c].col_count; i++)
                ct[i < head ? (w[c].row_first / R) * C + w[c].col_first + i
                            : ((w[c].row_first + 1) / R) * C + (i - head)] += w[c].cols[i];
        }
    }
    for (int64_t i = 0; i < B * R; i++) row[i] = fmaf((float) (rt[i] / C), k->c2, row[i] * k->b2);
    for (int64_t i = 0; i < B * C; i++) colst[i] = fmaf((float) (ct[i] / R), k->c2, colst[i] * k->b2);
    for (int64_t b = 0; b < B * R; b += R) {
        double s = 0;
        for (int64_t i = b; i < b + R; i++) s += row[i];
        double mean = s / R; /* in double, rounded once: see Adafactor.factors */
        for (int64_t i = b; i < b + R; i++) rf[i] = (float) (1.0 / sqrt((double) row[i] / mean));
    }
    for (int64_t i = 0; i < B * C; i++) cf[i] = 1.0f / sqrtf(colst[i]);
}

/* The tensor's lr (HF's _get_lr with its RMS), decay factor and clipping divisor (Adafactor.scalars). */
static void af_scalars(af_k *k, float rms, float rms_u) {
    if (k->scale_param && rms > (float) k->eps2) {
        k->lr = rms * (float) k->rel;
        k->decay = (float) -k->wd * k->lr;
    } else {
        double l = k->scale_param ? k->eps2 * k->rel : k->rel;
        k->lr = (float) l;
        k->decay = (float) (-k->wd * l);
    }
    k->d = amax(rms_u / (float) k->clip, 1.0f); /* Math.max: NaN stays NaN */
}

/* Bytes of workspace vo_adafactor needs for a tensor of n elements: rows x cols matrices (rows 0: a 1-D tensor). */
int64_t vo_adafactor_workspace(int64_t n, int64_t rows, int64_t cols) {
    return af_layout(n, rows, cols, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
}

/* The sums of the last passes run, as doubles into out (NULL: only their count): per chunk in grid order RMS(p)'s
 * and RMS(u)'s partial sums, then a matrix's row sums and column sums (AdafactorChunk's rowSum and colSum order);
 * after the chunks, the tensor's sums of p^2 and u^2 and a matrix's row and column totals (the chunks' sums added
 * in grid order), then its row factors and column factors. The sums' bits are the summation order's, which the
 * float results seldom show (a double sum reordered mostly rounds to the same float): AdafactorPeerTest reads them. */
int64_t vo_adafactor_sums(void *work, int64_t n, int64_t rows, int64_t cols, double *out) {
    af_chunk *w = NULL;
    double *rt = NULL, *ct = NULL, *sq = NULL;
    float *rf = NULL, *cf = NULL;
    const int64_t R = cols > 0 ? rows : 0, C = cols, nc = af_chunks(n), B = C > 0 ? n / (R * C) : 0;
    int64_t at = 0;
    if (out == NULL) {
        for (int64_t c = 0; c < nc; c++) {
            int64_t first, len, r, k;
            af_chunk_shape(c, n, R, C, &first, &len, &r, &k);
            at += 2 + r + k;
        }
        return at + 2 + 2 * B * (R + C);
    }
    af_layout(n, R, C, work, &w, &rt, &ct, &sq, &rf, &cf);
    for (int64_t c = 0; c < nc; c++) {
        out[at++] = w[c].param_sq;
        out[at++] = w[c].update_sq;
        for (int64_t i = 0; i < w[c].row_count; i++) out[at++] = w[c].rows[i];
        for (int64_t i = 0; i < w[c].col_count; i++) out[at++] = w[c].cols[i];
    }
    out[at++] = sq[0];
    out[at++] = sq[1];
    for (int64_t i = 0; i < B * R; i++) out[at++] = rt[i];
    for (int64_t i = 0; i < B * C; i++) out[at++] = ct[i];
    for (int64_t i = 0; i < B * R; i++) out[at++] = rf[i];
    for (int64_t i = 0; i < B * C; i++) out[at++] = cf[i];
    return at;
}

/* One Adafactor step of a tensor of n elements: p, g, m (exp_avg, NULL without beta1); a matrix (rows, cols > 0;
 * n / (rows * cols) of them, a batch) keeps exp_avg_sq_row in s0 and exp_avg_sq_col in s1, a 1-D tensor (rows = cols
 * = 0) exp_avg_sq in s0; work: vo_adafactor_workspace bytes (its factors stay there between calls); k: see af_k.
 * passes: a bit per pass (1, 2, 4), 7 for the step; any other set times those passes' loops alone (the factors
 * between passes 1 and 2 are made only when both run, the others' scalars from the workspace's last sums).
 * out: RMS(p) (HF's state "RMS") and the lr. */
void vo_adafactor(float *p, const float *g, float *m, float *s0, float *s1, int64_t n, int64_t rows, int64_t cols,
                  void *work, const double *kd, float *out, int passes) {
    af_k k = {(float) kd[0], (float) kd[1], (float) kd[2], (float) kd[3], (float) kd[4], (float) kd[5],
              kd[6] != 0, kd[7] != 0, kd[8], kd[9], kd[11], kd[12], kd[10] != 0, 0, 0, 1};
    af_chunk *w = NULL;
    double *rt = NULL, *ct = NULL, *sq = NULL;
    float *rf = NULL, *cf = NULL;
    const int64_t R = cols > 0 ? rows : 0, C = cols, nc = af_chunks(n);
    af_layout(n, R, C, work, &w, &rt, &ct, &sq, &rf, &cf);
    if (passes & 1) {
#pragma omp parallel for num_threads(vo_threads) schedule(dynamic, 1) if (vo_threads > 1)
        for (int64_t c = 0; c < nc; c++) af_sums(p, g, s0, R, C, &w[c], &k);
        out[0] = af_rms(w, nc, n, 1, &sq[0]);
        if (C > 0 && (passes & 2)) af_factors(w, nc, n, R, C, s0, s1, rt, ct, rf, cf, &k);
    }
    if (C > 0 && (passes & 2)) {
#pragma omp parallel for num_threads(vo_threads) schedule(dynamic, 1) if (vo_threads > 1)
        for (int64_t c = 0; c < nc; c++) af_update_sums(g, rf, cf, R, C, &w[c], &k);
    }
    af_scalars(&k, out[0], af_rms(w, nc, n, 0, &sq[1]));
    out[1] = k.lr;
    if (passes & 4) {
#pragma omp parallel for num_threads(vo_threads) schedule(dynamic, 1) if (vo_threads > 1)
        for (int64_t c = 0; c < nc; c++) af_apply(p, g, m, s0, rf, cf, R, C, &w[c], &k);
    }
}

/* ---- The layer-wise optimizers, LAMB and LARS (optax's lamb and lars; vecopt.optim.Layerwise the two passes and
 * what runs between them, vecopt.kernel.LambStep and LarsStep the formulas): peers of the engine's passes over
 * float32 tensors of one buffer, bitwise its parameters, state, norms and trust ratios. The grid is the engine's: each
 * tensor cut alone at multiples of CHUNK from its first element (vecopt.exec.ChunkGrid.cut without merging),
 * whatever the thread count. Each chunk's sums go to LW_SLOTS doubles (u^2 in slots 0-7, p^2 in 8-15) in the order of the
 * engine's kernel of `lanes` lanes (Kernels.lanes(); 1: ScalarKernels, one chain over the chunk), each optimizer's
 * below; a chunk shorter than a vector takes the scalar chain too. Between the passes, on the calling thread, each
 * tensor's slots added chunk by chunk in grid order, its norms, ratio and factor -lr * ratio rounded once
 * (Layerwise.ratios). The chains of a block are an array gcc keeps in registers, as Adafactor's partials above. */
#define LW_SLOTS 16 /* Kernels.NORM_SLOTS */
/* With `passes` bit 4 LAMB's loops also prefetch each stream LW_AHEAD floats (1 KiB) ahead, every 16 elements:
 * the same results, to measure what the engine cannot do (Java has no prefetch instruction). On an AVX-512 Xeon at
 * 64M, one thread, LAMB's step went from 0.84x its passes' traffic to 0.95x with it (256 to 1024 floats ahead alike;
 * loads in place of the prefetches, or prefetches only at each 4 KiB page's start, gained nothing). */
#define LW_AHEAD 256

/* One chunk: its place, its tensor, the factor pass 2 applies, its sums. */
typedef struct {
    int64_t first, len, tensor;
    float factor;
    double sums[LW_SLOTS];
} lw_chunk;

/* An optimizer's group layout (doubles per group, where its lr is), its trust ratio from the parameter and update
 * norms, and whether a group's ratio adapts (else ratio 1 and no pass 1). */
typedef struct {
    int fields, lr_at;
    double (*ratio)(const double *k, double pn, double un);
    int (*adapts)(const double *k);
} lw_kind;

/* The grid of the tensors (triples offset, length, group) into w (NULL: only the count). */
static int64_t lw_grid(int64_t ntensors, const int64_t *t, lw_chunk *w) {
    int64_t nc = 0;
    for (int64_t i = 0; i < ntensors; i++) {
        for (int64_t s = t[3 * i], end = s + t[3 * i + 1]; s < end;) {
            int64_t cut = t[3 * i] + ((s - t[3 * i]) / CHUNK + 1) * CHUNK;
            int64_t e = cut < end ? cut : end;
            if (w) {
                w[nc].first = s;
                w[nc].len = e - s;
                w[nc].tensor = i;
            }
            nc++;
            s = e;
        }
    }
    return nc;
}

/* Between the passes: each tensor's norms from its chunks' slots in grid order (a group whose ratio does not adapt:
 * ratio 1, no sums), its ratio and its chunks' factor; out: per tensor ratio, update norm, parameter norm (NaN where
 * not computed, as Layerwise leaves them). */
static void lw_ratios(lw_chunk *w, int64_t nc, int64_t ntensors, const int64_t *t, const double *kd,
                      const lw_kind *kind, double *out) {
    for (int64_t i = 0; i < ntensors; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = NAN;
    for (int64_t c = 0; c < nc;) {
        int64_t tensor = w[c].tensor, first = c;
        const double *k = kd + kind->fields * t[3 * tensor + 2];
        double su = 0, sp = 0, ratio = 1;
        int adapts = kind->adapts(k);
        for (; c < nc && w[c].tensor == tensor; c++)
            for (int i = 0; adapts && i < LW_SLOTS / 2; i++) {
                su += w[c].sums[i];
                sp += w[c].sums[i + LW_SLOTS / 2];
            }
        if (adapts) {
            double un = sqrt(su), pn = sqrt(sp);
            ratio = kind->ratio(k, pn, un);
            out[3 * tensor + 1] = un;
            out[3 * tensor + 2] = pn;
        }
        float factor = (float) (-k[kind->lr_at] * ratio);
        for (int64_t j = first; j < c; j++) w[j].factor = factor;
        out[3 * tensor] = ratio;
    }
}

/* Bytes of workspace vo_lamb or vo_lars needs for these tensors (triples offset, length, group). */
int64_t vo_layerwise_workspace(int64_t ntensors, const int64_t *tensors) {
    return lw_grid(ntensors, tensors, NULL) * (int64_t) sizeof(lw_chunk);
}

/* The sums of the last pass 1, as doubles into out (NULL: only their count): LW_SLOTS per chunk in grid order. */
int64_t vo_layerwise_sums(void *work, int64_t ntensors, const int64_t *tensors, double *out) {
    int64_t nc = lw_grid(ntensors, tensors, NULL);
    if (out) {
        const lw_chunk *w = work;
        for (int64_t c = 0; c < nc; c++)
            for (int l = 0; l < LW_SLOTS; l++) out[LW_SLOTS * c + l] = w[c].sums[l];
    }
    return LW_SLOTS * nc;
}

/* ---- LAMB: pass 1 reads p, g, mu, nu and writes mu, nu (24 bytes per element), pass 2 reads p, mu, nu and writes
 * p (16). Sums (PanamaKernels.trustNorms, LambPanama): a chunk of at least one vector runs `lanes` fma chains per sum
 * over its whole vectors (element j to chain j mod lanes), slot l taking chains l and l + lanes / 2 (the two halves of
 * a float vector widened to doubles), then one chain over the leftover elements added to slot 0. */

/* A group's scalars: kd[0..9] the engine's prepared LambStep (beta1, oneMinusBeta1, beta2, oneMinusBeta2, invBc1,
 * invBc2, eps, epsRoot, weightDecay, gradScale as floats), kd[10] the group's lr (the step's times lrScale),
 * kd[11] maxWeightNorm. */
typedef struct {
    float b1, c1, b2, c2, ib1, ib2, eps, eps_root, wd, scale;
} lb_k;

static lb_k lb_scalars(const double *kd) {
    lb_k k = {(float) kd[0], (float) kd[1], (float) kd[2], (float) kd[3], (float) kd[4], (float) kd[5],
              (float) kd[6], (float) kd[7], (float) kd[8], (float) kd[9]};
    return k;
}

/* The update before the trust ratio, from the new moments (both passes: bitwise the same u). */
static inline __attribute__((always_inline)) float lb_update(float p, float m, float v, const lb_k k) {
    return fmaf(p, k.wd, (m * k.ib1) / (sqrtf(v * k.ib2 + k.eps_root) + k.eps));
}

/* One element of pass 1: the moments updated and stored, u^2 added to *su and p^2 to *sp. */
static inline __attribute__((always_inline)) void lb_moments(float p, float g, float *m_, float *v_, double *su,
                                                             double *sp, const lb_k k) {
    float x = g * k.scale;
    float m = fmaf(*m_, k.b1, x * k.c1);
    float v = fmaf(*v_, k.b2, x * k.c2 * x);
    *m_ = m;
    *v_ = v;
    double u = lb_update(p, m, v, k), y = p;
    *su = fma(u, u, *su);
    *sp = fma(y, y, *sp);
}

/* Pass 1 of a chunk as a kernel of W lanes sums it (W 1: one chain over all); pf: prefetch (see LW_AHEAD). */
static inline __attribute__((always_inline)) void lb_norms_lanes(const float *restrict p, const float *restrict g,
        float *restrict m, float *restrict v, int64_t len, double *restrict sums, const lb_k k, const int W,
        const int pf) {
    double au[16], ap[16];
    for (int l = 0; l < W; l++) au[l] = ap[l] = 0;
    int64_t j = 0, bound = W > 1 ? len - len % W : 0;
    for (; j < bound; j += W) {
        if (pf && (j & 15) == 0) {
            __builtin_prefetch(p + j + LW_AHEAD);
            __builtin_prefetch(g + j + LW_AHEAD);
            __builtin_prefetch(m + j + LW_AHEAD, 1);
            __builtin_prefetch(v + j + LW_AHEAD, 1);
        }
        for (int l = 0; l < W; l++) lb_moments(p[j + l], g[j + l], &m[j + l], &v[j + l], &au[l], &ap[l], k);
    }
    for (int l = 0; l < W / 2; l++) {
        sums[l] += au[l] + au[l + W / 2];
        sums[LW_SLOTS / 2 + l] += ap[l] + ap[l + W / 2];
    }
    double su = 0, sp = 0;
    for (; j < len; j++) lb_moments(p[j], g[j], &m[j], &v[j], &su, &sp, k);
    sums[0] += su;
    sums[LW_SLOTS / 2] += sp;
}

static void lb_norms(float *p, const float *g, float *m, float *v, lw_chunk *w, const lb_k k, int lanes, int pf) {
    float *pc = p + w->first, *mc = m + w->first, *vc = v + w->first;
    const float *gc = g + w->first;
    for (int l = 0; l < LW_SLOTS; l++) w->sums[l] = 0;
    if (lanes == 16 && w->len >= 16 && pf) lb_norms_lanes(pc, gc, mc, vc, w->len, w->sums, k, 16, 1);
    else if (lanes == 16 && w->len >= 16) lb_norms_lanes(pc, gc, mc, vc, w->len, w->sums, k, 16, 0);
    else if (lanes == 8 && w->len >= 8) lb_norms_lanes(pc, gc, mc, vc, w->len, w->sums, k, 8, 0);
    else if (lanes == 4 && w->len >= 4) lb_norms_lanes(pc, gc, mc, vc, w->len, w->sums, k, 4, 0);
    else lb_norms_lanes(pc, gc, mc, vc, w->len, w->sums, k, 1, 0);
}

/* Pass 2 of a chunk: p += factor * u; pf: in blocks of 16 elements, prefetching (see LW_AHEAD). */
static inline __attribute__((always_inline)) void lb_apply_body(float *restrict p, const float *restrict m,
        const float *restrict v, int64_t len, const lb_k k, float factor, const int pf) {
    int64_t j = 0;
    for (; pf && j + 16 <= len; j += 16) {
        __builtin_prefetch(p + j + LW_AHEAD, 1);
        __builtin_prefetch(m + j + LW_AHEAD);
        __builtin_prefetch(v + j + LW_AHEAD);
        for (int l = 0; l < 16; l++) {
            float x = p[j + l];
            p[j + l] = fmaf(lb_update(x, m[j + l], v[j + l], k), factor, x);
        }
    }
    for (; j < len; j++) {
        float x = p[j];
        p[j] = fmaf(lb_update(x, m[j], v[j], k), factor, x);
    }
}

static void lb_apply(float *p, const float *m, const float *v, const lw_chunk *w, const lb_k k, int pf) {
    if (pf) lb_apply_body(p + w->first, m + w->first, v + w->first, w->len, k, w->factor, 1);
    else lb_apply_body(p + w->first, m + w->first, v + w->first, w->len, k, w->factor, 0);
}

/* Math.min's NaN rule (NaN if either is); its -0 < +0 cannot matter here (a norm is never -0). */
static inline double lw_min(double a, double b) { return (a != a || b != b) ? a + b : (a < b ? a : b); }

/* Lamb.trustRatio: the parameter norm clamped to maxWeightNorm; 1 where it or the update norm is 0. */
static double lb_ratio(const double *k, double pn, double un) {
    double wn = lw_min(pn, k[11]);
    return wn == 0 || un == 0 ? 1 : wn / un;
}

static int lb_adapts(const double *k) { (void) k; return 1; }

static const lw_kind LB_KIND = {12, 10, lb_ratio, lb_adapts};

/* One LAMB step of the tensors (triples offset, length, group: elements [offset, offset + length) of p, g, mu, nu)
 * with kd 12 doubles per group (see lb_k), summed as a kernel of `lanes` lanes; work: vo_layerwise_workspace bytes
 * (the factors stay there between calls); out: 3 doubles per tensor (see lw_ratios). passes: 1 pass 1 (and the
 * ratios), 2 pass 2 (with the factors of the last ratios), 3 the step; plus 4: prefetching (16 lanes only; see
 * LW_AHEAD). */
void vo_lamb(float *p, const float *g, float *mu, float *nu, int64_t ntensors, const int64_t *tensors,
             const double *kd, int lanes, void *work, double *out, int passes) {
    lw_chunk *w = work;
    const int64_t nc = lw_grid(ntensors, tensors, w);
    const int pf = (passes & 4) != 0;
    if (passes & 1) {
#pragma omp parallel for num_threads(vo_threads) schedule(dynamic, 1) if (vo_threads > 1)
        for (int64_t c = 0; c < nc; c++)
            lb_norms(p, g, mu, nu, &w[c], lb_scalars(kd + LB_KIND.fields * tensors[3 * w[c].tensor + 2]), lanes, pf);
        lw_ratios(w, nc, ntensors, tensors, kd, &LB_KIND, out);
    }
    if (passes & 2) {
#pragma omp parallel for num_threads(vo_threads) schedule(dynamic, 1) if (vo_threads > 1)
        for (int64_t c = 0; c < nc; c++)
            lb_apply(p, mu, nu, &w[c], lb_scalars(kd + LB_KIND.fields * tensors[3 * w[c].tensor + 2]), pf);
    }
}

/* ---- LARS: pass 1 reads p, g (8 bytes per element; groups the trust ratio adapts only), pass 2 reads p, g, trace and
 * writes p, trace (20). Sums (LarsPanama.norms): half vectors of D = lanes / 2 floats widened to doubles, 8 chains of
 * D lanes per sum: a block of 8 D elements (64 at 512 bits), element j to chain lane j mod 8 D; then, up to the last
 * whole vector, half by half to chain 0 (element j to lane j mod D); slot l taking the 8 chains' lane l added as
 * ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)); then one chain over the leftover elements added to slot 0. */

/* A group's scalars: kd[0..3] the engine's prepared LarsStep (weightDecay, momentum, nesterov 0 or 1, gradScale),
 * kd[4] the group's lr (the step's times lrScale), kd[5] trustCoefficient, kd[6] eps, kd[7] trustRatio 0 or 1. */
typedef struct {
    float wd, mom, scale;
    int nesterov;
} ls_k;

static ls_k ls_scalars(const double *kd) {
    ls_k k = {(float) kd[0], (float) kd[1], (float) kd[3], kd[2] != 0};
    return k;
}

/* One element of pass 1: u = g * gradScale + wd * p; u^2 added to *su, p^2 to *sp. */
static inline __attribute__((always_inline)) void ls_term(float p, float g, double *su, double *sp, const ls_k k) {
    double u = fmaf(p, k.wd, g * k.scale), y = p;
    *su = fma(u, u, *su);
    *sp = fma(y, y, *sp);
}

/* Pass 1 of a chunk as a kernel of W lanes sums it (W 1: one chain over all). */
static inline __attribute__((always_inline)) void ls_norms_lanes(const float *restrict p, const float *restrict g,
        int64_t len, double *restrict sums, const ls_k k, const int W) {
    double au[64], ap[64];
    int64_t j = 0;
    if (W > 1) {
        const int D = W / 2, B = 8 * D;
        for (int l = 0; l < B; l++) au[l] = ap[l] = 0;
        int64_t blocks = len - len % B, bound = len - len % W;
        for (; j < blocks; j += B)
            for (int l = 0; l < B; l++) ls_term(p[j + l], g[j + l], &au[l], &ap[l], k);
        for (; j < bound; j += D)
            for (int l = 0; l < D; l++) ls_term(p[j + l], g[j + l], &au[l], &ap[l], k);
        for (int l = 0; l < D; l++) {
            sums[l] += ((au[l] + au[D + l]) + (au[2 * D + l] + au[3 * D + l]))
                    + ((au[4 * D + l] + au[5 * D + l]) + (au[6 * D + l] + au[7 * D + l]));
            sums[LW_SLOTS / 2 + l] += ((ap[l] + ap[D + l]) + (ap[2 * D + l] + ap[3 * D + l]))
                    + ((ap[4 * D + l] + ap[5 * D + l]) + (ap[6 * D + l] + ap[7 * D + l]));
        }
    }
    double su = 0, sp = 0;
    for (; j < len; j++) ls_term(p[j], g[j], &su, &sp, k);
    sums[0] += su;
    sums[LW_SLOTS / 2] += sp;
}

static void ls_norms(const float *p, const float *g, lw_chunk *w, const ls_k k, int lanes) {
    const float *pc = p + w->first, *gc = g + w->first;
    for (int l = 0; l < LW_SLOTS; l++) w->sums[l] = 0;
    if (lanes == 16 && w->len >= 16) ls_norms_lanes(pc, gc, w->len, w->sums, k, 16);
    else if (lanes == 8 && w->len >= 8) ls_norms_lanes(pc, gc, w->len, w->sums, k, 8);
    else if (lanes == 4 && w->len >= 4) ls_norms_lanes(pc, gc, w->len, w->sums, k, 4);
    else ls_norms_lanes(pc, gc, w->len, w->sums, k, 1);
}

/* Pass 2 of a chunk: u = (g * gradScale + wd * p) * factor, trace = momentum * trace + u, p += trace (Nesterov:
 * momentum * trace + u). */
static inline __attribute__((always_inline)) void ls_apply_body(float *restrict p, const float *restrict g,
        float *restrict tr, int64_t len, const ls_k k, float factor, const int nesterov) {
    for (int64_t j = 0; j < len; j++) {
        float x = p[j];
        float u = fmaf(x, k.wd, g[j] * k.scale) * factor;
        float t = fmaf(tr[j], k.mom, u);
        tr[j] = t;
        p[j] = x + (nesterov ? fmaf(t, k.mom, u) : t);
    }
}

static void ls_apply(float *p, const float *g, float *tr, const lw_chunk *w, const ls_k k) {
    if (k.nesterov) ls_apply_body(p + w->first, g + w->first, tr + w->first, w->len, k, w->factor, 1);
    else ls_apply_body(p + w->first, g + w->first, tr + w->first, w->len, k, w->factor, 0);
}

/* Lars.trustRatio: trustCoefficient * ||w|| / (||u|| + eps); 1 where a norm is 0. */
static double ls_ratio(const double *k, double pn, double un) {
    return pn == 0 || un == 0 ? 1 : k[5] * pn / (un + k[6]);
}

static int ls_adapts(const double *k) { return k[7] != 0; }

static const lw_kind LS_KIND = {8, 4, ls_ratio, ls_adapts};

/* One LARS step, as vo_lamb: trace in s0 (s1 unused), kd 8 doubles per group (see ls_k). */
void vo_lars(float *p, const float *g, float *s0, float *s1, int64_t ntensors, const int64_t *tensors,
             const double *kd, int lanes, void *work, double *out, int passes) {
    (void) s1;
    lw_chunk *w = work;
    const int64_t nc = lw_grid(ntensors, tensors, w);
    if (passes & 1) {
#pragma omp parallel for num_threads(vo_threads) schedule(dynamic, 1) if (vo_threads > 1)
        for (int64_t c = 0; c < nc; c++) {
            const double *k = kd + LS_KIND.fields * tensors[3 * w[c].tensor + 2];
            if (ls_adapts(k)) ls_norms(p, g, &w[c], ls_scalars(k), lanes);
        }
        lw_ratios(w, nc, ntensors, tensors, kd, &LS_KIND, out);
    }
    if (passes & 2) {
#pragma omp parallel for num_threads(vo_threads) schedule(dynamic, 1) if (vo_threads > 1)
        for (int64_t c = 0; c < nc; c++)
            ls_apply(p, g, s0, &w[c], ls_scalars(kd + LS_KIND.fields * tensors[3 * w[c].tensor + 2]));
    }
}

/* ---- mixed precision: the traffic of each storage mix, with next to no arithmetic ----
 * mode 0: read p32 g32 m v, write p32 m v                       (float32 everywhere: 28 bytes per element)
 * mode 1: read p32 g16 m v, write p32 m v                       (bfloat16 gradients: 26)
 * mode 2: read master g16 m v, write master m v, write p16      (bfloat16 parameters + float32 master: 28 + 2, and
 *                                                                 the write-allocate read of p16 the CPU adds: 30)
 * mode 3: read p16 g16 m v, write p16 m v                       (bfloat16 parameters, no master: 22)
 * A 16-bit value is widened by a shift and narrowed by truncation (the bits moved are what counts here). */
static inline float bf16_widen(uint16_t h) {
    union { uint32_t u; float f; } x = { .u = (uint32_t) h << 16 };
    return x.f;
}

static inline uint16_t bf16_trunc(float f) {
    union { float f; uint32_t u; } x = { .f = f };
    return (uint16_t) (x.u >> 16);
}

static void mix_range(float *restrict p32, uint16_t *restrict p16, const float *restrict g32,
                      const uint16_t *restrict g16, float *restrict m, float *restrict v, int64_t n, int mode) {
    switch (mode) {
    case 0:
        for (int64_t i = 0; i < n; i++) { float gi = g32[i]; p32[i] += gi; m[i] += gi; v[i] += gi; }
        break;
    case 1:
        for (int64_t i = 0; i < n; i++) { float gi = bf16_widen(g16[i]); p32[i] += gi; m[i] += gi; v[i] += gi; }
        break;
    case 2:
        for (int64_t i = 0; i < n; i++) {
            float gi = bf16_widen(g16[i]), pn = p32[i] + gi;
            p32[i] = pn; p16[i] = bf16_trunc(pn); m[i] += gi; v[i] += gi;
        }
        break;
    default:
        for (int64_t i = 0; i < n; i++) {
            float gi = bf16_widen(g16[i]);
            p16[i] = bf16_trunc(bf16_widen(p16[i]) + gi); m[i] += gi; v[i] += gi;
        }
        break;
    }
}

void vo_mix_traffic(float *p32, uint16_t *p16, const float *g32, const uint16_t *g16, float *m, float *v, int64_t n,
                    int mode) {
    SPLIT(n, mix_range(p32 ? p32 + lo : 0, p16 ? p16 + lo : 0, g32 ? g32 + lo : 0, g16 ? g16 + lo : 0, m + lo,
                       v + lo, hi - lo, mode));
}

static void mix8_range(float *restrict p32, uint16_t *restrict p16, const float *restrict g32,
                       const uint16_t *restrict g16, uint8_t *restrict m, uint8_t *restrict v, int64_t n, int mode) {
    switch (mode) {
    case 5:
        for (int64_t i = 0; i < n; i++) {
            float gi = g32[i];
            uint8_t d = (uint8_t) (int) gi;
            p32[i] += gi; m[i] += d; v[i] += d;
        }
        break;
    case 6:
        for (int64_t i = 0; i < n; i++) {
            float gi = bf16_widen(g16[i]), pn = p32[i] + gi;
            uint8_t d = (uint8_t) g16[i];
            p32[i] = pn; p16[i] = bf16_trunc(pn); m[i] += d; v[i] += d;
        }
        break;
    default:
        for (int64_t i = 0; i < n; i++) {
            float gi = bf16_widen(g16[i]);
            uint8_t d = (uint8_t) g16[i];
            p16[i] = bf16_trunc(bf16_widen(p16[i]) + gi); m[i] += d; v[i] += d;
        }
        break;
    }
}

/*
 * Modes 5-7, 8-bit state (one byte per moment, read and written; the block scales, 2 floats per 256 elements, are
 * left out: 0.06 bytes per element): 5 float32 parameters and gradients (16 bytes per element), 6 bfloat16 gradients
 * and parameters with a float32 master (18: the master read and written, the 16-bit copy written and read for
 * ownership), 7 bfloat16 parameters without a master (10).
 */
void vo_mix_traffic8(float *p32, uint16_t *p16, const float *g32, const uint16_t *g16, uint8_t *m, uint8_t *v,
                     int64_t n, int mode) {
    SPLIT(n, mix8_range(p32 ? p32 + lo : 0, p16 ? p16 + lo : 0, g32 ? g32 + lo : 0, g16 ? g16 + lo : 0, m + lo,
                        v + lo, hi - lo, mode));
}

static void mix16_range(uint16_t *restrict p, const uint16_t *restrict g, uint16_t *restrict m, uint16_t *restrict v,
                        int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float gi = bf16_widen(g[i]);
        p[i] = bf16_trunc(bf16_widen(p[i]) + gi);
        m[i] = bf16_trunc(bf16_widen(m[i]) + gi);
        v[i] = bf16_trunc(bf16_widen(v[i]) + gi);
    }
}

/* Mode 4, everything bfloat16: read p16 g16 m16 v16, write p16 m16 v16 (14 bytes per element). */
void vo_mix_traffic16(uint16_t *p, const uint16_t *g, uint16_t *m, uint16_t *v, int64_t n) {
    SPLIT(n, mix16_range(p + lo, g + lo, m + lo, v + lo, hi - lo));
}

/* ---- AdamW with 8-bit block-quantized state: the C peer of the engine's 8-bit Adam loop ----
 * vecopt.kernel.MixedPanama.adamQuantized (the adamDecoupled_gf32_pf32_sq8Apply and _gbf16_pbf16_sq8Apply loops the
 * generator MixedKernelGenerator writes) and its scalar twin MixedScalar.adamQuantized, with the codes of
 * vecopt.kernel.BlockCodes, element for element the same float operations, so that the result is bitwise the
 * engine's and a speed difference is code generation. Per block of 256 elements of the tensor (blocks counted from
 * its first element; a 64 Ki chunk of the thread grid is 256 whole blocks):
 *   1. the block's largest magnitude codes of exp_avg and sqrt(exp_avg_sq) and its largest |gradient| (on the
 *      bits: the integer order of a magnitude's bits is its order as a number);
 *   2. the new scales, bounds known before the step (BlockCodes.nextScaleSigned / nextScaleUnsigned, in double, as
 *      MixedScalar.nextScales), stored, and their reciprocals (0 for a zero scale: BlockCodes.inverse);
 *   3. one pass: decode m and r = sqrt(v) against the old scales, the AdamW step on the decoded moments, the
 *      parameter stored (and, with a float32 master, its bfloat16 rounding to nearest even), m and r coded against
 *      the new scales.
 * Only the decoupled form (AdamW) is here, the one MixedBench runs. Two storage mixes: mode 5, float32 parameters
 * and gradients; mode 6, bfloat16 gradients and bfloat16 parameters with a float32 master (read and written; the
 * 16-bit copy only written). k: b1, c1, b2, c2, eps, decay, neg_step, inv_bc2, grad_scale (AdamStep's floats). */
#define Q8_BLOCK 256
#define Q8_BIAS (112 << 23)
#define Q8_SIGNED_BASE (Q8_BIAS - (1 << 20))
#define Q8_UNSIGNED_BASE (Q8_BIAS - (1 << 19))
#define Q8_SIGNED_ROUND ((1 << 19) - Q8_BIAS + (1 << 20))
#define Q8_UNSIGNED_ROUND ((1 << 18) - Q8_BIAS + (1 << 19))

typedef struct { float b1, c1, b2, c2, eps, decay, neg_step, inv_bc2, scale; } q8_k;

static inline float q8_float(int32_t b) { union { int32_t i; float f; } u = { .i = b }; return u.f; }
static inline int32_t q8_bits(float f) { union { float f; int32_t i; } u = { .f = f }; return u.i; }

/* BlockCodes.decodeSigned of a sign-extended code: bit 31 of the int is the code's sign. */
static inline float q8_decode_signed(int32_t c) {
    int32_t k = c & 0x7F;
    return q8_float(((k << 20) + (k != 0 ? Q8_SIGNED_BASE : 0)) | (int32_t) ((uint32_t) c & 0x80000000u));
}

static inline float q8_decode_unsigned(int32_t k) {
    return q8_float((k << 19) + (k != 0 ? Q8_UNSIGNED_BASE : 0));
}

/* BlockCodes.encodeSigned: round to nearest with ties away from zero by one add, then clamp; below 2^-16 codes 0. */
static inline uint8_t q8_encode_signed(float x) {
    int32_t b = q8_bits(x), a = b & 0x7FFFFFFF;
    int32_t t = (a + Q8_SIGNED_ROUND) >> 20;
    t = t > 1 ? t : 1;
    t = t < 127 ? t : 127;
    t = a < (111 << 23) ? 0 : t;
    return (uint8_t) (t | (int32_t) (((uint32_t) b >> 24) & 0x80));
}

/* BlockCodes.encodeUnsigned of a non-negative x: 0 only for zero (the min with the magnitude's bits, as the engine). */
static inline uint8_t q8_encode_unsigned(float x) {
    int32_t a = q8_bits(x) & 0x7FFFFFFF;
    int32_t t = (a + Q8_UNSIGNED_ROUND) >> 19;
    t = t > 1 ? t : 1;
    t = t < 255 ? t : 255;
    return (uint8_t) (t < a ? t : a);
}

/* BFloat16.round: to nearest even; every NaN to 0x7FC0. */
static inline uint16_t q8_bf16_round(float f) {
    int32_t b = q8_bits(f);
    uint32_t r = ((uint32_t) b + (((uint32_t) b >> 16) & 1) + 0x7FFF) >> 16;
    return (uint16_t) ((b & 0x7FFFFFFF) > 0x7F800000 ? 0x7FC0 : r);
}

/* Steps 1-2 for block [0, n) of the arrays given: returns the old scales and sets the new ones in place, with their
 * reciprocals. g16 == NULL: float32 gradients in g32. */
static inline void q8_scales(const float *restrict g32, const uint16_t *restrict g16, const uint8_t *restrict m,
                             const uint8_t *restrict r, int n, float *restrict scale_m, float *restrict scale_r,
                             const q8_k *k, float *old_m, float *old_r, float *inv_m, float *inv_r) {
    int32_t cm = 0, cr = 0;
    for (int i = 0; i < n; i++) {
        int32_t a = m[i] & 0x7F, b = r[i];
        cm = a > cm ? a : cm;
        cr = b > cr ? b : cr;
    }
    float largest_g;
    if (g16) {
        int32_t x = 0;
        for (int i = 0; i < n; i++) {
            int32_t a = g16[i] & 0x7FFF;
            x = a > x ? a : x;
        }
        largest_g = x > 0x7F80 ? NAN : bf16_widen((uint16_t) x);
    } else {
        int32_t x = 0;
        for (int i = 0; i < n; i++) {
            int32_t a = q8_bits(g32[i]) & 0x7FFFFFFF;
            x = a > x ? a : x;
        }
        largest_g = x > 0x7F800000 ? NAN : q8_float(x);
    }
    double g = largest_g * (double) fabsf(k->scale);
    float sm = *scale_m, sr = *scale_r;
    float lm = q8_decode_signed(cm) * sm;
    double lr = q8_decode_unsigned(cr) * sr;
    float nm = (float) (k->b1 * (double) lm + k->c1 * g);
    float nr = (float) sqrt(k->b2 * lr * lr + k->c2 * g * g);
    *scale_m = nm;
    *scale_r = nr;
    *old_m = sm;
    *old_r = sr;
    *inv_m = nm == 0.0f ? 0.0f : 1.0f / nm;
    *inv_r = nr == 0.0f ? 0.0f : 1.0f / nr;
}

/* Step 3, plain C that gcc -O3 vectorizes. pw: the float32 parameters (or master), p16: the bfloat16 copy or NULL. */
static inline __attribute__((always_inline)) void q8_apply(float *restrict pw, uint16_t *restrict p16,
        const float *restrict g32, const uint16_t *restrict g16, uint8_t *restrict m_, uint8_t *restrict r_, int n,
        const q8_k *kp, float sm, float sr, float im, float ir, const int bf16) {
    const q8_k k = *kp;
    for (int i = 0; i < n; i++) {
        float p = pw[i];
        float g = (bf16 ? bf16_widen(g16[i]) : g32[i]) * k.scale;
        float m0 = q8_decode_signed((int8_t) m_[i]) * sm;
        float r0 = q8_decode_unsigned(r_[i]) * sr;
        float m = fmaf(m0, k.b1, g * k.c1);
        float v = fmaf(r0 * r0, k.b2, (g * k.c2) * g);
        float r = sqrtf(v);
        float pn = fmaf(m / fmaf(r, k.inv_bc2, k.eps), k.neg_step, p * k.decay);
        pw[i] = pn;
        if (bf16) p16[i] = q8_bf16_round(pn);
        m_[i] = q8_encode_signed(m * im);
        r_[i] = q8_encode_unsigned(r * ir);
    }
}

static void q8_range_f32(float *restrict p, const float *restrict g, uint8_t *restrict m, uint8_t *restrict r,
                         float *restrict scale_m, float *restrict scale_r, int64_t n, const q8_k *k) {
    for (int64_t from = 0, b = 0; from < n; from += Q8_BLOCK, b++) {
        int len = (int) (n - from < Q8_BLOCK ? n - from : Q8_BLOCK);
        float sm, sr, im, ir;
        q8_scales(g + from, NULL, m + from, r + from, len, scale_m + b, scale_r + b, k, &sm, &sr, &im, &ir);
        q8_apply(p + from, NULL, g + from, NULL, m + from, r + from, len, k, sm, sr, im, ir, 0);
    }
}

static void q8_range_bf16m(float *restrict master, uint16_t *restrict p16, const uint16_t *restrict g,
                           uint8_t *restrict m, uint8_t *restrict r, float *restrict scale_m,
                           float *restrict scale_r, int64_t n, const q8_k *k) {
    for (int64_t from = 0, b = 0; from < n; from += Q8_BLOCK, b++) {
        int len = (int) (n - from < Q8_BLOCK ? n - from : Q8_BLOCK);
        float sm, sr, im, ir;
        q8_scales(NULL, g + from, m + from, r + from, len, scale_m + b, scale_r + b, k, &sm, &sr, &im, &ir);
        q8_apply(master + from, p16 + from, NULL, g + from, m + from, r + from, len, k, sm, sr, im, ir, 1);
    }
}

/* The 8-bit AdamW step over n elements of one tensor (mode 5 or 6, above; scale_m, scale_r: ceil(n / 256) floats
 * each). pw: the float32 parameters (mode 5) or master (mode 6); p16 and g16 (mode 6) or g32 (mode 5). */
void vo_adam_q8(float *pw, uint16_t *p16, const float *g32, const uint16_t *g16, uint8_t *m, uint8_t *r,
                float *scale_m, float *scale_r, int64_t n, int mode, const float *kf) {
    const q8_k k = {kf[0], kf[1], kf[2], kf[3], kf[4], kf[5], kf[6], kf[7], kf[8]};
    if (mode == 5) {
        SPLIT(n, q8_range_f32(pw + lo, g32 + lo, m + lo, r + lo, scale_m + lo / Q8_BLOCK, scale_r + lo / Q8_BLOCK,
                              hi - lo, &k));
    } else {
        SPLIT(n, q8_range_bf16m(pw + lo, p16 + lo, g16 + lo, m + lo, r + lo, scale_m + lo / Q8_BLOCK,
                                scale_r + lo / Q8_BLOCK, hi - lo, &k));
    }
}

#if defined(__AVX512F__) && defined(__AVX512BW__)
#include <immintrin.h>
/* Step 3 with AVX-512 intrinsics, 16 elements a vector, the tail in q8_apply's scalar form: the same values as
 * q8_apply (so the same bits), written as a hand would. Its vector instructions are within two of those C2 makes of
 * the engine's loop: the signed decode masks the shifted sign-extended code to its sign and magnitude fields in one
 * and (C2: and, compare, shift, add, and-or), and the zero test of the signed encode is a zeroing mask on its min
 * (C2: compare, blend); the sign goes into the code by one three-input logic op, as C2 also fuses it. */
static inline __attribute__((always_inline)) void q8_apply_avx512(float *restrict pw, uint16_t *restrict p16,
        const float *restrict g32, const uint16_t *restrict g16, uint8_t *restrict m_, uint8_t *restrict r_, int n,
        const q8_k *kp, float sm, float sr, float im, float ir, const int bf16, const int hwbf16) {
    const __m512 b1 = _mm512_set1_ps(kp->b1), c1 = _mm512_set1_ps(kp->c1), b2 = _mm512_set1_ps(kp->b2),
            c2 = _mm512_set1_ps(kp->c2), eps = _mm512_set1_ps(kp->eps), decay = _mm512_set1_ps(kp->decay),
            neg = _mm512_set1_ps(kp->neg_step), ibc2 = _mm512_set1_ps(kp->inv_bc2), scale = _mm512_set1_ps(kp->scale),
            smv = _mm512_set1_ps(sm), srv = _mm512_set1_ps(sr), imv = _mm512_set1_ps(im), irv = _mm512_set1_ps(ir);
    const __m512i x7f = _mm512_set1_epi32(0x7F), sfield = _mm512_set1_epi32((int32_t) 0x87F00000),
            sbase = _mm512_set1_epi32(Q8_SIGNED_BASE), ubase = _mm512_set1_epi32(Q8_UNSIGNED_BASE),
            abs = _mm512_set1_epi32(0x7FFFFFFF), sround = _mm512_set1_epi32(Q8_SIGNED_ROUND),
            uround = _mm512_set1_epi32(Q8_UNSIGNED_ROUND), one = _mm512_set1_epi32(1),
            c127 = _mm512_set1_epi32(127), c255 = _mm512_set1_epi32(255), tiny = _mm512_set1_epi32(111 << 23),
            x80 = _mm512_set1_epi32(0x80), h7fff = _mm512_set1_epi32(0x7FFF), inf = _mm512_set1_epi32(0x7F800000),
            qnan = _mm512_set1_epi32(0x7FC0);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 p = _mm512_loadu_ps(pw + i);
        __m512 g = bf16 ? _mm512_castsi512_ps(_mm512_slli_epi32(
                _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *) (g16 + i))), 16))
                : _mm512_loadu_ps(g32 + i);
        g = _mm512_mul_ps(g, scale);
        __m512i mc = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *) (m_ + i)));
        __m512i mb = _mm512_and_si512(_mm512_slli_epi32(mc, 20), sfield); /* sign at 31, magnitude at 20..26 */
        mb = _mm512_mask_add_epi32(mb, _mm512_test_epi32_mask(mc, x7f), mb, sbase);
        __m512 m0 = _mm512_mul_ps(_mm512_castsi512_ps(mb), smv);
        __m512i rk = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *) (r_ + i)));
        __m512i rb = _mm512_slli_epi32(rk, 19);
        rb = _mm512_mask_add_epi32(rb, _mm512_test_epi32_mask(rk, rk), rb, ubase);
        __m512 r0 = _mm512_mul_ps(_mm512_castsi512_ps(rb), srv);
        __m512 m = _mm512_fmadd_ps(m0, b1, _mm512_mul_ps(g, c1));
        __m512 v = _mm512_fmadd_ps(_mm512_mul_ps(r0, r0), b2, _mm512_mul_ps(_mm512_mul_ps(g, c2), g));
        __m512 r = _mm512_sqrt_ps(v);
        __m512 pn = _mm512_fmadd_ps(_mm512_div_ps(m, _mm512_fmadd_ps(r, ibc2, eps)), neg, _mm512_mul_ps(p, decay));
        _mm512_storeu_ps(pw + i, pn);
#ifdef __AVX512BF16__
        /* the CPU's rounding to nearest even where it is vecopt's: every lane but a NaN or a subnormal (which the
         * instruction reads as zero); a vector with one of those takes the integer path */
        if (hwbf16 && _mm512_fpclass_ps_mask(pn, 0xA1) == 0) {
            _mm256_storeu_si256((__m256i *) (p16 + i), (__m256i) _mm512_cvtneps_pbh(pn));
        } else
#endif
        if (bf16) {
            __m512i pb = _mm512_castps_si512(pn);
            __m512i h = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(pb, _mm512_and_si512(
                    _mm512_srli_epi32(pb, 16), one)), h7fff), 16);
            h = _mm512_mask_mov_epi32(h, _mm512_cmpgt_epi32_mask(_mm512_and_si512(pb, abs), inf), qnan);
            _mm256_storeu_si256((__m256i *) (p16 + i), _mm512_cvtepi32_epi16(h));
        }
        __m512i xb = _mm512_castps_si512(_mm512_mul_ps(m, imv));
        __m512i a = _mm512_and_si512(xb, abs);
        __m512i t = _mm512_max_epi32(_mm512_srai_epi32(_mm512_add_epi32(a, sround), 20), one);
        t = _mm512_maskz_min_epi32(_mm512_cmpge_epi32_mask(a, tiny), t, c127);
        t = _mm512_ternarylogic_epi32(t, _mm512_srli_epi32(xb, 24), x80, 0xF8); /* t | (xb >>> 24 & 0x80) */
        _mm_storeu_si128((__m128i *) (m_ + i), _mm512_cvtepi32_epi8(t));
        __m512i ra = _mm512_and_si512(_mm512_castps_si512(_mm512_mul_ps(r, irv)), abs);
        __m512i u = _mm512_min_epi32(_mm512_max_epi32(_mm512_srai_epi32(_mm512_add_epi32(ra, uround), 19), one), c255);
        _mm_storeu_si128((__m128i *) (r_ + i), _mm512_cvtepi32_epi8(_mm512_min_epi32(u, ra)));
    }
    if (i < n) { /* the tail shorter than a vector: the plain loop */
        if (bf16) {
            q8_apply(pw + i, p16 + i, NULL, g16 + i, m_ + i, r_ + i, n - i, kp, sm, sr, im, ir, 1);
        } else {
            q8_apply(pw + i, NULL, g32 + i, NULL, m_ + i, r_ + i, n - i, kp, sm, sr, im, ir, 0);
        }
    }
}

static void q8x_range_f32(float *restrict p, const float *restrict g, uint8_t *restrict m, uint8_t *restrict r,
                          float *restrict scale_m, float *restrict scale_r, int64_t n, const q8_k *k) {
    for (int64_t from = 0, b = 0; from < n; from += Q8_BLOCK, b++) {
        int len = (int) (n - from < Q8_BLOCK ? n - from : Q8_BLOCK);
        float sm, sr, im, ir;
        q8_scales(g + from, NULL, m + from, r + from, len, scale_m + b, scale_r + b, k, &sm, &sr, &im, &ir);
        q8_apply_avx512(p + from, NULL, g + from, NULL, m + from, r + from, len, k, sm, sr, im, ir, 0, 0);
    }
}

static void q8x_range_bf16m(float *restrict master, uint16_t *restrict p16, const uint16_t *restrict g,
                            uint8_t *restrict m, uint8_t *restrict r, float *restrict scale_m,
                            float *restrict scale_r, int64_t n, const q8_k *k, const int hwbf16) {
    for (int64_t from = 0, b = 0; from < n; from += Q8_BLOCK, b++) {
        int len = (int) (n - from < Q8_BLOCK ? n - from : Q8_BLOCK);
        float sm, sr, im, ir;
        q8_scales(NULL, g + from, m + from, r + from, len, scale_m + b, scale_r + b, k, &sm, &sr, &im, &ir);
        if (hwbf16) {
            q8_apply_avx512(master + from, p16 + from, NULL, g + from, m + from, r + from, len, k, sm, sr, im, ir, 1, 1);
        } else {
            q8_apply_avx512(master + from, p16 + from, NULL, g + from, m + from, r + from, len, k, sm, sr, im, ir, 1, 0);
        }
    }
}

/* The AVX-512 entry points' one body: mode 5 (float32-q8) or 6 (bf16 master), the bfloat16 copy rounded by the CPU's
 * vcvtneps2bf16 where hwbf16. */
static void q8x_run(float *pw, uint16_t *p16, const float *g32, const uint16_t *g16, uint8_t *m, uint8_t *r,
                    float *scale_m, float *scale_r, int64_t n, int mode, const float *kf, int hwbf16) {
    const q8_k k = {kf[0], kf[1], kf[2], kf[3], kf[4], kf[5], kf[6], kf[7], kf[8]};
    if (mode == 5) {
        SPLIT(n, q8x_range_f32(pw + lo, g32 + lo, m + lo, r + lo, scale_m + lo / Q8_BLOCK, scale_r + lo / Q8_BLOCK,
                               hi - lo, &k));
    } else {
        SPLIT(n, q8x_range_bf16m(pw + lo, p16 + lo, g16 + lo, m + lo, r + lo, scale_m + lo / Q8_BLOCK,
                                 scale_r + lo / Q8_BLOCK, hi - lo, &k, hwbf16));
    }
}

/* vo_adam_q8 with step 3 in AVX-512 intrinsics (only in a library built where the compiler targets AVX-512BW). */
void vo_adam_q8_avx512(float *pw, uint16_t *p16, const float *g32, const uint16_t *g16, uint8_t *m, uint8_t *r,
                       float *scale_m, float *scale_r, int64_t n, int mode, const float *kf) {
    q8x_run(pw, p16, g32, g16, m, r, scale_m, scale_r, n, mode, kf, 0);
}

#ifdef __AVX512BF16__
/* vo_adam_q8_avx512 with the bfloat16 copy (mode 6) rounded by the CPU's vcvtneps2bf16 (AVX512-BF16) where that is
 * vecopt's rounding (BFloat16.round): not for a NaN (vecopt stores 0x7FC0, the instruction keeps the payload) nor a
 * subnormal (which the instruction reads as zero), so a vector holding one takes the integer path. What the one
 * conversion the Vector API lacks would be worth; bitwise vo_adam_q8's results. Mode 5 is vo_adam_q8_avx512's. */
void vo_adam_q8_avx512bf16(float *pw, uint16_t *p16, const float *g32, const uint16_t *g16, uint8_t *m, uint8_t *r,
                           float *scale_m, float *scale_r, int64_t n, int mode, const float *kf) {
    q8x_run(pw, p16, g32, g16, m, r, scale_m, scale_r, n, mode, kf, 1);
}
#endif
#endif
