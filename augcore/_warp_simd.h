/* What Cython cannot express of the warp kernel (augcore/_warp.pyx, which documents its
 * exactness rules): the index passes and the float32 bilinear rows, compiled twice and picked at
 * run time by GCC's target_clones (AVX2 implies no FMA, so both clones compute the same bits),
 * AVX lanes for 3-4 float32 channels and SSE2 lanes for four uint8 channels. */
#ifndef AUGCORE_WARP_SIMD_H
#define AUGCORE_WARP_SIMD_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Build with -DAUGCORE_NO_CPU_DISPATCH to compile only the baseline code (e.g. to test it). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__) && \
    !defined(AUGCORE_NO_CPU_DISPATCH)
#define AC_DISPATCH 1
#define AC_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define AC_CLONES
#endif

/* Order 0 on columns [c0, c1): pixel index r * w_in + c of each sample, or -1 where it is not in
 * bounds (0 <= x <= n-1, unrounded, as scipy tests it) and the mode is not "nearest". In bounds
 * floor(x + 0.5) is a truncation; for "nearest" (``clamp``) the clamp of x + 0.5 to [0, n-1]
 * before truncating is exactly scipy's tap clamp. Branch-free, so it vectorises. */
static inline void ac_nearest_columns(int32_t *restrict index, const double *restrict col_r,
                                      const double *restrict col_c, double row_r, double row_c,
                                      int64_t c0, int64_t c1, double r_max, double c_max,
                                      int32_t stride, int clamp)
{
    if (clamp) {
        for (int64_t c = c0; c < c1; c++) {
            double r = row_r + col_r[c] + 0.5, q = row_c + col_c[c] + 0.5;
            r = r < 0.0 ? 0.0 : r;
            r = r > r_max ? r_max : r;
            q = q < 0.0 ? 0.0 : q;
            q = q > c_max ? c_max : q;
            index[c] = (int32_t)r * stride + (int32_t)q;
        }
        return;
    }
    for (int64_t c = c0; c < c1; c++) {
        const double r = row_r + col_r[c], q = row_c + col_c[c];
        const int inside = (r >= 0.0) & (r <= r_max) & (q >= 0.0) & (q <= c_max);
        const double rr = inside ? r + 0.5 : 0.0, qq = inside ? q + 0.5 : 0.0;
        index[c] = inside ? (int32_t)rr * stride + (int32_t)qq : -1;
    }
}

/* Whether sample c is in bounds on both axes (the test above, on the same doubles). */
static inline int ac_inside(const double *col_r, const double *col_c, double row_r,
                            double row_c, int64_t c, double r_max, double c_max)
{
    const double r = row_r + col_r[c], q = row_c + col_c[c];
    return (r >= 0.0) & (r <= r_max) & (q >= 0.0) & (q <= c_max);
}

/* Narrow [*c0, *c1) to columns where row + c m (m = col[1] - col[0]) lies in [0, max]: an
 * estimate, possibly too wide or too narrow by a column or two; the caller checks it. */
static inline void ac_clip_columns(double row, const double *col, int64_t w_out, double max,
                                   int64_t *c0, int64_t *c1)
{
    const double m = w_out > 1 ? col[1] - col[0] : 0.0;
    double lo = 0.0, hi = (double)w_out;
    if (m > 0.0) {
        lo = (0.0 - row) / m;
        hi = (max - row) / m + 1.0;
    } else if (m < 0.0) {
        lo = (max - row) / m;
        hi = (0.0 - row) / m + 1.0;
    } else if (!(row >= 0.0 && row <= max)) {
        hi = lo;
    }
    lo = lo < 0.0 ? 0.0 : (lo > (double)w_out ? (double)w_out : lo);
    hi = hi < 0.0 ? 0.0 : (hi > (double)w_out ? (double)w_out : hi);
    const int64_t a = (int64_t)ceil(lo), b = (int64_t)hi;
    *c0 = a > *c0 ? a : *c0;
    *c1 = b < *c1 ? b : *c1;
}

/* Order 0, one output row: ac_nearest_columns on every column. With ``span`` (affine rows:
 * x = row + fl(c m) is monotone in c, so the in-bounds columns are one interval) the columns
 * whose samples are in bounds on both axes — both ends of the interval checked exactly, so the
 * interval holds only such columns — take a shorter loop: no clamps, no tests, the same
 * truncation of x + 0.5 (in bounds, the clamp and the test change nothing). */
AC_CLONES
static void ac_row_nearest_index(int32_t *restrict index, const double *restrict col_r,
                                 const double *restrict col_c, double row_r, double row_c,
                                 int64_t w_out, int64_t h_in, int64_t w_in, int clamp, int span)
{
    const double r_max = (double)(h_in - 1), c_max = (double)(w_in - 1);
    const int32_t stride = (int32_t)w_in;
    int64_t c0 = 0, c1 = span ? w_out : 0;
    if (span) {
        ac_clip_columns(row_r, col_r, w_out, r_max, &c0, &c1);
        ac_clip_columns(row_c, col_c, w_out, c_max, &c0, &c1);
        while (c0 < c1 && !ac_inside(col_r, col_c, row_r, row_c, c0, r_max, c_max))
            c0++;
        while (c1 > c0 && !ac_inside(col_r, col_c, row_r, row_c, c1 - 1, r_max, c_max))
            c1--;
    }
    if (c0 >= c1) {
        ac_nearest_columns(index, col_r, col_c, row_r, row_c, 0, w_out, r_max, c_max, stride,
                           clamp);
        return;
    }
    ac_nearest_columns(index, col_r, col_c, row_r, row_c, 0, c0, r_max, c_max, stride, clamp);
    for (int64_t c = c0; c < c1; c++) {
        const double r = row_r + col_r[c] + 0.5, q = row_c + col_c[c] + 0.5;
        index[c] = (int32_t)r * stride + (int32_t)q;
    }
    ac_nearest_columns(index, col_r, col_c, row_r, row_c, c1, w_out, r_max, c_max, stride, clamp);
}

/* Order 1: for samples whose four taps are in bounds (0 <= x < n-1 on both axes) the first
 * tap's pixel index and first weights w0 = 1 - (x - floor(x)), which the clamps below leave
 * alone; -1 for the others (their weights are not used). With ``clamp`` (uint8, "nearest", both
 * sides >= 2) every sample is resolved: x clamped to [0, n-1] with the first tap kept <= n-2
 * gives the edge value with weight 1, which is what scipy's clamped taps sum to. */
AC_CLONES
static void ac_row_linear_index(int32_t *restrict index, double *restrict w_r,
                                double *restrict w_c, const double *restrict col_r,
                                const double *restrict col_c, double row_r, double row_c,
                                int64_t w_out, int64_t h_in, int64_t w_in, int clamp)
{
    const double r_last = (double)(h_in - 1), c_last = (double)(w_in - 1);
    const int32_t stride = (int32_t)w_in, r_top = (int32_t)(h_in - 2), c_top = (int32_t)(w_in - 2);
    for (int64_t c = 0; c < w_out; c++) {
        double r = row_r + col_r[c], q = row_c + col_c[c];
        const int inside = (r >= 0.0) & (r < r_last) & (q >= 0.0) & (q < c_last);
        r = r < 0.0 ? 0.0 : r;
        r = r > r_last ? r_last : r;
        q = q < 0.0 ? 0.0 : q;
        q = q > c_last ? c_last : q;
        int32_t r0 = (int32_t)r, c0 = (int32_t)q;
        r0 = r0 > r_top ? r_top : r0;
        c0 = c0 > c_top ? c_top : c0;
        w_r[c] = 1.0 - (r - (double)r0);
        w_c[c] = 1.0 - (q - (double)c0);
        index[c] = (clamp | inside) ? r0 * stride + c0 : -1;
    }
}

/* Order 1 on float32, scipy's taps exactly: per axis the first tap floor(x), weight
 * w0 = 1 - (x - floor(x)), the second tap a step of 1 further in bounds (0 <= x < n-1), else 0:
 * for "nearest" (``clamp``, every sample resolved) scipy clamps both taps to [0, n-1]. For
 * "constant" (``fill``) index -2 (FILL_SAMPLE in _warp.pyx) marks scipy's fill (x outside
 * [0, n-1]); -1 (UNRESOLVED) is left to the caller. */
AC_CLONES
static void ac_row_linear_taps(int32_t *restrict index, int32_t *restrict step_r,
                               int32_t *restrict step_c, double *restrict w_r,
                               double *restrict w_c, const double *restrict col_r,
                               const double *restrict col_c, double row_r, double row_c,
                               int64_t w_out, int64_t h_in, int64_t w_in, int clamp, int fill)
{
    const double r_last = (double)(h_in - 1), c_last = (double)(w_in - 1);
    const int32_t stride = (int32_t)w_in;
    for (int64_t c = 0; c < w_out; c++) {
        const double r = row_r + col_r[c], q = row_c + col_c[c];
        const double below_r = floor(r), below_c = floor(q);
        const int inside_r = (r >= 0.0) & (r < r_last), inside_c = (q >= 0.0) & (q < c_last);
        double tap_r = below_r < 0.0 ? 0.0 : below_r, tap_c = below_c < 0.0 ? 0.0 : below_c;
        tap_r = tap_r > r_last ? r_last : tap_r;
        tap_c = tap_c > c_last ? c_last : tap_c;
        w_r[c] = 1.0 - (r - below_r);
        w_c[c] = 1.0 - (q - below_c);
        step_r[c] = inside_r ? stride : 0;
        step_c[c] = inside_c;
        const int32_t first = (int32_t)tap_r * stride + (int32_t)tap_c;
        const int outside = (r < 0.0) | (r > r_last) | (q < 0.0) | (q > c_last);
        index[c] = (clamp | (inside_r & inside_c)) ? first : ((fill & outside) ? -2 : -1);
    }
}

/* Projective maps: the input coordinates of one output row, x = (row_r + t_r[c]) / w with
 * w = row_w + t_w[c] (the row terms m02 + r m00 etc., the tables c m01 etc.), a true division
 * (no reciprocal: that would change the last bit and flip .5 ties). Vectorises as it stands. */
AC_CLONES
static void ac_row_projective(double *restrict x_r, double *restrict x_c,
                              const double *restrict t_r, const double *restrict t_c,
                              const double *restrict t_w, double row_r, double row_c,
                              double row_w, int64_t w_out)
{
    for (int64_t c = 0; c < w_out; c++) {
        const double w = row_w + t_w[c];
        x_r[c] = (row_r + t_r[c]) / w;
        x_c[c] = (row_c + t_c[c]) / w;
    }
}

/* Ask for every step-th source pixel of a row of order-0 indices (a fill, -1, asks for pixel 0):
 * read-only, no temporal locality hint (the gather reads each pixel once or twice, soon). */
static inline void ac_prefetch_pixels(const unsigned char *src, const int32_t *index,
                                      int64_t w_out, int64_t pixel_bytes, int64_t step)
{
    for (int64_t c = 0; c < w_out; c += step) {
        const int64_t at = index[c] < 0 ? 0 : index[c];
        __builtin_prefetch(src + at * pixel_bytes, 0, 0);
    }
}

/* scipy's order-1 sum in double: t = 0; t += (v00 wr0) wc0; t += (v01 wr0) wc1;
 * t += (v10 wr1) wc0; t += (v11 wr1) wc1, with w1 = 1 - w0 (0 + (-0) is +0, as in scipy). */
static inline double ac_tap_sum(double v00, double v01, double v10, double v11, double wr0,
                                double wc0)
{
    const double wr1 = 1.0 - wr0, wc1 = 1.0 - wc0;
    double total = 0.0;
    total += (v00 * wr0) * wc0;
    total += (v01 * wr0) * wc1;
    total += (v10 * wr1) * wc0;
    total += (v11 * wr1) * wc1;
    return total;
}

#if defined(AC_DISPATCH)
#include <immintrin.h>
#define AC_AVX2 __attribute__((target("avx2")))

AC_AVX2 static inline __m256d ac_term(const float *p, __m256d w_row, __m256d w_col)
{
    return _mm256_mul_pd(_mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(p)), w_row), w_col);
}

/* The samples of a row with index >= 0 (ac_row_linear_taps), 3 or 4 float32 channels: ac_tap_sum
 * in one AVX lane per channel, the same bits. Loads read 4 floats: a 3-channel sample whose last
 * tap ends the image is summed channel by channel. */
AC_AVX2 static void ac_linear_f32_avx2(float *restrict out, const float *restrict src,
                                       const float *src_end, const int32_t *restrict index,
                                       const int32_t *step_r, const int32_t *step_c,
                                       const double *w_r, const double *w_c, int64_t w_out,
                                       int64_t channels)
{
    const __m256d one = _mm256_set1_pd(1.0);
    for (int64_t c = 0; c < w_out; c++) {
        if (index[c] < 0)
            continue;
        const float *p = src + (int64_t)index[c] * channels;
        const int64_t down = step_r[c] * channels, right = step_c[c] * channels;
        if (p + down + right + 4 > src_end) {
            for (int64_t ch = 0; ch < channels; ch++)
                out[c * channels + ch] = (float)ac_tap_sum(
                    p[ch], p[ch + right], p[ch + down], p[ch + down + right], w_r[c], w_c[c]);
            continue;
        }
        const __m256d wr0 = _mm256_set1_pd(w_r[c]), wc0 = _mm256_set1_pd(w_c[c]);
        const __m256d wr1 = _mm256_sub_pd(one, wr0), wc1 = _mm256_sub_pd(one, wc0);
        __m256d total = _mm256_add_pd(_mm256_setzero_pd(), ac_term(p, wr0, wc0));
        total = _mm256_add_pd(total, ac_term(p + right, wr0, wc1));
        total = _mm256_add_pd(total, ac_term(p + down, wr1, wc0));
        total = _mm256_add_pd(total, ac_term(p + down + right, wr1, wc1));
        const __m128 sum = _mm256_cvtpd_ps(total);
        float *o = out + c * channels;
        if (channels == 4) {
            _mm_storeu_ps(o, sum);
        } else { /* exactly 3 floats */
            _mm_storel_pi((__m64 *)o, sum);
            _mm_store_ss(o + 2, _mm_movehl_ps(sum, sum));
        }
    }
}
#endif

/* ac_linear_f32_avx2 where the build and the CPU allow it and there are 3 or 4 channels;
 * otherwise 0, with nothing written: the caller sums the samples itself. */
static inline int ac_linear_f32_lanes(float *out, const float *src, const float *src_end,
                                      const int32_t *index, const int32_t *step_r,
                                      const int32_t *step_c, const double *w_r,
                                      const double *w_c, int64_t w_out, int64_t channels)
{
#if defined(AC_DISPATCH)
    if ((channels == 3 || channels == 4) && __builtin_cpu_supports("avx2")) {
        ac_linear_f32_avx2(out, src, src_end, index, step_r, step_c, w_r, w_c, w_out, channels);
        return 1;
    }
#endif
    return 0;
}

#if defined(__SSE2__)
#include <emmintrin.h>

static inline __m128 ac_u8x4_times(const uint8_t *p, float weight)
{
    int32_t bytes;
    memcpy(&bytes, p, 4);
    const __m128i zero = _mm_setzero_si128();
    const __m128i wide = _mm_unpacklo_epi8(_mm_cvtsi32_si128(bytes), zero);
    return _mm_mul_ps(_mm_cvtepi32_ps(_mm_unpacklo_epi16(wide, zero)), _mm_set1_ps(weight));
}
#endif

/* Four uint8 channels of one bilinear sample, reading and writing 4 bytes each: per channel
 * ((p00 w00 + p01 w01) + (p10 w10 + p11 w11)) + 0.5 in float32, truncated and saturated. */
static inline void ac_bilinear_u8x4(uint8_t *out, const uint8_t *p00, const uint8_t *p01,
                                    const uint8_t *p10, const uint8_t *p11, float w00,
                                    float w01, float w10, float w11)
{
#if defined(__SSE2__)
    const __m128 top = _mm_add_ps(ac_u8x4_times(p00, w00), ac_u8x4_times(p01, w01));
    const __m128 bottom = _mm_add_ps(ac_u8x4_times(p10, w10), ac_u8x4_times(p11, w11));
    __m128i ints = _mm_cvttps_epi32(_mm_add_ps(_mm_add_ps(top, bottom), _mm_set1_ps(0.5f)));
    ints = _mm_packs_epi32(ints, ints);
    const uint32_t packed = (uint32_t)_mm_cvtsi128_si32(_mm_packus_epi16(ints, ints));
    memcpy(out, &packed, 4);
#else /* the same lanes one by one, e.g. on ARM */
    for (int k = 0; k < 4; k++) {
        const float sum = ((float)p00[k] * w00 + (float)p01[k] * w01) +
                          ((float)p10[k] * w10 + (float)p11[k] * w11) + 0.5f;
        out[k] = (uint8_t)(sum > 255.0f ? 255.0f : sum);
    }
#endif
}

#endif /* AUGCORE_WARP_SIMD_H */
