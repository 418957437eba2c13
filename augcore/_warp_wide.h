/* The AVX-512 steps of the separable rows (_warp_resize.h includes this and documents them):
 * F, BW and VBMI, picked at run time, on the scalar reference's float32 operations in the same
 * order. Loads go through load masks that stop at the source row's end, so no step reads a byte
 * past it, and a row's last step may be partial (store masks). */
#ifndef AUGCORE_WARP_WIDE_H
#define AUGCORE_WARP_WIDE_H

#include "_warp_simd.h"

/* Whether ``n`` taps, each reading up to ``reach`` bytes further, fit the ``span`` bytes from
 * the smallest of them, stored in *base. */
static inline int ac_window_of(const int32_t *tap, int n, int32_t reach, int32_t span,
                               int32_t *base)
{
    int32_t lo = tap[0], hi = tap[0];
    for (int i = 1; i < n; i++) {
        lo = tap[i] < lo ? tap[i] : lo;
        hi = tap[i] > hi ? tap[i] : hi;
    }
    *base = lo;
    return hi + reach - lo < span;
}

/* Bytes per AVX-512 order-0 step: vpermt2b picks them from 128 bytes of the source row. */
#define AC_BYTES_WIDE 64

/* The load mask of the bytes [from, from + 64) of a row of ``valid`` bytes. */
static inline uint64_t ac_load_mask(int64_t from, int64_t valid)
{
    const int64_t n = valid - from;
    return n >= 64 ? ~(uint64_t)0 : n <= 0 ? 0 : ((uint64_t)1 << n) - 1;
}

/* Order 0's AVX-512 plan: the ``count`` bytes in steps of 64 (the last one partial), each read
 * from the 128 source bytes at its base (loads: two load masks, stopping at the row's end); 0
 * when some step spans more. */
static inline int ac_resize_bytes_plan_wide(int32_t *restrict base, uint64_t *restrict loads,
                                            uint8_t *restrict masks,
                                            const int32_t *restrict at, int64_t count,
                                            int64_t row_bytes)
{
    for (int64_t q = 0; q * AC_BYTES_WIDE < count; q++) {
        const int32_t *tap = at + AC_BYTES_WIDE * q;
        const int64_t n = count - AC_BYTES_WIDE * q;
        const int taps = n < AC_BYTES_WIDE ? (int)n : AC_BYTES_WIDE;
        if (!ac_window_of(tap, taps, 0, 2 * AC_BYTES_WIDE, base + q))
            return 0;
        loads[2 * q] = ac_load_mask(0, row_bytes - base[q]);
        loads[2 * q + 1] = ac_load_mask(64, row_bytes - base[q]);
        for (int i = 0; i < AC_BYTES_WIDE; i++)
            masks[AC_BYTES_WIDE * q + i] = i < taps ? (uint8_t)(tap[i] - base[q]) : 0;
    }
    return 1;
}

/* Values per AVX-512 step, and the bytes of its vpermb controls (first taps, then second). */
#define AC_WIDE_STEP 16
#define AC_WIDE_MASK_BYTES 128

/* The AVX-512 plan of a row of ``count`` values in a source row of ``row_bytes``: for each
 * step of 16 values (the last one partial), the smallest byte it reads (base), the bytes of the
 * row from there (loads) and vpermb controls putting each value's two taps in byte 0 of its
 * 32-bit lane. 0 when some step spans more than 64 bytes. */
static inline int ac_resize_u8_plan_wide(int32_t *restrict base, uint64_t *restrict loads,
                                         uint8_t *restrict masks, const int32_t *restrict at,
                                         int64_t count, int32_t right, int64_t row_bytes)
{
    for (int64_t q = 0; q * AC_WIDE_STEP < count; q++) {
        const int32_t *tap = at + AC_WIDE_STEP * q;
        const int64_t n = count - AC_WIDE_STEP * q;
        const int taps = n < AC_WIDE_STEP ? (int)n : AC_WIDE_STEP;
        if (!ac_window_of(tap, taps, right, 64, base + q))
            return 0;
        loads[q] = ac_load_mask(0, row_bytes - base[q]);
        uint8_t *first = masks + q * AC_WIDE_MASK_BYTES, *second = first + 64;
        memset(first, 0, AC_WIDE_MASK_BYTES);
        for (int i = 0; i < taps; i++) {
            first[4 * i] = (uint8_t)(tap[i] - base[q]);
            second[4 * i] = (uint8_t)(tap[i] + right - base[q]);
        }
    }
    return 1;
}

#if defined(AC_DISPATCH)
#define AC_AVX512 __attribute__((target("avx2,avx512f,avx512bw,avx512vbmi")))

/* Byte 0 of every 32-bit lane: where vpermb puts each value's tap. */
#define AC_LANE_BYTES 0x1111111111111111ULL

AC_AVX512 static inline __m512 ac_wide_taps(__m512i window, const uint8_t *mask)
{
    const __m512i control = _mm512_loadu_si512((const void *)mask);
    return _mm512_cvtepi32_ps(_mm512_maskz_permutexvar_epi8(AC_LANE_BYTES, control, window));
}

/* One source row's half of the sum, v0 (a b) + v1 (a b1), as the reference orders it. */
AC_AVX512 static inline __m512 ac_wide_half(__m512i window, const uint8_t *mask, __m512 va,
                                            __m512 vb, __m512 vb1)
{
    return _mm512_add_ps(_mm512_mul_ps(ac_wide_taps(window, mask), _mm512_mul_ps(va, vb)),
                         _mm512_mul_ps(ac_wide_taps(window, mask + 64), _mm512_mul_ps(va, vb1)));
}

/* ac_resize_u8_value on the 16 values of step q, as the AVX2 steps compute them on twice the
 * lanes; ``keep`` masks the column weights' loads, past the row's end in its last step. */
AC_AVX512 static inline __m512i ac_wide_step(const uint8_t *p0, const uint8_t *p1,
                                             const int32_t *base, const uint64_t *loads,
                                             const uint8_t *masks, const float *b,
                                             const float *b1, int64_t q, __mmask16 keep,
                                             __m512 va, __m512 va1)
{
    const uint8_t *mask = masks + q * AC_WIDE_MASK_BYTES;
    const __m512i top_row = _mm512_maskz_loadu_epi8(loads[q], p0 + base[q]);
    const __m512i bottom_row = _mm512_maskz_loadu_epi8(loads[q], p1 + base[q]);
    const __m512 vb = _mm512_maskz_loadu_ps(keep, b + AC_WIDE_STEP * q);
    const __m512 vb1 = _mm512_maskz_loadu_ps(keep, b1 + AC_WIDE_STEP * q);
    const __m512 sum = _mm512_add_ps(ac_wide_half(top_row, mask, va, vb, vb1),
                                     ac_wide_half(bottom_row, mask, va1, vb, vb1));
    return _mm512_cvttps_epi32(_mm512_add_ps(sum, _mm512_set1_ps(0.5f)));
}

/* The ``count`` values of a row as planned by ac_resize_u8_plan_wide (vpmovusdb saturates as
 * the AVX2 steps' packs + packus do on these non-negative sums). */
AC_AVX512 static void ac_resize_u8_wide(uint8_t *restrict out, const uint8_t *p0,
                                        const uint8_t *p1, const int32_t *restrict base,
                                        const uint64_t *restrict loads,
                                        const uint8_t *restrict masks, const float *restrict b,
                                        const float *restrict b1, int64_t count, float a, float a1)
{
    const __m512 va = _mm512_set1_ps(a), va1 = _mm512_set1_ps(a1);
    const int64_t steps = count / AC_WIDE_STEP, rest = count % AC_WIDE_STEP;
    for (int64_t q = 0; q < steps; q++) {
        const __m512i ints = ac_wide_step(p0, p1, base, loads, masks, b, b1, q, 0xFFFF, va, va1);
        _mm_storeu_si128((__m128i *)(out + AC_WIDE_STEP * q), _mm512_cvtusepi32_epi8(ints));
    }
    if (rest) {
        const __mmask16 keep = (__mmask16)((1u << rest) - 1);
        const __m512i ints = ac_wide_step(p0, p1, base, loads, masks, b, b1, steps, keep, va, va1);
        _mm512_mask_cvtusepi32_storeu_epi8(out + AC_WIDE_STEP * steps, keep, ints);
    }
}

static inline int ac_resize_has_wide(void)
{
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vbmi");
}
#else
static inline void ac_resize_u8_wide(uint8_t *out, const uint8_t *p0, const uint8_t *p1,
                                     const int32_t *base, const uint64_t *loads,
                                     const uint8_t *masks, const float *b, const float *b1,
                                     int64_t count, float a, float a1)
{
}

static inline int ac_resize_has_wide(void)
{
    return 0;
}
#endif

#if defined(AC_DISPATCH)
/* 64 output bytes a step as planned by ac_resize_bytes_plan_wide, the last step's partial. */
AC_AVX512 static void ac_resize_bytes_wide(uint8_t *restrict out, const uint8_t *row,
                                           const int32_t *restrict base,
                                           const uint64_t *restrict loads,
                                           const uint8_t *restrict masks, int64_t count)
{
    for (int64_t q = 0; q * AC_BYTES_WIDE < count; q++) {
        const uint8_t *from = row + base[q];
        const __m512i low = _mm512_maskz_loadu_epi8(loads[2 * q], from);
        const __m512i high = _mm512_maskz_loadu_epi8(loads[2 * q + 1], from + 64);
        const __m512i control = _mm512_loadu_si512((const void *)(masks + AC_BYTES_WIDE * q));
        const __m512i picked = _mm512_permutex2var_epi8(low, control, high);
        _mm512_mask_storeu_epi8(out + AC_BYTES_WIDE * q,
                                ac_load_mask(AC_BYTES_WIDE * q, count), picked);
    }
}
#else
static inline void ac_resize_bytes_wide(uint8_t *out, const uint8_t *row, const int32_t *base,
                                        const uint64_t *loads, const uint8_t *masks,
                                        int64_t count)
{
}
#endif

#endif /* AUGCORE_WARP_WIDE_H */
