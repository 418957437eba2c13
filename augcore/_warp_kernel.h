/*
 * The affine-warp kernel in plain C, bit-compatible with scipy.ndimage.affine_transform
 * (order 0 and 1, modes nearest / constant / reflect / wrap).
 *
 * Exactness rules, all taken from scipy's ni_interpolation.c (NI_GeometricTransform,
 * map_coordinate) and ni_splines.c (get_spline_interpolation_weights):
 *   - a coordinate is evaluated as x = shift; x += r * m0; x += c * m1, in double, with no
 *     fused multiply-add (the extension is built with -ffp-contract=off); c * m1 is tabulated
 *     once per image, which gives the very same products;
 *   - "nearest" never remaps the coordinate: taps are clamped; the other modes remap it first,
 *     "constant" fills when the remapped coordinate is outside [0, n-1] (tested unrounded), and
 *     any tap still outside is remapped with mirror rules (reflect keeps reflect);
 *   - order 0 takes floor(x + 0.5); order 1 weights are w0 = 1 - frac, w1 = 1 - w0, taps summed
 *     as ((v00 w0 w0' + v01 w0 w1') + v10 w1 w0') + v11 w1 w1' with coeff = (v * wr) * wc;
 *   - uint8 results round half up and clip to 0..255, float32 results are a plain cast.
 *
 * Speed comes from splitting each output row into passes the compiler can vectorise: an index
 * pass that handles the common in-bounds case with branch-free arithmetic (out-of-bounds pixels
 * of reflect/wrap are flagged and resolved by the scalar scipy rules afterwards), then a gather
 * specialised on the pixel size. Runtime CPU dispatch (GCC target_clones) picks AVX2 for the
 * index pass where available; the build itself stays portable x86-64.
 */
#ifndef AUGCORE_WARP_KERNEL_H
#define AUGCORE_WARP_KERNEL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define AC_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define AC_CLONES
#endif

enum { AC_NEAREST = 0, AC_CONSTANT = 1, AC_REFLECT = 2, AC_WRAP = 3, AC_MIRROR = 4 };

typedef struct {
    const unsigned char *src; /* (h_in, w_in, channels) C-contiguous */
    unsigned char *dst;       /* (h_out, w_out, channels) C-contiguous */
    int64_t h_in, w_in, h_out, w_out, channels;
    const double *m;          /* row-major 2x3 pull map */
    int mode;
    double cval;
} ac_image;

/* Per-image scratch rows, allocated once for a whole chunk of same-shape images. */
typedef struct {
    double *col_r, *col_c;
    int32_t *index;
} ac_scratch;

static int ac_scratch_alloc(ac_scratch *s, int64_t w_out)
{
    s->col_r = (double *)malloc(w_out * sizeof(double));
    s->col_c = (double *)malloc(w_out * sizeof(double));
    s->index = (int32_t *)malloc(w_out * sizeof(int32_t));
    return (s->col_r && s->col_c && s->index) ? 0 : -1;
}

static void ac_scratch_free(ac_scratch *s)
{
    free(s->col_r);
    free(s->col_c);
    free(s->index);
}

/* scipy's map_coordinate: fold an out-of-range coordinate back according to the mode. */
static double ac_map_coordinate(double x, int64_t n, int mode)
{
    int64_t period;
    if (x < 0) {
        if (mode == AC_NEAREST) return 0;
        if (mode == AC_CONSTANT) return -1;
        if (n <= 1) return 0;
        if (mode == AC_REFLECT) {
            period = 2 * n;
            if (x < -period) x = period * (int64_t)(-x / period) + x;
            if (x < -n) return x + period;
            return (x > -1e-15 ? 1e-15 : -x) - 1;
        }
        if (mode == AC_MIRROR) {
            period = 2 * n - 2;
            x = period * (int64_t)(-x / period) + x;
            return x <= 1 - n ? x + period : -x;
        }
        period = n - 1; /* wrap */
        return x + period * ((int64_t)(-x / period) + 1);
    }
    if (x > n - 1) {
        if (mode == AC_NEAREST) return (double)(n - 1);
        if (mode == AC_CONSTANT) return -1;
        if (n <= 1) return 0;
        if (mode == AC_REFLECT) {
            period = 2 * n;
            x -= period * (int64_t)(x / period);
            return x >= n ? period - x - 1 : x;
        }
        if (mode == AC_MIRROR) {
            period = 2 * n - 2;
            x -= period * (int64_t)(x / period);
            return x >= n ? period - x : x;
        }
        period = n - 1; /* wrap */
        return x - period * (int64_t)(x / period);
    }
    return x;
}

/* The mode scipy uses for filter taps that still fall outside after the coordinate map. */
static int ac_edge_mode(int mode)
{
    return (mode == AC_CONSTANT || mode == AC_WRAP) ? AC_MIRROR : mode;
}

/* Input index of an order-0 sample at coordinate x, or -1 for the constant fill. */
static int64_t ac_nearest_tap(double x, int64_t n, int mode)
{
    double cc = x;
    int64_t start;
    if (mode != AC_NEAREST) {
        cc = ac_map_coordinate(x, n, mode);
        if (!(cc > -1.0)) return -1;
    }
    start = (int64_t)floor(cc + 0.5);
    if (start < 0 || start >= n) start = (int64_t)ac_map_coordinate((double)start, n, ac_edge_mode(mode));
    return start;
}

/* Taps and weights of an order-1 sample at coordinate x; returns 0 for the constant fill. */
static int ac_linear_taps(double x, int64_t n, int mode, int64_t *taps, double *weights)
{
    double cc = x, below;
    int64_t start;
    if (mode != AC_NEAREST) {
        cc = ac_map_coordinate(x, n, mode);
        if (!(cc > -1.0)) return 0;
    }
    below = floor(cc);
    start = (int64_t)below;
    weights[0] = 1.0 - (cc - below);
    weights[1] = 1.0 - weights[0];
    if (start < 0 || start + 1 >= n) {
        int tap_mode = ac_edge_mode(mode);
        taps[0] = (int64_t)ac_map_coordinate((double)start, n, tap_mode);
        taps[1] = (int64_t)ac_map_coordinate((double)(start + 1), n, tap_mode);
    } else {
        taps[0] = start;
        taps[1] = start + 1;
    }
    return 1;
}

static void ac_column_terms(const ac_image *im, ac_scratch *s)
{
    int64_t c;
    for (c = 0; c < im->w_out; c++) {
        s->col_r[c] = (double)c * im->m[1];
        s->col_c[c] = (double)c * im->m[4];
    }
}

/*
 * Order-0 index pass for one output row: pixel index r * w_in + c of every sample, or -1 where
 * the sample is not strictly in bounds and the mode is not "nearest" (resolved afterwards).
 * In bounds (0 <= x <= n-1, unrounded, as scipy tests it) floor(x + 0.5) is a truncation; for
 * "nearest" the clamp of x + 0.5 to [0, n-1] before truncating is exactly scipy's tap clamp.
 */
AC_CLONES
static void ac_row_nearest_index(int32_t *restrict index, const double *restrict col_r,
                                 const double *restrict col_c, double row_r, double row_c,
                                 int64_t w_out, int64_t h_in, int64_t w_in, int clamp)
{
    const double r_max = (double)(h_in - 1), c_max = (double)(w_in - 1);
    const int32_t stride = (int32_t)w_in;
    int64_t c;
    if (clamp) {
        for (c = 0; c < w_out; c++) {
            double r = row_r + col_r[c] + 0.5, q = row_c + col_c[c] + 0.5;
            r = r < 0.0 ? 0.0 : r;
            r = r > r_max ? r_max : r;
            q = q < 0.0 ? 0.0 : q;
            q = q > c_max ? c_max : q;
            index[c] = (int32_t)r * stride + (int32_t)q;
        }
        return;
    }
    for (c = 0; c < w_out; c++) {
        double r = row_r + col_r[c], q = row_c + col_c[c];
        int inside = (r >= 0.0) & (r <= r_max) & (q >= 0.0) & (q <= c_max);
        double rr = inside ? r + 0.5 : 0.0, qq = inside ? q + 0.5 : 0.0;
        int32_t at = (int32_t)rr * stride + (int32_t)qq;
        index[c] = inside ? at : -1;
    }
}

/* Gather one row of pixels; index -1 takes the fill pixel. Specialised on the pixel size. */
#define AC_GATHER(BYTES)                                                                  \
    for (c = 0; c < w_out; c++) {                                                         \
        int32_t at = index[c];                                                            \
        memcpy(out + c * (BYTES), at < 0 ? fill : src + (int64_t)at * (BYTES), (BYTES));  \
    }

static void ac_gather_row(unsigned char *restrict out, const unsigned char *restrict src,
                          const int32_t *restrict index, const unsigned char *restrict fill,
                          int64_t w_out, int64_t pixel_bytes)
{
    int64_t c;
    switch (pixel_bytes) {
    case 1: AC_GATHER(1) break;
    case 2: AC_GATHER(2) break;
    case 3: AC_GATHER(3) break;
    case 4: AC_GATHER(4) break;
    case 8: AC_GATHER(8) break;
    case 12: AC_GATHER(12) break;
    case 16: AC_GATHER(16) break;
    default: AC_GATHER(pixel_bytes) break;
    }
}

/* Order 0 for one image; itemsize is 1 (uint8) or 4 (float32), fill is one fill pixel. */
static void ac_warp_nearest(const ac_image *im, ac_scratch *s, int64_t itemsize,
                            const unsigned char *fill)
{
    const int64_t pixel_bytes = im->channels * itemsize;
    const int clamp = im->mode == AC_NEAREST;
    const int resolve = im->mode == AC_REFLECT || im->mode == AC_WRAP;
    int64_t r, c;
    ac_column_terms(im, s);
    for (r = 0; r < im->h_out; r++) {
        double row_r = im->m[2], row_c = im->m[5];
        row_r += (double)r * im->m[0];
        row_c += (double)r * im->m[3];
        ac_row_nearest_index(s->index, s->col_r, s->col_c, row_r, row_c, im->w_out, im->h_in,
                             im->w_in, clamp);
        if (resolve) {
            for (c = 0; c < im->w_out; c++) {
                if (s->index[c] < 0) {
                    int64_t ri = ac_nearest_tap(row_r + s->col_r[c], im->h_in, im->mode);
                    int64_t ci = ac_nearest_tap(row_c + s->col_c[c], im->w_in, im->mode);
                    s->index[c] = (int32_t)(ri * im->w_in + ci);
                }
            }
        }
        ac_gather_row(im->dst + r * im->w_out * pixel_bytes, im->src, s->index, fill, im->w_out,
                      pixel_bytes);
    }
}

static inline double ac_tap_sum(double v00, double v01, double v10, double v11, const double *wr,
                                const double *wc)
{
    double total = 0.0, coeff;
    coeff = v00; coeff *= wr[0]; coeff *= wc[0]; total += coeff;
    coeff = v01; coeff *= wr[0]; coeff *= wc[1]; total += coeff;
    coeff = v10; coeff *= wr[1]; coeff *= wc[0]; total += coeff;
    coeff = v11; coeff *= wr[1]; coeff *= wc[1]; total += coeff;
    return total;
}

static inline uint8_t ac_to_u8(double value)
{
    value = value > 0 ? value + 0.5 : 0.0;
    return (uint8_t)(value > 255.0 ? 255.0 : value);
}

/*
 * Order 1, generated for uint8 and float32. Samples whose four taps are in bounds
 * (0 <= x < n-1 on both axes) take the direct path; the rest follow scipy's rules tap by tap.
 */
#define AC_DEFINE_LINEAR(NAME, TYPE, CONVERT)                                                  \
    static void NAME(const ac_image *im, ac_scratch *s)                                        \
    {                                                                                          \
        const TYPE *src = (const TYPE *)im->src;                                               \
        TYPE *dst = (TYPE *)im->dst;                                                           \
        const int64_t ch_n = im->channels, w_in = im->w_in, row_step = im->w_in * ch_n;       \
        const double r_last = (double)(im->h_in - 1), c_last = (double)(im->w_in - 1);        \
        const TYPE fill = CONVERT(im->cval);                                                   \
        int64_t r, c, ch;                                                                      \
        ac_column_terms(im, s);                                                                \
        for (r = 0; r < im->h_out; r++) {                                                      \
            double row_r = im->m[2], row_c = im->m[5];                                         \
            TYPE *out = dst + r * im->w_out * ch_n;                                            \
            row_r += (double)r * im->m[0];                                                     \
            row_c += (double)r * im->m[3];                                                     \
            for (c = 0; c < im->w_out; c++, out += ch_n) {                                     \
                double x = row_r + s->col_r[c], y = row_c + s->col_c[c];                       \
                double wr[2], wc[2];                                                           \
                if (x >= 0.0 && x < r_last && y >= 0.0 && y < c_last) {                        \
                    int64_t r0 = (int64_t)x, c0 = (int64_t)y;                                  \
                    const TYPE *p = src + (r0 * w_in + c0) * ch_n;                             \
                    wr[0] = 1.0 - (x - (double)r0);                                            \
                    wr[1] = 1.0 - wr[0];                                                       \
                    wc[0] = 1.0 - (y - (double)c0);                                            \
                    wc[1] = 1.0 - wc[0];                                                       \
                    for (ch = 0; ch < ch_n; ch++)                                              \
                        out[ch] = CONVERT(ac_tap_sum(p[ch], p[ch + ch_n], p[ch + row_step],    \
                                                     p[ch + row_step + ch_n], wr, wc));        \
                } else {                                                                       \
                    int64_t tr[2], tc[2];                                                      \
                    if (!(ac_linear_taps(x, im->h_in, im->mode, tr, wr) &&                     \
                          ac_linear_taps(y, im->w_in, im->mode, tc, wc))) {                    \
                        for (ch = 0; ch < ch_n; ch++) out[ch] = fill;                          \
                        continue;                                                              \
                    }                                                                          \
                    for (ch = 0; ch < ch_n; ch++)                                              \
                        out[ch] = CONVERT(ac_tap_sum(src[(tr[0] * w_in + tc[0]) * ch_n + ch],  \
                                                     src[(tr[0] * w_in + tc[1]) * ch_n + ch],  \
                                                     src[(tr[1] * w_in + tc[0]) * ch_n + ch],  \
                                                     src[(tr[1] * w_in + tc[1]) * ch_n + ch],  \
                                                     wr, wc));                                 \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
    }

#define AC_TO_F32(v) ((float)(v))
AC_DEFINE_LINEAR(ac_warp_linear_u8, uint8_t, ac_to_u8)
AC_DEFINE_LINEAR(ac_warp_linear_f32, float, AC_TO_F32)

/*
 * Warp images [start, stop) of a batch; all share one shape. Returns 0, or -1 when the scratch
 * rows cannot be allocated. Safe to call from several threads on disjoint ranges.
 */
static int ac_warp_batch(const unsigned char *src, unsigned char *dst, const double *matrices,
                         int64_t start, int64_t stop, int64_t h_in, int64_t w_in,
                         int64_t h_out, int64_t w_out, int64_t channels, int64_t itemsize,
                         int order, int mode, double cval)
{
    ac_scratch s;
    unsigned char fill[64 * 4];
    unsigned char *fill_pixel = fill;
    const int64_t in_bytes = h_in * w_in * channels * itemsize;
    const int64_t out_bytes = h_out * w_out * channels * itemsize;
    int64_t i, ch;
    if (ac_scratch_alloc(&s, w_out) != 0) {
        ac_scratch_free(&s);
        return -1;
    }
    if (channels * itemsize > (int64_t)sizeof(fill)) {
        fill_pixel = (unsigned char *)malloc(channels * itemsize);
        if (!fill_pixel) {
            ac_scratch_free(&s);
            return -1;
        }
    }
    for (ch = 0; ch < channels; ch++) {
        if (itemsize == 1) {
            fill_pixel[ch] = ac_to_u8(cval);
        } else {
            float value = (float)cval;
            memcpy(fill_pixel + ch * 4, &value, 4);
        }
    }
    for (i = start; i < stop; i++) {
        ac_image im = {src + i * in_bytes, dst + i * out_bytes, h_in, w_in, h_out, w_out,
                       channels, matrices + 6 * i, mode, cval};
        if (order == 0)
            ac_warp_nearest(&im, &s, itemsize, fill_pixel);
        else if (itemsize == 1)
            ac_warp_linear_u8(&im, &s);
        else
            ac_warp_linear_f32(&im, &s);
    }
    if (fill_pixel != fill) free(fill_pixel);
    ac_scratch_free(&s);
    return 0;
}

#endif /* AUGCORE_WARP_KERNEL_H */
