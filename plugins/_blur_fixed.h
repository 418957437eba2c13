/* The uint8 path of the Gaussian blur of plugins/_kernels.pxi: 16-bit fixed point.
 *
 * Weights become integers W = round(w * 2**16) (the centre one set so that they sum to
 * exactly 2**16, so a flat image stays flat), each product is the high half of a 16 x 16-bit
 * unsigned product (pmulhuw: sixteen values per AVX2 instruction, eight per SSE2 one, where
 * the float path does eight or four), and values between the passes are kept with 7
 * fractional bits:
 *     column pass  v = sum over taps of ((x_up + x_down) << 7) * W >> 16   (<= 255 << 7)
 *     row pass     r = sum over taps of (v_left + v_right) * W >> 16
 *     result       (r + half + 1 + 64) >> 7
 * (half + 1 adds back the mean loss of the 2 (half + 1) truncated products). The sums never
 * exceed 16 bits because the weights sum to 2**16. Against the float32 computation each
 * result is off by at most (half + 1) / 128 + 2**-9 * size levels before rounding, so a value
 * differs by one level only where the exact value is that close to a half: about 1% of
 * values for kernel 9. Kernels larger than MAX_SIZE, or whose centre weight rounds to 2**16,
 * take the float path (_blur.h).
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

/* W from w: 0 on success, -1 when this kernel takes the float path. */
static int fixed_weights(const float *w, long size, uint16_t *weights) {
    long half = size / 2, total = 0;
    if (size > FIXED_MAX_SIZE) return -1;
    for (long t = 0; t < half; t++) {
        double scaled = (double)w[t] * 65536.0 + 0.5;
        if (!(scaled >= 0.0 && scaled < 32768.0)) return -1;
        weights[t] = (uint16_t)(long)scaled;
        total += 2 * weights[t];
    }
    if (total > 65535 - 1 || 65536 - total > 65535) return -1;
    weights[half] = (uint16_t)(65536 - total);
    return 0;
}

/* Values [from, to) of the column pass of one output row: rows[t] is the input row of tap t. */
static void fixed_columns(uint16_t *dst, const uint8_t *const *rows, const uint16_t *weights,
                          long half, long from, long to) {
    long j = from;
#if FIXED_LANES
    for (; j + FIXED_LANES <= to; j += FIXED_LANES) {
        fixed_v acc = fixed_mulhi(fixed_shl(fixed_load_u8(rows[half] + j), FIXED_BITS),
                                  fixed_set(weights[half]));
        for (long t = 0; t < half; t++) {
            fixed_v pair = fixed_add(fixed_load_u8(rows[t] + j),
                                     fixed_load_u8(rows[2 * half - t] + j));
            acc = fixed_add(acc, fixed_mulhi(fixed_shl(pair, FIXED_BITS), fixed_set(weights[t])));
        }
        fixed_store(dst + j, acc);
    }
#endif
    for (; j < to; j++) {
        uint32_t acc = fixed_mulhi1((uint32_t)rows[half][j] << FIXED_BITS, weights[half]);
        for (long t = 0; t < half; t++) {
            uint32_t pair = (uint32_t)rows[t][j] + rows[2 * half - t][j];
            acc += fixed_mulhi1(pair << FIXED_BITS, weights[t]);
        }
        dst[j] = (uint16_t)acc;
    }
}

/* Values [0, count) of the row pass over the padded row mid (centre at mid + half * c). */
static void fixed_rows(uint8_t *dst, const uint16_t *mid, long c, const uint16_t *weights,
                       long half, long count) {
    const uint16_t *centre = mid + half * c;
    uint16_t round = (uint16_t)(half + 1 + (1 << (FIXED_BITS - 1)));
    long j = 0;
#if FIXED_LANES
    for (; j + FIXED_LANES <= count; j += FIXED_LANES) {
        fixed_v acc = fixed_mulhi(fixed_load(centre + j), fixed_set(weights[half]));
        for (long t = 0; t < half; t++) {
            fixed_v pair = fixed_add(fixed_load(mid + t * c + j),
                                     fixed_load(mid + (2 * half - t) * c + j));
            acc = fixed_add(acc, fixed_mulhi(pair, fixed_set(weights[t])));
        }
        fixed_store_u8(dst + j, fixed_shr(fixed_add(acc, fixed_set(round)), FIXED_BITS));
    }
#endif
    for (; j < count; j++) {
        uint32_t acc = fixed_mulhi1(centre[j], weights[half]);
        for (long t = 0; t < half; t++) {
            uint32_t pair = (uint32_t)mid[t * c + j] + mid[(2 * half - t) * c + j];
            acc += fixed_mulhi1(pair, weights[t]);
        }
        dst[j] = (uint8_t)((acc + round) >> FIXED_BITS);
    }
}

/* One uint8 image blurred into out: the fixed-point path, or the float one (_blur.h) when
 * the kernel does not fit it. */
static void blur_image_uint8(blur_scratch *s, const uint8_t *image, uint8_t *out,
                             const float *w) {
    uint16_t weights[FIXED_MAX_SIZE / 2 + 1];
    long half = s->size / 2, c = s->channels, line = s->line;
    uint16_t *row = s->mid + half * c;
    if (fixed_weights(w, s->size, weights)) {
        blur_image_u8(s, image, out, w);
        return;
    }
    for (long y = 0; y < s->height; y++) {
        for (long t = 0; t < s->size; t++)
            s->rows[t] = image + blur_mirror(y + t - half, s->height) * line;
        fixed_columns(row, s->rows, weights, half, 0, line);
        for (long x = 0; x < half; x++) {
            long left = blur_mirror(x - half, s->width) * c;
            long right = blur_mirror(s->width + x, s->width) * c;
            for (long k = 0; k < c; k++) {
                s->mid[x * c + k] = row[left + k];
                row[line + x * c + k] = row[right + k];
            }
        }
        fixed_rows(out + y * line, s->mid, c, weights, half, line);
    }
}

#endif
