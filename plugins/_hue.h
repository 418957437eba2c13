/* The hue rotation of plugins/_kernels.pxi on planes of r, g, b values.
 *
 * torchvision's _rgb_to_hsv / _hsv_to_rgb, written with selections only (no branches, no
 * table lookups), so the compiler vectorises the loop: the remainders reduce to comparisons
 * on their ranges (hue / 6 + 1 is in [5/6, 2), the shifted hue in [-1/2, 3/2)), and the
 * (v, p, q, t) table to each channel's piecewise-linear weight of the sector position.
 * Values are float32 in torchvision's order, except that the weights of that table are
 * computed as v - v s min(max(0, min(k, 4 - k)), 1) (equal to p, q and t up to rounding).
 *
 * Planes hold values on the image's scale (0..255 for uint8, 0..1 for float32): each value is
 * multiplied by ``to_unit`` on the way in, by ``white`` on the way out, and finished there
 * (augcore_finish), so the loop is the whole operation. Multiplying by 1 is exact: float32
 * images take the same path.
 */
#ifndef AUGCORE_HUE_H
#define AUGCORE_HUE_H

#include "_lanes.h"

/* A result back on its dtype's grid: clipped to [0, white] (NaN becomes 0), and on uint8
 * (``levels`` true) rounded half to even to a level, kept as an integer-valued float. */
static inline float augcore_finish(float value, float white, int levels) {
    value = value > 0.0f ? value : 0.0f;
    value = value < white ? value : white;
    return levels ? (value + AUGCORE_ROUNDER) - AUGCORE_ROUNDER : value;
}

static inline float hue_channel(float h6, float n, float v, float s) {
    float k = n + h6;
    k = k >= 6.0f ? k - 6.0f : k;
    float w = k < 4.0f - k ? k : 4.0f - k;
    w = w < 1.0f ? w : 1.0f;
    w = w > 0.0f ? w : 0.0f;
    float out = v - v * s * w;
    return out > 0.0f ? (out < 1.0f ? out : 1.0f) : 0.0f;
}

/* One pixel: the scalar reference of the lanes below. */
static inline void hue_pixel(float *r, float *g, float *b, float turn, float to_unit,
                             float white, int levels) {
    float red = *r * to_unit, green = *g * to_unit, blue = *b * to_unit;
    float maxc = red > green ? red : green;
    maxc = maxc > blue ? maxc : blue;
    float minc = red < green ? red : green;
    minc = minc < blue ? minc : blue;
    float spread = maxc - minc;
    float s = spread / (spread == 0.0f ? 1.0f : maxc);
    float inverse = 1.0f / (spread == 0.0f ? 1.0f : spread);
    float rc = (maxc - red) * inverse, gc = (maxc - green) * inverse;
    float bc = (maxc - blue) * inverse;
    float h = maxc == red ? bc - gc : (maxc == green ? 2.0f + rc - bc : 4.0f + gc - rc);
    h = h * (1.0f / 6.0f) + 1.0f;
    h = h >= 1.0f ? h - 1.0f : h;
    h = h + turn;
    h = h >= 1.0f ? h - 1.0f : (h < 0.0f ? h + 1.0f : h);
    float h6 = h * 6.0f;
    *r = augcore_finish(hue_channel(h6, 5.0f, maxc, s) * white, white, levels);
    *g = augcore_finish(hue_channel(h6, 3.0f, maxc, s) * white, white, levels);
    *b = augcore_finish(hue_channel(h6, 1.0f, maxc, s) * white, white, levels);
}

#ifdef AUGCORE_LANES
/* hue_channel and its finish on lanes. On levels (uint8 images: values 0..255 times to_unit,
 * so v, s and w are in [0, 1] and v s w <= v) the clamp to [0, 1] changes nothing and is left
 * out; elsewhere it is max then min (NaN still becomes 0). Times white the value is in
 * [0, white] already, so the finish only rounds. */
static inline lanes hue_channel_lanes(lanes h6, float n, lanes maxc, lanes vs, lanes white,
                                      int levels) {
    const lanes zero = lanes_set(0.0f), one = lanes_set(1.0f), six = lanes_set(6.0f);
    lanes k = lanes_add(lanes_set(n), h6);
    k = lanes_select(lanes_ge(k, six), lanes_sub(k, six), k);
    lanes w = lanes_min(k, lanes_sub(lanes_set(4.0f), k));
    w = lanes_max(lanes_min(w, one), zero);
    lanes out = lanes_sub(maxc, lanes_mul(vs, w));
    if (levels) {
        return lanes_round(lanes_mul(out, white));
    }
    return lanes_mul(lanes_min(lanes_max(out, zero), one), white);
}
#endif

static void hue_rotate(float *restrict r, float *restrict g, float *restrict b, long count,
                       float turn, float to_unit, float white, int levels) {
    long i = 0;
#ifdef AUGCORE_LANES
    const lanes zero = lanes_set(0.0f), one = lanes_set(1.0f), unit = lanes_set(to_unit);
    const lanes shift = lanes_set(turn), top = lanes_set(white);
    for (; i + AUGCORE_LANES <= count; i += AUGCORE_LANES) {
        lanes red = lanes_mul(lanes_load(r + i), unit);
        lanes green = lanes_mul(lanes_load(g + i), unit);
        lanes blue = lanes_mul(lanes_load(b + i), unit);
        lanes maxc = lanes_max(lanes_max(red, green), blue);
        lanes spread = lanes_sub(maxc, lanes_min(lanes_min(red, green), blue));
        lanes_mask flat = lanes_eq(spread, zero);
        lanes s = lanes_div(spread, lanes_select(flat, one, maxc));
        lanes inverse = lanes_div(one, lanes_select(flat, one, spread));
        lanes rc = lanes_mul(lanes_sub(maxc, red), inverse);
        lanes gc = lanes_mul(lanes_sub(maxc, green), inverse);
        lanes bc = lanes_mul(lanes_sub(maxc, blue), inverse);
        lanes h = lanes_select(
            lanes_eq(maxc, red), lanes_sub(bc, gc),
            lanes_select(lanes_eq(maxc, green), lanes_sub(lanes_add(lanes_set(2.0f), rc), bc),
                         lanes_sub(lanes_add(lanes_set(4.0f), gc), rc)));
        h = lanes_add(lanes_mul(h, lanes_set(1.0f / 6.0f)), one);
        h = lanes_select(lanes_ge(h, one), lanes_sub(h, one), h);
        h = lanes_add(h, shift);
        h = lanes_select(lanes_ge(h, one), lanes_sub(h, one),
                         lanes_select(lanes_lt(h, zero), lanes_add(h, one), h));
        lanes h6 = lanes_mul(h, lanes_set(6.0f)), vs = lanes_mul(maxc, s);
        lanes_store(r + i, hue_channel_lanes(h6, 5.0f, maxc, vs, top, levels));
        lanes_store(g + i, hue_channel_lanes(h6, 3.0f, maxc, vs, top, levels));
        lanes_store(b + i, hue_channel_lanes(h6, 1.0f, maxc, vs, top, levels));
    }
#endif
    for (; i < count; i++) {
        hue_pixel(r + i, g + i, b + i, turn, to_unit, white, levels);
    }
}

#endif
