/* The uint8 box reduce's row loops (augcore/_reduce.pyx states the rounding rules): integer
 * sums and one rounding, so the AVX2 clone and the baseline give the same bytes. Compiled
 * twice and picked at run time by GCC's target_clones, as the warp kernel's passes are. */
#ifndef AUGCORE_REDUCE_ROWS_H
#define AUGCORE_REDUCE_ROWS_H

#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__) && \
    !defined(AUGCORE_NO_CPU_DISPATCH)
#define AR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define AR_CLONES
#endif

/* Column sums of a box row: sums[i] = line[i] (``first``), else sums[i] += line[i]. */
AR_CLONES
static void ar_add_row(uint32_t *restrict sums, const uint8_t *restrict line, int64_t n,
                       int first)
{
    if (first) {
        for (int64_t i = 0; i < n; i++)
            sums[i] = line[i];
        return;
    }
    for (int64_t i = 0; i < n; i++)
        sums[i] += line[i];
}

/* Box sums at every value: boxes[i] = sums[i] + sums[i + ch] + ... (fx terms); only the values
 * that start a box are kept, but the contiguous loop vectorises where the strided one cannot. */
AR_CLONES
static void ar_add_columns(uint32_t *restrict boxes, const uint32_t *restrict sums, int64_t n,
                           int64_t fx, int64_t ch)
{
    for (int64_t i = 0; i < n; i++)
        boxes[i] = sums[i];
    for (int64_t j = 1; j < fx; j++)
        for (int64_t i = 0; i < n; i++)
            boxes[i] += sums[i + j * ch];
}

/* Pillow's rounding of box sums: ((total + amend) * multiplier) >> 24 in uint32; when the
 * multiplier is 2^(24 - shift) (a power-of-two box), the same value is (total + amend) >> shift
 * (no overflow either way: total + amend < 2^(32 - 24 + 8 + log2 scale) is kept by the caller). */
AR_CLONES
static void ar_round(uint8_t *restrict out, const uint32_t *restrict totals, int64_t n,
                     uint32_t amend, uint32_t multiplier, int shift)
{
    if (shift >= 0) {
        for (int64_t i = 0; i < n; i++)
            out[i] = (uint8_t)((totals[i] + amend) >> shift);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        out[i] = (uint8_t)(((totals[i] + amend) * multiplier) >> 24);
}

#endif /* AUGCORE_REDUCE_ROWS_H */
