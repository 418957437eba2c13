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
    if (levels) {
        const lanes rounder = lanes_set(AUGCORE_ROUNDER);
        value = lanes_sub(lanes_add(value, rounder), rounder);
    }
    return value;
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

#endif
