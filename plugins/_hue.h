/* The hue rotation of plugins/_kernels.pxi on planes of r, g, b values in [0, 1].
 *
 * torchvision's _rgb_to_hsv / _hsv_to_rgb, written with selections only (no branches, no
 * table lookups), so the compiler vectorises the loop: the remainders reduce to comparisons
 * on their ranges (hue / 6 + 1 is in [5/6, 2), the shifted hue in [-1/2, 3/2)), and the
 * (v, p, q, t) table to each channel's piecewise-linear weight of the sector position.
 * Values are float32 in torchvision's order, except that the weights of that table are
 * computed as v - v s min(max(0, min(k, 4 - k)), 1) (equal to p, q and t up to rounding).
 */
#ifndef AUGCORE_HUE_H
#define AUGCORE_HUE_H

static inline float hue_channel(float h6, float n, float v, float s) {
    float k = n + h6;
    k = k >= 6.0f ? k - 6.0f : k;
    float w = k < 4.0f - k ? k : 4.0f - k;
    w = w < 1.0f ? w : 1.0f;
    w = w > 0.0f ? w : 0.0f;
    float out = v - v * s * w;
    return out > 0.0f ? (out < 1.0f ? out : 1.0f) : 0.0f;
}

static void hue_rotate(float *restrict r, float *restrict g, float *restrict b, long count,
                       float turn) {
    for (long i = 0; i < count; i++) {
        float red = r[i], green = g[i], blue = b[i];
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
        r[i] = hue_channel(h6, 5.0f, maxc, s);
        g[i] = hue_channel(h6, 3.0f, maxc, s);
        b[i] = hue_channel(h6, 1.0f, maxc, s);
    }
}

#endif
