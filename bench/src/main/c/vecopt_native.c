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
