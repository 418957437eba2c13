/* The uint8 path of the Gaussian blur of plugins/_kernels.pxi: 16-bit fixed point.
 *
 * Weights become integers W = round(w * 2**16) (the centre one set so that they sum to
 * exactly 2**16, so a flat image stays flat), each product is the high half of a 16 x 16-bit
 * unsigned product (pmulhuw: sixteen values per AVX2 instruction, eight per SSE2 one, twice
 * the float path's), and values are kept with 7 fractional bits between the passes:
 *     rows in          x << 7                                          (each row once)
 *     column pass  v = sum over taps of (x_up + x_down) * W >> 16     (<= 255 << 7)
 *     row pass     r = sum over taps of (v_left + v_right) * W >> 16
 *     result       (r + n + 64) >> 7
 * (n adds back the mean loss of the truncated products: n = 1 + the nonzero W of one side,
 * half of one unit per product, two passes). No sum exceeds
 * 16 bits, because the weights sum to 2**16. Before rounding, each result is off the exact
 * blur by at most size / 128 levels (the weights' rounding, half / 256 per pass, and the
 * truncations, (half + 1) / 128, all one way; typically a few thousandths), so a value
 * differs by one level only where the exact value is that close to a half: about 1% of
 * values for kernel 9. Kernels longer than FIXED_MAX_SIZE, or whose centre weight rounds to 2**16, take
 * the float path (_blur.h), whose ring, padded row and mirrored ends this path shares.
 *
 * Everything is integer arithmetic: the AVX2, SSE2 and scalar loops compute the same
 * bytes; the scalar one also finishes rows that are not whole vectors.
 */
#ifndef AUGCORE_BLUR_FIXED_H
#define AUGCORE_BLUR_FIXED_H

#include "_blur.h"

#if defined(__AVX2__)
#include <immintrin.h>
#define FIXED_LANES 16
typedef __m256i fixed_v;
#define fixed_load_u8(p) _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(p)))
#define fixed_load(p) _mm256_loadu_si256((const __m256i *)(p))
#define fixed_store(p, v) _mm256_storeu_si256((__m256i *)(p), v)
#define fixed_set(x) _mm256_set1_epi16((short)(x))
#define fixed_add _mm256_add_epi16
#define fixed_mulhi _mm256_mulhi_epu16
#define fixed_shl _mm256_slli_epi16
#define fixed_shr _mm256_srli_epi16
static inline void fixed_store_u8(uint8_t *p, fixed_v v) {
    __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi16(v, v), 0x08);
    _mm_storeu_si128((__m128i *)p, _mm256_castsi256_si128(packed));
}
#elif defined(__SSE2__)
#include <emmintrin.h>
#define FIXED_LANES 8
typedef __m128i fixed_v;
#define fixed_load_u8(p) \
    _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(p)), _mm_setzero_si128())
#define fixed_load(p) _mm_loadu_si128((const __m128i *)(p))
#define fixed_store(p, v) _mm_storeu_si128((__m128i *)(p), v)
#define fixed_set(x) _mm_set1_epi16((short)(x))
#define fixed_add _mm_add_epi16
#define fixed_mulhi _mm_mulhi_epu16
#define fixed_shl _mm_slli_epi16
#define fixed_shr _mm_srli_epi16
static inline void fixed_store_u8(uint8_t *p, fixed_v v) {
    _mm_storel_epi64((__m128i *)p, _mm_packus_epi16(v, v));
}
#else
#define FIXED_LANES 0 /* the scalar loops do everything */
#endif

#define FIXED_MAX_SIZE 31
#define FIXED_BITS 7 /* fractional bits between the passes */

static inline uint16_t fixed_mulhi1(uint32_t a, uint32_t w) { return (uint16_t)((a * w) >> 16); }

/* W from w, and the row pass's rounding constant: half a level plus the mean loss of the
 * truncated products (half a unit each; a zero weight loses nothing), or 0 when this
 * kernel takes the float path: longer than FIXED_MAX_SIZE, a weight outside [0, 1), or
 * weights that do not sum to 1 (the centre W, set to make the sum exact, would not be w's). */
static uint16_t fixed_weights(const float *w, long size, uint16_t *weights) {
    long half = size / 2, total = 0, products = 2;
    double centre = (double)w[half] * 65536.0;
    if (size > FIXED_MAX_SIZE) return 0;
    for (long t = 0; t < half; t++) {
        double scaled = (double)w[t] * 65536.0 + 0.5;
        if (!(scaled >= 0.0 && scaled < 32768.0)) return 0;
        weights[t] = (uint16_t)(long)scaled;
        total += 2 * weights[t];
        products += 2 * (weights[t] > 0);
    }
    if (total > 65535 - 1 || 65536 - total > 65535) return 0;
    if (!(centre - (double)(65536 - total) <= half + 1 && (65536 - total) - centre <= half + 1))
        return 0;
    weights[half] = (uint16_t)(65536 - total);
    return (uint16_t)(products / 2 + (1 << (FIXED_BITS - 1)));
}

/* The loops below take half as an argument; each is instantiated once per half in 1..15
 * (FIXED_EACH_HALF) so that the taps unroll and their weights and rows sit in registers. */
#define FIXED_INLINE static inline __attribute__((always_inline))
#define FIXED_CASE(CALL, HALF) \
    case HALF:                 \
        CALL(HALF);            \
        break;
#define FIXED_EACH_HALF(CALL)                                                                 \
    switch (half) {                                                                           \
        FIXED_CASE(CALL, 1) FIXED_CASE(CALL, 2) FIXED_CASE(CALL, 3) FIXED_CASE(CALL, 4)       \
        FIXED_CASE(CALL, 5) FIXED_CASE(CALL, 6) FIXED_CASE(CALL, 7) FIXED_CASE(CALL, 8)       \
        FIXED_CASE(CALL, 9) FIXED_CASE(CALL, 10) FIXED_CASE(CALL, 11) FIXED_CASE(CALL, 12)    \
        FIXED_CASE(CALL, 13) FIXED_CASE(CALL, 14) FIXED_CASE(CALL, 15)                        \
    }

/* One pass over values [0, count): the sum over the taps of (tap[t] + tap[2 half - t]) * W[t]
 * (the centre tap[half] once), stored as 16-bit values (the column pass) or, when ``final``,
 * as uint8 results (the row pass: (sum + round) >> FIXED_BITS). Returns where the vectors
 * stopped. */
FIXED_INLINE long fixed_vectors(void *dst, const uint16_t *const *tap, const uint16_t *weights,
                                long half, long count, int final, uint16_t round) {
    long j = 0;
#if FIXED_LANES
    const uint16_t *p[FIXED_MAX_SIZE];
    fixed_v w[FIXED_MAX_SIZE / 2 + 1];
    for (long t = 0; t <= 2 * half; t++) p[t] = tap[t];
    for (long t = 0; t <= half; t++) w[t] = fixed_set(weights[t]);
    for (; j + FIXED_LANES <= count; j += FIXED_LANES) {
        fixed_v acc = fixed_mulhi(fixed_load(p[half] + j), w[half]);
        for (long t = 0; t < half; t++) {
            fixed_v pair = fixed_add(fixed_load(p[t] + j), fixed_load(p[2 * half - t] + j));
            acc = fixed_add(acc, fixed_mulhi(pair, w[t]));
        }
        if (final)
            fixed_store_u8((uint8_t *)dst + j, fixed_shr(fixed_add(acc, fixed_set(round)),
                                                         FIXED_BITS));
        else
            fixed_store((uint16_t *)dst + j, acc);
    }
#endif
    return j;
}

/* The column pass (round 0) or the row pass, whose results are (sum + round) >> FIXED_BITS. */
static void fixed_pass(void *dst, const uint16_t *const *tap, const uint16_t *weights,
                       long half, long count, uint16_t round) {
    int final = round != 0;
    long j = 0;
#define FIXED_COLUMNS(HALF) j = fixed_vectors(dst, tap, weights, HALF, count, 0, 0)
#define FIXED_ROWS(HALF) j = fixed_vectors(dst, tap, weights, HALF, count, 1, round)
    if (final) {
        FIXED_EACH_HALF(FIXED_ROWS)
    } else {
        FIXED_EACH_HALF(FIXED_COLUMNS)
    }
    for (; j < count; j++) {
        uint32_t acc = fixed_mulhi1(tap[half][j], weights[half]);
        for (long t = 0; t < half; t++)
            acc += fixed_mulhi1((uint32_t)tap[t][j] + tap[2 * half - t][j], weights[t]);
        if (final)
            ((uint8_t *)dst)[j] = (uint8_t)((acc + round) >> FIXED_BITS);
        else
            ((uint16_t *)dst)[j] = (uint16_t)acc;
    }
}

/* Row ``source`` of the image as 16-bit values with FIXED_BITS fractional bits. */
static void fixed_row(uint16_t *dst, const uint8_t *source, long count) {
    long j = 0;
#if FIXED_LANES
    for (; j + FIXED_LANES <= count; j += FIXED_LANES)
        fixed_store(dst + j, fixed_shl(fixed_load_u8(source + j), FIXED_BITS));
#endif
    for (; j < count; j++) dst[j] = (uint16_t)(source[j] << FIXED_BITS);
}

/* One uint8 image blurred into out: the fixed-point path, or the float one (_blur.h) when
 * the kernel does not fit it. Not inlined: compiled on its own rather than inside Cython's
 * large wrapper, its loops keep their registers (measured: a third faster). */
__attribute__((noinline)) static void blur_image_uint8(blur_scratch *s, const uint8_t *image,
                                                      uint8_t *out, const float *w) {
    uint16_t weights[FIXED_MAX_SIZE / 2 + 1];
    const uint16_t *columns[FIXED_MAX_SIZE], *rows[FIXED_MAX_SIZE];
    long half = s->size / 2, c = s->channels, line = s->line;
    uint16_t *ring = (uint16_t *)s->ring, *row = s->mid + half * c;
    uint16_t round = fixed_weights(w, s->size, weights);
    if (!round) {
        blur_image_u8(s, image, out, w);
        return;
    }
    for (long t = 0; t < s->size; t++) {
        s->held[t] = -1;
        rows[t] = s->mid + t * c;
    }
    for (long y = 0; y < s->height; y++) {
        for (long t = 0; t < s->size; t++) {
            long source = blur_mirror(y + t - half, s->height), slot = source % s->size;
            columns[t] = ring + slot * s->stride;
            if (s->held[slot] != source) {
                s->held[slot] = source;
                fixed_row(ring + slot * s->stride, image + source * line, line);
            }
        }
        fixed_pass(row, columns, weights, half, line, 0);
        for (long x = 0; x < half; x++) {
            long left = blur_mirror(x - half, s->width) * c;
            long right = blur_mirror(s->width + x, s->width) * c;
            for (long k = 0; k < c; k++) {
                s->mid[x * c + k] = row[left + k];
                row[line + x * c + k] = row[right + k];
            }
        }
        fixed_pass(out + y * line, rows, weights, half, line, round);
    }
}

#endif
