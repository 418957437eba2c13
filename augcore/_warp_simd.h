/* What Cython cannot express of the warp kernel (augcore/_warp.pyx, which documents its
 * exactness rules): the index passes, compiled twice and picked at run time by GCC's
 * target_clones (AVX2 implies no FMA, so both clones compute the same bits), and SSE2 lanes
 * interpolating four uint8 channels at once. */
#ifndef AUGCORE_WARP_SIMD_H
#define AUGCORE_WARP_SIMD_H

#include <stdint.h>
#include <string.h>

/* Build with -DAUGCORE_NO_CPU_DISPATCH to compile only the baseline code (e.g. to test it). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__) && \
    !defined(AUGCORE_NO_CPU_DISPATCH)
#define AC_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define AC_CLONES
#endif

/* Order 0: pixel index r * w_in + c of each sample of an output row, or -1 where it is not in
 * bounds (0 <= x <= n-1, unrounded, as scipy tests it) and the mode is not "nearest". In bounds
 * floor(x + 0.5) is a truncation; for "nearest" (``clamp``) the clamp of x + 0.5 to [0, n-1]
 * before truncating is exactly scipy's tap clamp. Branch-free, so it vectorises. */
AC_CLONES
static void ac_row_nearest_index(int32_t *restrict index, const double *restrict col_r,
                                 const double *restrict col_c, double row_r, double row_c,
                                 int64_t w_out, int64_t h_in, int64_t w_in, int clamp)
{
    const double r_max = (double)(h_in - 1), c_max = (double)(w_in - 1);
    const int32_t stride = (int32_t)w_in;
    if (clamp) {
        for (int64_t c = 0; c < w_out; c++) {
            double r = row_r + col_r[c] + 0.5, q = row_c + col_c[c] + 0.5;
            r = r < 0.0 ? 0.0 : r;
            r = r > r_max ? r_max : r;
            q = q < 0.0 ? 0.0 : q;
            q = q > c_max ? c_max : q;
            index[c] = (int32_t)r * stride + (int32_t)q;
        }
        return;
    }
    for (int64_t c = 0; c < w_out; c++) {
        const double r = row_r + col_r[c], q = row_c + col_c[c];
        const int inside = (r >= 0.0) & (r <= r_max) & (q >= 0.0) & (q <= c_max);
        const double rr = inside ? r + 0.5 : 0.0, qq = inside ? q + 0.5 : 0.0;
        index[c] = inside ? (int32_t)rr * stride + (int32_t)qq : -1;
    }
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
