/* The float32 loops of the Gaussian blur of plugins/_kernels.pxi, one image at a time: for
 * float32 images, and for uint8 ones whose kernel the fixed-point path (_blur_fixed.h) does
 * not take.
 *
 * Every output value is computed as augcore always has (torchvision's maths in float32,
 * symmetric taps added before they are weighted), in this order for both passes:
 *     acc = centre * w[half];  acc += (up[t] + down[t]) * w[t]  for t = 0 .. half - 1
 * The loops are written with GCC's generic vectors of 8 floats, so the tap loop runs with the
 * accumulators in registers and each pass reads its inputs once: the baseline build lowers
 * them to pairs of SSE2 instructions, the -mavx2 build to AVX ones, and without contraction
 * (-ffp-contract=off) both round every operation alike, so their bytes are identical.
 *
 * Rows are converted to float once, into a ring of ``size`` rows; each output row is made
 * whole before the next: the column pass sums the ring into the middle of a padded row, whose
 * ends are then mirrored once (not per tap), and the row pass sums that row along itself
 * with a tap stride of ``channels``. Buffers are padded to whole vectors (zeros, never read
 * into a stored value), so no loop has a scalar tail except the last store of a row.
 */
#ifndef AUGCORE_BLUR_H
#define AUGCORE_BLUR_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Every function here is static, so no vector crosses a call into code built elsewhere:
 * GCC's note that AVX-sized vectors change the ABI without -mavx is moot. */
#pragma GCC diagnostic ignored "-Wpsabi"

#define BLUR_LANES 8
#define BLUR_STEP (2 * BLUR_LANES) /* floats per loop iteration: two vectors in flight */

typedef float blur_vf __attribute__((vector_size(4 * BLUR_LANES)));
typedef int32_t blur_vi __attribute__((vector_size(4 * BLUR_LANES)));
typedef uint8_t blur_vb __attribute__((vector_size(BLUR_LANES)));
typedef uint8_t blur_vb8 __attribute__((vector_size(4 * BLUR_LANES)));

static inline blur_vf blur_load(const float *p) {
    blur_vf v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline long blur_round_up(long n) { return (n + BLUR_STEP - 1) / BLUR_STEP * BLUR_STEP; }

/* Index p reflected into [0, n) without repeating the edge (torch's "reflect"). */
static inline long blur_mirror(long p, long n) {
    if (n == 1) return 0;
    while (p < 0 || p >= n) {
        if (p < 0) p = -p;
        if (p >= n) p = 2 * (n - 1) - p;
    }
    return p;
}

/* The clip of augcore.plugins._values.finish, NaN to 0, as selections on the bits. */
static inline blur_vf blur_clip(blur_vf v, float high) {
    blur_vi positive = v > 0.0f;
    v = (blur_vf)((blur_vi)v & positive);
    blur_vi below = v < high;
    blur_vf top = (blur_vf){0} + high;
    return (blur_vf)(((blur_vi)v & below) | ((blur_vi)top & ~below));
}

/* uint8: clipped to [0, 255] and rounded half to even: adding 1.5 * 2**23 rounds as rintf
 * does and leaves the integer in the low byte of the float's bits, which a shuffle gathers. */
static inline void blur_store_u8(uint8_t *dst, blur_vf v) {
    blur_vb8 bits = (blur_vb8)(blur_clip(v, 255.0f) + 12582912.0f);
#if defined(__clang__) || __GNUC__ >= 12
    blur_vb bytes = __builtin_shufflevector(bits, bits, 0, 4, 8, 12, 16, 20, 24, 28);
#else /* GCC before 12 has only __builtin_shuffle, whose result has the mask's length */
    blur_vb8 bytes = __builtin_shuffle(bits, (blur_vb8){0, 4, 8, 12, 16, 20, 24, 28});
#endif
    memcpy(dst, &bytes, BLUR_LANES);
}

static inline void blur_store_f32(float *dst, blur_vf v) {
    v = blur_clip(v, 1.0f);
    memcpy(dst, &v, sizeof v);
}

static inline void blur_store_raw(float *dst, blur_vf v) { memcpy(dst, &v, sizeof v); }

/* dst[j - from] for j in [from, to) (whole vectors): the weighted sum over the taps, where
 * tap t of value j is up[t][j] and down[t][j], the centre centre[j]. One function per store. */
#define BLUR_SUM(NAME, OUT, STORE)                                                            \
    static void NAME(OUT *dst, const float *centre, const float *const *up,                   \
                     const float *const *down, const float *w, long half, long from,          \
                     long to) {                                                               \
        for (long j = from; j < to; j += BLUR_STEP) {                                         \
            blur_vf a = blur_load(centre + j) * w[half];                                      \
            blur_vf b = blur_load(centre + j + BLUR_LANES) * w[half];                         \
            for (long t = 0; t < half; t++) {                                                 \
                a += (blur_load(up[t] + j) + blur_load(down[t] + j)) * w[t];                  \
                b += (blur_load(up[t] + j + BLUR_LANES) + blur_load(down[t] + j + BLUR_LANES)) \
                     * w[t];                                                                  \
            }                                                                                 \
            STORE(dst + (j - from), a);                                                       \
            STORE(dst + (j - from) + BLUR_LANES, b);                                          \
        }                                                                                     \
    }

BLUR_SUM(blur_sum_raw, float, blur_store_raw)
BLUR_SUM(blur_sum_u8, uint8_t, blur_store_u8)
BLUR_SUM(blur_sum_f32, float, blur_store_f32)

/* Scratch of one call: the ring, the padded row, tap pointers, and a row of results for the
 * last partial vectors of a row. */
typedef struct {
    long height, width, channels, size, line, stride;
    float *ring;      /* size rows of stride floats; slot r % size holds row r (the fixed-point
                       * path keeps its rows of 16-bit values there) */
    long *held;       /* which row each slot holds (-1: none) */
    float *padded;    /* half * channels mirrored, line, half * channels mirrored, slack */
    const float **up, **down;
    uint8_t *tail;    /* stride results, stored whole, then the needed ones copied */
    uint16_t *mid;    /* the fixed-point path's padded row (_blur_fixed.h), like padded */
} blur_scratch;

static void blur_free(blur_scratch *s) {
    free(s->ring);
    free(s->held);
    free(s->padded);
    free(s->up);
    free(s->down);
    free(s->tail);
    free(s->mid);
}

/* 0 on success, -1 when out of memory (then nothing is left allocated). */
static int blur_init(blur_scratch *s, long height, long width, long channels, long size) {
    long half = size / 2;
    s->height = height, s->width = width, s->channels = channels, s->size = size;
    s->line = width * channels;
    s->stride = blur_round_up(s->line);
    s->ring = calloc((size_t)(size * s->stride), sizeof(float));
    s->held = malloc((size_t)size * sizeof(long));
    s->padded = calloc((size_t)(s->stride + 2 * half * channels + BLUR_STEP), sizeof(float));
    s->up = malloc((size_t)(half + 1) * sizeof(float *));
    s->down = malloc((size_t)(half + 1) * sizeof(float *));
    s->tail = malloc((size_t)s->stride * sizeof(float));
    s->mid = calloc((size_t)(s->stride + 2 * half * channels + BLUR_STEP), sizeof(uint16_t));
    if (!s->ring || !s->held || !s->padded || !s->up || !s->down || !s->tail || !s->mid) {
        blur_free(s);
        return -1;
    }
    return 0;
}

/* The column pass of output row y into the middle of the padded row, then its ends
 * mirrored. Rows enter the ring converted by LOAD_ROW(ring_row, y) when first needed. */
#define BLUR_COLUMNS(NAME, PIXEL)                                                             \
    static void NAME(blur_scratch *s, const PIXEL *image, const float *w, long y) {           \
        long half = s->size / 2, c = s->channels, line = s->line;                             \
        float *row = s->padded + half * c;                                                    \
        for (long t = 0; t < s->size; t++) {                                                  \
            long source = blur_mirror(y + t - half, s->height), slot = source % s->size;      \
            float *target = s->ring + slot * s->stride;                                       \
            if (s->held[slot] != source) {                                                    \
                const PIXEL *values = image + source * line;                                  \
                s->held[slot] = source;                                                       \
                for (long j = 0; j < line; j++) target[j] = (float)values[j];                 \
            }                                                                                 \
            if (t < half) s->up[t] = target;                                                  \
            else if (t > half) s->down[s->size - 1 - t] = target;                             \
        }                                                                                     \
        blur_sum_raw(row, s->ring + (y % s->size) * s->stride, s->up, s->down, w, half, 0,     \
                     s->stride);                                                              \
        for (long x = 0; x < half; x++) {                                                     \
            long left = blur_mirror(x - half, s->width) * c;                                  \
            long right = blur_mirror(s->width + x, s->width) * c;                             \
            for (long k = 0; k < c; k++) {                                                    \
                s->padded[x * c + k] = row[left + k];                                         \
                row[line + x * c + k] = row[right + k];                                       \
            }                                                                                 \
        }                                                                                     \
        for (long t = 0; t < half; t++) {                                                     \
            s->up[t] = s->padded + t * c;                                                     \
            s->down[t] = s->padded + (s->size - 1 - t) * c;                                   \
        }                                                                                     \
    }

BLUR_COLUMNS(blur_columns_u8, uint8_t)
BLUR_COLUMNS(blur_columns_f32, float)

/* One (height, width, channels) image blurred into out with the symmetric weights w. */
#define BLUR_IMAGE(NAME, PIXEL, COLUMNS, SUM)                                                 \
    static void NAME(blur_scratch *s, const PIXEL *image, PIXEL *out, const float *w) {       \
        long half = s->size / 2, c = s->channels, line = s->line;                             \
        long whole = line / BLUR_STEP * BLUR_STEP;                                            \
        for (long t = 0; t < s->size; t++) s->held[t] = -1;                                   \
        for (long y = 0; y < s->height; y++) {                                                \
            PIXEL *target = out + y * line;                                                   \
            COLUMNS(s, image, w, y);                                                          \
            SUM(target, s->padded + half * c, s->up, s->down, w, half, 0, whole);             \
            if (whole < line) {                                                               \
                SUM((PIXEL *)s->tail, s->padded + half * c, s->up, s->down, w, half, whole,   \
                    s->stride);                                                               \
                memcpy(target + whole, s->tail, (size_t)(line - whole) * sizeof(PIXEL));      \
            }                                                                                 \
        }                                                                                     \
    }

BLUR_IMAGE(blur_image_u8, uint8_t, blur_columns_u8, blur_sum_u8)
BLUR_IMAGE(blur_image_f32, float, blur_columns_f32, blur_sum_f32)

#endif
