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

/* base + factor * (x - base) on one plane (brightness: base 0; contrast: the mean luma). */
static void blend_plane(float *restrict x, long count, float factor, float base, float white,
                        int levels) {
    for (long i = 0; i < count; i++) {
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
    for (long i = 0; i < count; i++) {
        float gray = pixel_luma(r[i], g[i], b[i], levels);
        r[i] = augcore_finish((r[i] - gray) * factor + gray, white, levels);
        g[i] = augcore_finish((g[i] - gray) * factor + gray, white, levels);
        b[i] = augcore_finish((b[i] - gray) * factor + gray, white, levels);
    }
}

/* The sum of the integer lumas of uint8 values (a block's sum fits an int: 2**24 a pixel). */
static long long level_luma_sum(const float *restrict r, const float *restrict g,
                                const float *restrict b, long count, int channels) {
    int total = 0;
    for (long i = 0; i < count; i++) {
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
