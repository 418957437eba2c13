/* The separable ("resize") rows of the warp kernel (augcore/_warp.pyx documents the rules and
 * when they are used; _warp_resize.pxi builds the per-axis tables): uint8 bilinear rows whose
 * row weights (a, a1) are one pair per output row and whose column taps and weights are tables
 * per value (a value is one channel of one pixel). Every value is computed with the float32
 * operations of the general kernel's uint8 lanes (ac_bilinear_u8x4), in the same order, so the
 * scalar reference, the AVX2 steps and the AVX-512 ones give the general kernel's bytes; no FMA
 * (targets without it, and -ffp-contract=off), no approximate instructions. The AVX-512 steps
 * (_warp_wide.h: F, BW and VBMI, picked at run time) take 16 values (order 0: 64 bytes) a step,
 * vpermb picking the taps out of 64 bytes (vpermt2b: 128), the last step partial: on Zen 4
 * (double-pumped 512-bit units: fewer instructions, not wider arithmetic) bench/canvas.py's
 * kernel rows measured -13 to -20 % for bilinear, about -10 % for nearest. */
#ifndef AUGCORE_WARP_RESIZE_H
#define AUGCORE_WARP_RESIZE_H

#include "_warp_simd.h"
#include "_warp_wide.h"

/* Values per AVX2 step: two windows of four values, one per 128-bit lane. */
#define AC_RESIZE_STEP 8
/* Bytes of the pshufb controls of one step: the first taps' lanes, then the second taps'. */
#define AC_RESIZE_MASK_BYTES 64

/* The scalar reference: one value from its first tap ``at`` in rows p0 (weight a) and p1
 * (weight a1), the second tap ``right`` bytes further, column weights b and b1:
 * ((v00 w00 + v01 w01) + (v10 w10 + v11 w11)) + 0.5 in float32, w00 = a b etc., truncated. */
static inline uint8_t ac_resize_u8_value(const uint8_t *p0, const uint8_t *p1, int32_t at,
                                         int32_t right, float a, float a1, float b, float b1)
{
    const float w00 = a * b, w01 = a * b1, w10 = a1 * b, w11 = a1 * b1;
    const float top = (float)p0[at] * w00 + (float)p0[at + right] * w01;
    const float bottom = (float)p1[at] * w10 + (float)p1[at + right] * w11;
    const float sum = (top + bottom) + 0.5f;
    return (uint8_t)(sum > 255.0f ? 255.0f : sum);
}

static inline int ac_window(const int32_t *tap, int n, int32_t reach, int32_t *base)
{
    return ac_window_of(tap, n, reach, 16, base);
}

/* The AVX2 plan of a row of ``count`` values with first taps at[j]: for each window of four
 * values (the first 8 * (count / 8) values), the smallest byte it reads (base) and pshufb
 * controls picking each value's two taps from the 16 bytes there, zero-extended to 32 bits.
 * 0 when some window spans more than 16 bytes (a shrink by about 2 or more without the box
 * reduce): the caller then uses the scalar rows. */
static inline int ac_resize_u8_plan(int32_t *restrict base, uint8_t *restrict masks,
                                    const int32_t *restrict at, int64_t count, int32_t right)
{
    const int64_t windows = 2 * (count / AC_RESIZE_STEP);
    for (int64_t w = 0; w < windows; w++) {
        const int32_t *tap = at + 4 * w;
        if (!ac_window(tap, 4, right, base + w))
            return 0;
        const int32_t lo = base[w];
        uint8_t *first = masks + (w / 2) * AC_RESIZE_MASK_BYTES + (w % 2) * 16;
        uint8_t *second = first + 32;
        for (int i = 0; i < 4; i++) {
            memset(first + 4 * i, 0x80, 4);
            memset(second + 4 * i, 0x80, 4);
            first[4 * i] = (uint8_t)(tap[i] - lo);
            second[4 * i] = (uint8_t)(tap[i] + right - lo);
        }
    }
    return 1;
}

/* Ask for bytes [from, to) of a source row, a cache line at a time: a later output row's
 * source rows, so that DRAM latency overlaps the arithmetic (cold 512x512 sources). */
static inline void ac_prefetch_span(const uint8_t *row, int64_t from, int64_t to)
{
    for (int64_t at = from; at < to; at += 64)
        __builtin_prefetch(row + at, 0, 1);
}

#if defined(AC_DISPATCH)
AC_AVX2 static inline __m256 ac_resize_taps(__m256i window, const uint8_t *mask)
{
    const __m256i control = _mm256_loadu_si256((const __m256i *)mask);
    return _mm256_cvtepi32_ps(_mm256_shuffle_epi8(window, control));
}

AC_AVX2 static inline __m256i ac_resize_window(const uint8_t *row, int32_t lo, int32_t hi)
{
    const __m128i low = _mm_loadu_si128((const __m128i *)(row + lo));
    return _mm256_inserti128_si256(_mm256_castsi128_si256(low),
                                   _mm_loadu_si128((const __m128i *)(row + hi)), 1);
}

/* ac_resize_u8_value on 8 values a step, as planned by ac_resize_u8_plan. Reads 16 bytes from
 * each window's base in p0 and p1: the caller makes sure they exist. */
AC_AVX2 static void ac_resize_u8_steps(uint8_t *restrict out, const uint8_t *p0,
                                       const uint8_t *p1, const int32_t *restrict base,
                                       const uint8_t *restrict masks, const float *restrict b,
                                       const float *restrict b1, int64_t steps, float a, float a1)
{
    const __m256 va = _mm256_set1_ps(a), va1 = _mm256_set1_ps(a1), half = _mm256_set1_ps(0.5f);
    for (int64_t q = 0; q < steps; q++) {
        const int32_t lo = base[2 * q], hi = base[2 * q + 1];
        const uint8_t *mask = masks + q * AC_RESIZE_MASK_BYTES;
        const __m256i top_row = ac_resize_window(p0, lo, hi);
        const __m256i bottom_row = ac_resize_window(p1, lo, hi);
        const __m256 vb = _mm256_loadu_ps(b + AC_RESIZE_STEP * q);
        const __m256 vb1 = _mm256_loadu_ps(b1 + AC_RESIZE_STEP * q);
        const __m256 top = _mm256_add_ps(
            _mm256_mul_ps(ac_resize_taps(top_row, mask), _mm256_mul_ps(va, vb)),
            _mm256_mul_ps(ac_resize_taps(top_row, mask + 32), _mm256_mul_ps(va, vb1)));
        const __m256 bottom = _mm256_add_ps(
            _mm256_mul_ps(ac_resize_taps(bottom_row, mask), _mm256_mul_ps(va1, vb)),
            _mm256_mul_ps(ac_resize_taps(bottom_row, mask + 32), _mm256_mul_ps(va1, vb1)));
        const __m256i ints = _mm256_cvttps_epi32(_mm256_add_ps(_mm256_add_ps(top, bottom), half));
        const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(ints),
                                              _mm256_extracti128_si256(ints, 1));
        _mm_storel_epi64((__m128i *)(out + AC_RESIZE_STEP * q), _mm_packus_epi16(words, words));
    }
}
#endif

/* The plan of a row's steps: its width in values (16 with AVX-512 and VBMI, else 8), or 0. */
static inline int ac_resize_u8_plan_any(int32_t *restrict base, uint64_t *restrict loads,
                                        uint8_t *restrict masks, const int32_t *restrict at,
                                        int64_t count, int32_t right, int64_t row_bytes,
                                        int wide)
{
    if (wide && ac_resize_has_wide() &&
        ac_resize_u8_plan_wide(base, loads, masks, at, count, right, row_bytes))
        return AC_WIDE_STEP;
    return ac_resize_u8_plan(base, masks, at, count, right) ? AC_RESIZE_STEP : 0;
}

/* Order 0's plan: the output row's ``count`` bytes (first[j]: the source byte of each) in
 * windows of 8, each read from the 16 source bytes at its base; 0 when some window spans more
 * (a shrink by about 2 or more) or there is not one whole step of 16 bytes. */
static inline int ac_resize_bytes_plan(int32_t *restrict base, uint8_t *restrict masks,
                                       const int32_t *restrict at, int64_t count)
{
    const int64_t windows = 2 * (count / 16);
    if (windows == 0)
        return 0;
    for (int64_t w = 0; w < windows; w++) {
        const int32_t *tap = at + 8 * w;
        if (!ac_window(tap, 8, 0, base + w))
            return 0;
        const int32_t lo = base[w];
        uint8_t *mask = masks + w * 16;
        memset(mask, 0x80, 16);
        for (int i = 0; i < 8; i++)
            mask[i] = (uint8_t)(tap[i] - lo);
    }
    return 1;
}

#if defined(AC_DISPATCH)
/* 16 output bytes a step as planned by ac_resize_bytes_plan (reads 16 bytes at each base). */
AC_AVX2 static void ac_resize_bytes_steps(uint8_t *restrict out, const uint8_t *row,
                                          const int32_t *restrict base,
                                          const uint8_t *restrict masks, int64_t steps)
{
    for (int64_t q = 0; q < steps; q++) {
        const __m256i window = ac_resize_window(row, base[2 * q], base[2 * q + 1]);
        const __m256i control = _mm256_loadu_si256((const __m256i *)(masks + 32 * q));
        const __m256i picked = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(window, control), 8);
        _mm_storeu_si128((__m128i *)(out + 16 * q), _mm256_castsi256_si128(picked));
    }
}

#else /* no AVX2 here: ac_resize_has_steps() is 0, so no row has steps */
static inline void ac_resize_u8_steps(uint8_t *out, const uint8_t *p0, const uint8_t *p1,
                                      const int32_t *base, const uint8_t *masks, const float *b,
                                      const float *b1, int64_t steps, float a, float a1)
{
}

static inline void ac_resize_bytes_steps(uint8_t *out, const uint8_t *row, const int32_t *base,
                                         const uint8_t *masks, int64_t steps)
{
}

#endif

/* The plan of an order-0 row's steps: its width in bytes (64 with AVX-512 and VBMI, else 16),
 * or 0. */
static inline int ac_resize_bytes_plan_any(int32_t *restrict base, uint64_t *restrict loads,
                                           uint8_t *restrict masks, const int32_t *restrict at,
                                           int64_t count, int64_t row_bytes, int wide)
{
    if (wide && ac_resize_has_wide() &&
        ac_resize_bytes_plan_wide(base, loads, masks, at, count, row_bytes))
        return AC_BYTES_WIDE;
    return ac_resize_bytes_plan(base, masks, at, count) ? 16 : 0;
}

/* One order-0 output row of ``count`` bytes: out[j] = row[at[j]], 16 bytes a step where planned
 * (``steps`` > 0, AVX2 builds only), the rest one by one. */
static inline void ac_resize_bytes_row(uint8_t *restrict out, const uint8_t *row,
                                       const int32_t *restrict at, int64_t count,
                                       const int32_t *base, const uint64_t *loads,
                                       const uint8_t *masks, int width)
{
    int64_t j = 0;
    if (width == AC_BYTES_WIDE) {
        ac_resize_bytes_wide(out, row, base, loads, masks, count);
        return;
    }
    if (width == 16) {
        ac_resize_bytes_steps(out, row, base, masks, count / 16);
        j = count - count % 16;
    }
    for (; j < count; j++)
        out[j] = row[at[j]];
}

/* Whether this build and CPU run the AVX2 steps. */
static inline int ac_resize_has_steps(void)
{
#if defined(AC_DISPATCH)
    return __builtin_cpu_supports("avx2");
#else
    return 0;
#endif
}

/* One output row of ``count`` values: the first 8 * ``steps`` by the AVX2 steps (steps 0 when
 * there is no plan), the rest by the scalar reference. */
static inline void ac_resize_u8_row(uint8_t *restrict out, const uint8_t *p0, const uint8_t *p1,
                                    const int32_t *restrict at, const float *restrict b,
                                    const float *restrict b1, int64_t count, int32_t right,
                                    float a, float a1, const int32_t *base,
                                    const uint64_t *loads, const uint8_t *masks, int width)
{
    int64_t j = 0;
    if (width == AC_WIDE_STEP) {
        ac_resize_u8_wide(out, p0, p1, base, loads, masks, b, b1, count, a, a1);
        return;
    }
    if (width == AC_RESIZE_STEP) {
        ac_resize_u8_steps(out, p0, p1, base, masks, b, b1, count / width, a, a1);
        j = count - count % width;
    }
    for (; j < count; j++)
        out[j] = ac_resize_u8_value(p0, p1, at[j], right, a, a1, b[j], b1[j]);
}

#endif /* AUGCORE_WARP_RESIZE_H */
