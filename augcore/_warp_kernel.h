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
 * Order 0 (both dtypes) and order 1 on float32 are therefore bit-identical to scipy. Order 1 on
 * uint8 trades that for speed: float32 weights, within 1 of scipy (see ac_linear_u8_row).
 *
 * Speed comes from splitting each output row into passes: an index pass, branch-free so the
 * compiler vectorises it, that resolves every in-bounds sample (and, for "nearest", every
 * sample); a scalar pass applying scipy's rules to the few samples left (-1 in the index row);
 * then a gather (order 0, specialised on the pixel size, 4-byte moves for RGB) or an
 * interpolation (order 1, SSE2 lanes for 3- and 4-channel uint8). Runtime CPU dispatch (GCC
 * target_clones) picks AVX2 for the index passes where available; the build itself stays
 * portable x86-64, and AVX2 implies no FMA, so both clones compute the same bits.
 */
#ifndef AUGCORE_WARP_KERNEL_H
#define AUGCORE_WARP_KERNEL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Build with -DAUGCORE_NO_CPU_DISPATCH to compile only the baseline code (e.g. to test it). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__) && \
    !defined(AUGCORE_NO_CPU_DISPATCH)
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
    double *col_r, *col_c; /* c * m1 and c * m4 for every output column */
    double *w_r, *w_c;     /* order 1: the first tap's weight along rows and along columns */
    int32_t *index;        /* pixel index r * w_in + c of the (first) tap, or -1 */
} ac_scratch;

static int ac_scratch_alloc(ac_scratch *s, int64_t w_out)
{
    s->col_r = (double *)malloc(w_out * sizeof(double));
    s->col_c = (double *)malloc(w_out * sizeof(double));
    s->w_r = (double *)malloc(w_out * sizeof(double));
    s->w_c = (double *)malloc(w_out * sizeof(double));
    s->index = (int32_t *)malloc(w_out * sizeof(int32_t));
    return (s->col_r && s->col_c && s->w_r && s->w_c && s->index) ? 0 : -1;
}

static void ac_scratch_free(ac_scratch *s)
{
    free(s->col_r);
    free(s->col_c);
    free(s->w_r);
    free(s->w_c);
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

/*
 * 3-byte pixels (RGB uint8) move as 4 bytes: one load and one store instead of two each. The
 * extra byte lands on the next pixel of the same row, which is written right after; the row's
 * last pixel, and any read of the source's last pixel, use exact 3-byte moves. ``fill`` has
 * at least 4 readable bytes.
 */
static void ac_gather_row_rgb(unsigned char *restrict out, const unsigned char *restrict src,
                              const int32_t *restrict index, const unsigned char *restrict fill,
                              int64_t w_out, int32_t last_pixel)
{
    int64_t c;
    for (c = 0; c + 1 < w_out; c++) {
        const int32_t at = index[c];
        const unsigned char *from = at < 0 ? fill : src + (int64_t)at * 3;
        uint32_t word;
        if (at == last_pixel) {
            memcpy(out + c * 3, from, 3);
            continue;
        }
        memcpy(&word, from, 4);
        memcpy(out + c * 3, &word, 4);
    }
    if (c < w_out)
        memcpy(out + c * 3, index[c] < 0 ? fill : src + (int64_t)index[c] * 3, 3);
}

static void ac_gather_row(unsigned char *restrict out, const unsigned char *restrict src,
                          const int32_t *restrict index, const unsigned char *restrict fill,
                          int64_t w_out, int64_t pixel_bytes, int32_t last_pixel)
{
    int64_t c;
    switch (pixel_bytes) {
    case 1: AC_GATHER(1) break;
    case 2: AC_GATHER(2) break;
    case 3: ac_gather_row_rgb(out, src, index, fill, w_out, last_pixel); break;
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
                      pixel_bytes, (int32_t)(im->h_in * im->w_in - 1));
    }
}

/*
 * Order-1 index pass for one output row: for samples whose four taps are in bounds
 * (0 <= x < n-1 on both axes) the first tap's pixel index and the first weights
 * w0 = 1 - (x - floor(x)) along each axis; -1 for every other sample (resolved tap by tap).
 * With ``clamp`` (uint8, mode "nearest", both sides >= 2) every sample is resolved here: a
 * coordinate clamped to [0, n-1] with the first tap kept <= n-2 gives the edge pixel's value
 * with weight 1, which is what scipy's clamped taps sum to (its weights add up to 1).
 */
AC_CLONES
static void ac_row_linear_index(int32_t *restrict index, double *restrict w_r,
                                double *restrict w_c, const double *restrict col_r,
                                const double *restrict col_c, double row_r, double row_c,
                                int64_t w_out, int64_t h_in, int64_t w_in, int clamp)
{
    const double r_last = (double)(h_in - 1), c_last = (double)(w_in - 1);
    const int32_t stride = (int32_t)w_in, r_top = (int32_t)(h_in - 2), c_top = (int32_t)(w_in - 2);
    int64_t c;
    if (clamp) {
        for (c = 0; c < w_out; c++) {
            double r = row_r + col_r[c], q = row_c + col_c[c];
            int32_t r0, c0;
            r = r < 0.0 ? 0.0 : r;
            r = r > r_last ? r_last : r;
            q = q < 0.0 ? 0.0 : q;
            q = q > c_last ? c_last : q;
            r0 = (int32_t)r;
            c0 = (int32_t)q;
            r0 = r0 > r_top ? r_top : r0;
            c0 = c0 > c_top ? c_top : c0;
            w_r[c] = 1.0 - (r - (double)r0);
            w_c[c] = 1.0 - (q - (double)c0);
            index[c] = r0 * stride + c0;
        }
        return;
    }
    for (c = 0; c < w_out; c++) {
        double r = row_r + col_r[c], q = row_c + col_c[c];
        int inside = (r >= 0.0) & (r < r_last) & (q >= 0.0) & (q < c_last);
        double rr = inside ? r : 0.0, qq = inside ? q : 0.0;
        int32_t r0 = (int32_t)rr, c0 = (int32_t)qq;
        w_r[c] = 1.0 - (rr - (double)r0);
        w_c[c] = 1.0 - (qq - (double)c0);
        index[c] = inside ? r0 * stride + c0 : -1;
    }
}

/* scipy's sum over the four taps, coeff = (v * w_row) * w_col, in scipy's tap order. */
static inline double ac_tap_sum(double v00, double v01, double v10, double v11, double wr0,
                                double wc0)
{
    const double wr1 = 1.0 - wr0, wc1 = 1.0 - wc0;
    double total = 0.0, coeff;
    coeff = v00; coeff *= wr0; coeff *= wc0; total += coeff;
    coeff = v01; coeff *= wr0; coeff *= wc1; total += coeff;
    coeff = v10; coeff *= wr1; coeff *= wc0; total += coeff;
    coeff = v11; coeff *= wr1; coeff *= wc1; total += coeff;
    return total;
}

static inline uint8_t ac_to_u8(double value)
{
    value = value > 0 ? value + 0.5 : 0.0;
    return (uint8_t)(value > 255.0 ? 255.0 : value);
}

#define AC_TO_F32(v) ((float)(v))

/*
 * Bilinear arithmetic. float32 images follow scipy exactly (double, coeff = (v * w_row) * w_col,
 * in scipy's tap order). uint8 images multiply by float32 products of the four tap weights
 * instead, which lets four channels share SSE2 lanes: the float error of the sum is ~1e-5, so a
 * result differs from scipy's (by exactly 1) only when scipy's value lies that close to a .5
 * rounding boundary. Both round half up like scipy.
 */
/* The four float32 weights of the uint8 path, from scipy's double weights w0 (rows, columns). */
typedef struct {
    float w00, w01, w10, w11;
} ac_weights4;

static inline ac_weights4 ac_u8_weights(double wr0, double wc0)
{
    const float a = (float)wr0, b = (float)wc0, a1 = (float)(1.0 - wr0), b1 = (float)(1.0 - wc0);
    ac_weights4 w = {a * b, a * b1, a1 * b, a1 * b1};
    return w;
}

/* (top row + bottom row) + 0.5, truncated: the SSE2 lanes below compute exactly the same. */
static inline uint8_t ac_bilinear_u8(const uint8_t *p00, const uint8_t *p01, const uint8_t *p10,
                                     const uint8_t *p11, ac_weights4 w)
{
    const float top = (float)*p00 * w.w00 + (float)*p01 * w.w01;
    const float bottom = (float)*p10 * w.w10 + (float)*p11 * w.w11;
    return (uint8_t)((top + bottom) + 0.5f);
}

#if defined(__SSE2__)
#include <emmintrin.h>

static inline __m128 ac_u8x4_times(const uint8_t *p, float weight)
{
    int32_t bytes;
    const __m128i zero = _mm_setzero_si128();
    memcpy(&bytes, p, 4);
    __m128i wide = _mm_unpacklo_epi8(_mm_cvtsi32_si128(bytes), zero);
    return _mm_mul_ps(_mm_cvtepi32_ps(_mm_unpacklo_epi16(wide, zero)), _mm_set1_ps(weight));
}

/* Four channels of one bilinear sample at once (SSE2 is part of every x86-64). */
static inline uint32_t ac_bilinear_u8x4(const uint8_t *p00, const uint8_t *p01, const uint8_t *p10,
                                        const uint8_t *p11, ac_weights4 w)
{
    const __m128 top = _mm_add_ps(ac_u8x4_times(p00, w.w00), ac_u8x4_times(p01, w.w01));
    const __m128 bottom = _mm_add_ps(ac_u8x4_times(p10, w.w10), ac_u8x4_times(p11, w.w11));
    __m128i ints = _mm_cvttps_epi32(_mm_add_ps(_mm_add_ps(top, bottom), _mm_set1_ps(0.5f)));
    ints = _mm_packs_epi32(ints, ints);
    return (uint32_t)_mm_cvtsi128_si32(_mm_packus_epi16(ints, ints));
}
#endif

/*
 * uint8 interpolation of the in-bounds samples of one row. 3- and 4-channel pixels go through
 * the SSE2 lanes, which read and write 4 bytes: a 3-channel store spills one byte into the next
 * pixel, which is written afterwards, so only the buffers' very last bytes need the scalar path.
 */
static void ac_linear_u8_row(uint8_t *restrict out, const uint8_t *restrict src,
                             const uint8_t *src_end, const int32_t *restrict index,
                             const double *restrict w_r, const double *restrict w_c,
                             int64_t w_out, int64_t ch_n, int64_t row_step, const uint8_t *out_end)
{
    int64_t c, ch;
    for (c = 0; c < w_out; c++) {
        const int32_t at = index[c];
        const uint8_t *p;
        uint8_t *o;
        ac_weights4 w;
        if (at < 0) continue;
        p = src + (int64_t)at * ch_n;
        o = out + c * ch_n;
        w = ac_u8_weights(w_r[c], w_c[c]);
#if defined(__SSE2__)
        if ((ch_n == 3 || ch_n == 4) && p + row_step + ch_n + 4 <= src_end && o + 4 <= out_end) {
            const uint32_t packed = ac_bilinear_u8x4(p, p + ch_n, p + row_step,
                                                     p + row_step + ch_n, w);
            memcpy(o, &packed, 4);
            continue;
        }
#endif
        for (ch = 0; ch < ch_n; ch++)
            o[ch] = ac_bilinear_u8(p + ch, p + ch + ch_n, p + ch + row_step,
                                   p + ch + row_step + ch_n, w);
    }
}

/* float32 interpolation of the in-bounds samples of one row, exactly as scipy. */
#define AC_LINEAR_F32_ROW(CH)                                                                  \
    for (c = 0; c < w_out; c++) {                                                              \
        const int32_t at = index[c];                                                           \
        if (at >= 0) {                                                                         \
            const float *p = src + (int64_t)at * (CH);                                         \
            for (ch = 0; ch < (CH); ch++)                                                      \
                out[c * (CH) + ch] = (float)ac_tap_sum(p[ch], p[ch + (CH)], p[ch + row_step],  \
                                                       p[ch + row_step + (CH)], w_r[c],        \
                                                       w_c[c]);                                \
        }                                                                                      \
    }

static void ac_linear_f32_row(float *restrict out, const float *restrict src,
                              const float *src_end, const int32_t *restrict index,
                              const double *restrict w_r, const double *restrict w_c,
                              int64_t w_out, int64_t ch_n, int64_t row_step, const float *out_end)
{
    int64_t c, ch;
    (void)src_end;
    (void)out_end;
    switch (ch_n) {
    case 1: AC_LINEAR_F32_ROW(1) break;
    case 3: AC_LINEAR_F32_ROW(3) break;
    case 4: AC_LINEAR_F32_ROW(4) break;
    default: AC_LINEAR_F32_ROW(ch_n) break;
    }
}

/*
 * Order 1 for one image, generated for uint8 and float32: index pass, interpolation of the
 * in-bounds samples, then scipy's tap-by-tap rules for the rest (exact double arithmetic).
 */
#define AC_DEFINE_LINEAR(NAME, TYPE, CONVERT, ROW, CLAMPS)                                     \
    static void NAME(const ac_image *im, ac_scratch *s)                                        \
    {                                                                                          \
        const TYPE *src = (const TYPE *)im->src;                                               \
        const int64_t ch_n = im->channels, w_in = im->w_in;                                    \
        const TYPE fill = CONVERT(im->cval);                                                   \
        const TYPE *src_end = src + im->h_in * w_in * ch_n;                                    \
        const int clamp = CLAMPS && im->mode == AC_NEAREST && im->h_in >= 2 && w_in >= 2;      \
        const TYPE *out_end = (const TYPE *)im->dst + im->h_out * im->w_out * ch_n;           \
        int64_t r, c, ch;                                                                      \
        ac_column_terms(im, s);                                                                \
        for (r = 0; r < im->h_out; r++) {                                                      \
            double row_r = im->m[2], row_c = im->m[5];                                         \
            TYPE *out = (TYPE *)im->dst + r * im->w_out * ch_n;                                \
            row_r += (double)r * im->m[0];                                                     \
            row_c += (double)r * im->m[3];                                                     \
            ac_row_linear_index(s->index, s->w_r, s->w_c, s->col_r, s->col_c, row_r, row_c,    \
                                im->w_out, im->h_in, w_in, clamp);                             \
            ROW(out, src, src_end, s->index, s->w_r, s->w_c, im->w_out, ch_n, w_in * ch_n,     \
                out_end);                                                                      \
            for (c = 0; c < im->w_out; c++) {                                                  \
                int64_t tr[2], tc[2];                                                          \
                double wr[2], wc[2];                                                           \
                TYPE *px = out + c * ch_n;                                                     \
                if (s->index[c] >= 0) continue;                                                \
                if (!(ac_linear_taps(row_r + s->col_r[c], im->h_in, im->mode, tr, wr) &&       \
                      ac_linear_taps(row_c + s->col_c[c], w_in, im->mode, tc, wc))) {          \
                    for (ch = 0; ch < ch_n; ch++) px[ch] = fill;                               \
                    continue;                                                                  \
                }                                                                              \
                for (ch = 0; ch < ch_n; ch++)                                                  \
                    px[ch] = CONVERT(ac_tap_sum(src[(tr[0] * w_in + tc[0]) * ch_n + ch],       \
                                                src[(tr[0] * w_in + tc[1]) * ch_n + ch],       \
                                                src[(tr[1] * w_in + tc[0]) * ch_n + ch],       \
                                                src[(tr[1] * w_in + tc[1]) * ch_n + ch],       \
                                                wr[0], wc[0]));                                \
            }                                                                                  \
        }                                                                                      \
    }

AC_DEFINE_LINEAR(ac_warp_linear_u8, uint8_t, ac_to_u8, ac_linear_u8_row, 1)
AC_DEFINE_LINEAR(ac_warp_linear_f32, float, AC_TO_F32, ac_linear_f32_row, 0)

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
    memset(fill_pixel, 0, channels * itemsize < 4 ? 4 : channels * itemsize);
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
