/* The colour blends of plugins/_kernels.pxi on planes of r, g, b values, and the luma sums
 * contrast needs, each one loop the compiler vectorises.
 *
 * Planes hold values on the image's scale (0..255 for uint8, 0..1 for float32); every blend
 * finishes its results (augcore_finish: clipped, and on uint8 rounded to a level), so the
 * next operation reads exactly the values a uint8 image would hold between two kernels.
 * Lumas are Pillow's integer one on uint8 ((19595 R + 38470 G + 7471 B + 2**15) >> 16: the
 * values are integers there, so the conversions to int are exact) and torchvision's float one
 * on float32, summed in pixel order.
 */
#ifndef AUGCORE_JITTER_H
#define AUGCORE_JITTER_H

#include "_hue.h"

#ifdef AUGCORE_LANES
/* augcore_finish on lanes: max then min are its two ternaries (NaN still becomes 0). */
static inline lanes finish_lanes(lanes value, lanes white, int levels) {
    value = lanes_min(lanes_max(value, lanes_set(0.0f)), white);
    return levels ? lanes_round(value) : value;
}

/* pixel_luma on lanes. On levels the integer formula is exact in float: every product, sum
 * and partial sum is an integer below 2**24, the shift a multiplication by 2**-16 and the
 * floor of a value >= 0 a truncation (SSE2 has no 32-bit integer multiply). */
static inline lanes luma_lanes(lanes r, lanes g, lanes b, int levels) {
    if (levels) {
        lanes sum = lanes_add(lanes_mul(r, lanes_set(19595.0f)), lanes_mul(g, lanes_set(38470.0f)));
        sum = lanes_add(lanes_add(sum, lanes_mul(b, lanes_set(7471.0f))), lanes_set(32768.0f));
        return lanes_truncate(lanes_mul(sum, lanes_set(1.0f / 65536.0f)));
    }
    lanes sum = lanes_add(lanes_mul(r, lanes_set(0.2989f)), lanes_mul(g, lanes_set(0.587f)));
    return lanes_add(sum, lanes_mul(b, lanes_set(0.114f)));
}
#endif

/* base + factor * (x - base) on one plane (brightness: base 0; contrast: the mean luma). */
static void blend_plane(float *restrict x, long count, float factor, float base, float white,
                        int levels) {
    long i = 0;
#ifdef AUGCORE_LANES
    const lanes f = lanes_set(factor), mean = lanes_set(base), top = lanes_set(white);
    for (; i + AUGCORE_LANES <= count; i += AUGCORE_LANES) {
        lanes v = lanes_mul(lanes_sub(lanes_load(x + i), mean), f);
        lanes_store(x + i, finish_lanes(lanes_add(v, mean), top, levels));
    }
#endif
    for (; i < count; i++) {
        x[i] = augcore_finish((x[i] - base) * factor + base, white, levels);
    }
}

static inline float pixel_luma(float r, float g, float b, int levels) {
    if (levels) {
        return (float)((19595 * (int)r + 38470 * (int)g + 7471 * (int)b + 32768) >> 16);
    }
    return r * 0.2989f + g * 0.587f + b * 0.114f;
}

/* Saturation: each pixel blended with its own luma (ImageEnhance.Color). */
static void blend_luma_planes(float *restrict r, float *restrict g, float *restrict b,
                              long count, float factor, float white, int levels) {
    long i = 0;
#ifdef AUGCORE_LANES
    const lanes f = lanes_set(factor), top = lanes_set(white);
    for (; i + AUGCORE_LANES <= count; i += AUGCORE_LANES) {
        lanes red = lanes_load(r + i), green = lanes_load(g + i), blue = lanes_load(b + i);
        lanes gray = luma_lanes(red, green, blue, levels);
        red = lanes_add(lanes_mul(lanes_sub(red, gray), f), gray);
        green = lanes_add(lanes_mul(lanes_sub(green, gray), f), gray);
        blue = lanes_add(lanes_mul(lanes_sub(blue, gray), f), gray);
        lanes_store(r + i, finish_lanes(red, top, levels));
        lanes_store(g + i, finish_lanes(green, top, levels));
        lanes_store(b + i, finish_lanes(blue, top, levels));
    }
#endif
    for (; i < count; i++) {
        float gray = pixel_luma(r[i], g[i], b[i], levels);
        r[i] = augcore_finish((r[i] - gray) * factor + gray, white, levels);
        g[i] = augcore_finish((g[i] - gray) * factor + gray, white, levels);
        b[i] = augcore_finish((b[i] - gray) * factor + gray, white, levels);
    }
}

/* The sum of the integer lumas of uint8 values (exact in float lanes: a lane adds at most
 * BLOCK / lanes lumas of 255, far below 2**24). */
static long long level_luma_sum(const float *restrict r, const float *restrict g,
                                const float *restrict b, long count, int channels) {
    long long total = 0;
    long i = 0;
#ifdef AUGCORE_LANES
    lanes sums = lanes_set(0.0f);
    for (; i + AUGCORE_LANES <= count; i += AUGCORE_LANES) {
        lanes red = lanes_load(r + i);
        sums = lanes_add(sums, channels == 3 ? luma_lanes(red, lanes_load(g + i),
                                                          lanes_load(b + i), 1) : red);
    }
    float lane_sums[AUGCORE_LANES];
    lanes_store(lane_sums, sums);
    for (int lane = 0; lane < AUGCORE_LANES; lane++) {
        total += (long long)lane_sums[lane];
    }
#endif
    for (; i < count; i++) {
        total += channels == 3 ? (int)pixel_luma(r[i], g[i], b[i], 1) : (int)r[i];
    }
    return total;
}

/* ``total`` plus the float lumas of float32 values, added one by one in pixel order. */
static double float_luma_sum(const float *restrict r, const float *restrict g,
                             const float *restrict b, long count, int channels, double total) {
    for (long i = 0; i < count; i++) {
        total += channels == 3 ? pixel_luma(r[i], g[i], b[i], 0) : r[i];
    }
    return total;
}

/* Interleaved uint8 RGB pixels to and from three float planes (plane p at planes + p stride). Only data moves, so any
 * instructions give the same floats and bytes: with AVX2, 16 pixels at a time (SSSE3 byte
 * shuffles, then widening conversions); the rest one by one. Planes back to bytes hold
 * integers in [0, 255] (finished values): the conversion is exact. */
/* shuffles[gather][s][d], for the AVX2 moves below: the byte shuffle moving what 16-byte
 * source s holds of destination d into place (128: a zero byte). Gathering (1), sources are
 * the chunks of 48 interleaved bytes and destinations the planes (0 r, 1 g, 2 b); scattering
 * (0), the other way round. Made once per kernel call. */
typedef uint8_t rgb_shuffle_table[2][3][3][16];

static void rgb_shuffles(rgb_shuffle_table shuffles) {
    for (int chunk = 0; chunk < 3; chunk++) {
        for (int plane = 0; plane < 3; plane++) {
            for (int k = 0; k < 16; k++) {
                int from = 3 * k + plane - 16 * chunk, to = 16 * chunk + k;
                shuffles[1][chunk][plane][k] = from >= 0 && from < 16 ? (uint8_t)from : 128;
                shuffles[0][plane][chunk][k] = to % 3 == plane ? (uint8_t)(to / 3) : 128;
            }
        }
    }
}

#ifdef __AVX2__
/* Destination d's 16 bytes: its shuffled bytes of each source, combined. */
static inline __m128i rgb_mix(const __m128i source[3], const uint8_t table[3][3][16], int d) {
    __m128i mixed = _mm_setzero_si128();
    for (int s = 0; s < 3; s++) {
        __m128i shuffle = _mm_loadu_si128((const __m128i *)table[s][d]);
        mixed = _mm_or_si128(mixed, _mm_shuffle_epi8(source[s], shuffle));
    }
    return mixed;
}

static inline __m128i plane_bytes(const float *plane) {
    __m256i low = _mm256_cvttps_epi32(_mm256_loadu_ps(plane));
    __m256i high = _mm256_cvttps_epi32(_mm256_loadu_ps(plane + 8));
    return _mm_packus_epi16(
        _mm_packus_epi32(_mm256_castsi256_si128(low), _mm256_extracti128_si256(low, 1)),
        _mm_packus_epi32(_mm256_castsi256_si128(high), _mm256_extracti128_si256(high, 1)));
}
#endif

static void rgb_to_planes(const uint8_t *restrict rgb, float *restrict planes, long stride,
                          long count, const rgb_shuffle_table shuffles) {
    long k = 0;
#ifdef __AVX2__
    for (; k + 16 <= count; k += 16) {
        const __m128i chunks[3] = {_mm_loadu_si128((const __m128i *)(rgb + 3 * k)),
                                   _mm_loadu_si128((const __m128i *)(rgb + 3 * k + 16)),
                                   _mm_loadu_si128((const __m128i *)(rgb + 3 * k + 32))};
        for (int plane = 0; plane < 3; plane++) {
            __m128i bytes = rgb_mix(chunks, shuffles[1], plane);
            float *target = planes + plane * stride + k;
            _mm256_storeu_ps(target, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes)));
            bytes = _mm_srli_si128(bytes, 8);
            _mm256_storeu_ps(target + 8, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes)));
        }
    }
#endif
    for (int plane = 0; plane < 3; plane++) {
        for (long rest = k; rest < count; rest++) {
            planes[plane * stride + rest] = rgb[3 * rest + plane];
        }
    }
}

static void planes_to_rgb(const float *restrict planes, long stride, uint8_t *restrict rgb,
                          long count, const rgb_shuffle_table shuffles) {
    long k = 0;
#ifdef __AVX2__
    __m128i bytes[3];
    for (; k + 16 <= count; k += 16) {
        for (int plane = 0; plane < 3; plane++) {
            bytes[plane] = plane_bytes(planes + plane * stride + k);
        }
        for (int chunk = 0; chunk < 3; chunk++) {
            __m128i mixed = rgb_mix(bytes, shuffles[0], chunk);
            _mm_storeu_si128((__m128i *)(rgb + 3 * k + 16 * chunk), mixed);
        }
    }
#endif
    for (; k < count; k++) {
        for (int plane = 0; plane < 3; plane++) {
            rgb[3 * k + plane] = (uint8_t)(int)planes[plane * stride + k];
        }
    }
}

#endif
