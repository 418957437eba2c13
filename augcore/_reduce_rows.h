/* The uint8 box reduce's row loops (augcore/_reduce.pyx states the rounding rules): integer
 * sums and one rounding, so the AVX2 clone and the baseline give the same bytes. Compiled
 * twice and picked at run time by GCC's target_clones, as the warp kernel's passes are. */
#ifndef AUGCORE_REDUCE_ROWS_H
#define AUGCORE_REDUCE_ROWS_H

#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__) && \
    !defined(AUGCORE_NO_CPU_DISPATCH)
#define AR_DISPATCH 1
#define AR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define AR_CLONES
#endif

/* Ask for ``rows`` rows of bytes [0, n) from ``line`` into L2, a cache line at a time: the input
 * rows of a later output row, so that DRAM latency overlaps the sums (cold sources). */
static inline void ar_prefetch_rows(const uint8_t *line, int64_t row_bytes, int64_t rows,
                                    int64_t n)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t at = 0; at < n; at += 64)
            __builtin_prefetch(line + r * row_bytes + at, 0, 1);
}

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

/* Boxes of fx = 1 or 2 columns by ``rows`` rows, 1, 3 or 4 channels, in AVX2: per 128-bit
 * lane, 8 output values (6 for RGB: two pixels) from fx times as many input bytes of each row,
 * the box's pixels picked by pshufb into 16-bit sums; then Pillow's rounding (as ar_round) and
 * 8 bytes stored per lane. Loads read 16 bytes and RGB stores write 2 bytes past the lane's
 * values, so the steps stop ``ar_pairs_slack`` boxes short of the row; they are summed by the
 * caller, which finishes the boxes after the ones done (returned: a multiple of the step). */
#define AR_PAIRS_MAX_ROWS 64

static inline int64_t ar_pairs_slack(int64_t fx, int64_t ch)
{
    const int64_t lane_in = (ch == 3 ? 6 : 8) * fx, box = fx * ch;
    const int64_t slack = (16 - lane_in + box - 1) / box;
    return slack > 1 ? slack : 1;
}

#if defined(AR_DISPATCH)
#include <immintrin.h>
#define AR_AVX2 __attribute__((target("avx2")))

AR_AVX2 static inline __m256i ar_round_words(__m256i total, __m256i add, __m256i times, int shift)
{
    total = _mm256_add_epi16(total, add);
    if (shift >= 0)
        return _mm256_srl_epi16(total, _mm_cvtsi32_si128(shift));
    const __m256i zero = _mm256_setzero_si256();
    const __m256i low =
        _mm256_srli_epi32(_mm256_mullo_epi32(_mm256_unpacklo_epi16(total, zero), times), 24);
    const __m256i high =
        _mm256_srli_epi32(_mm256_mullo_epi32(_mm256_unpackhi_epi16(total, zero), times), 24);
    return _mm256_packus_epi32(low, high);
}

AR_AVX2 static int64_t ar_pairs_avx2(uint8_t *out, const uint8_t *src, int64_t row_bytes,
                                     int64_t rows, int64_t boxes, int64_t fx, int64_t ch,
                                     uint32_t amend, uint32_t multiplier, int shift)
{
    const int64_t lane_out = ch == 3 ? 6 : 8, lane_in = fx * lane_out;
    const int64_t step_boxes = 2 * lane_out / ch, slack = ar_pairs_slack(fx, ch);
    const int64_t steps = boxes > slack ? (boxes - slack) / step_boxes : 0;
    uint8_t even[16], odd[16];
    for (int i = 0; i < 8; i++) {
        const int p = i / (int)ch, k = i % (int)ch, used = i < lane_out;
        even[2 * i] = used ? (uint8_t)(fx * p * ch + k) : 0x80;
        odd[2 * i] = used && fx == 2 ? (uint8_t)((2 * p + 1) * ch + k) : 0x80;
        even[2 * i + 1] = odd[2 * i + 1] = 0x80;
    }
    const __m256i pick_even = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)even));
    const __m256i pick_odd = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)odd));
    const __m256i add = _mm256_set1_epi16((short)amend);
    const __m256i times = _mm256_set1_epi32((int)multiplier);
    /* steps stop one box short of the row: the last lane reads 16 bytes from 12 before. */
    for (int64_t q = 0; q < steps; q++) {
        const uint8_t *at = src + q * 2 * lane_in;
        __m256i total = _mm256_setzero_si256();
        for (int64_t r = 0; r < rows; r++) {
            const uint8_t *line = at + r * row_bytes;
            const __m256i bytes = _mm256_inserti128_si256(
                _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)line)),
                _mm_loadu_si128((const __m128i *)(line + lane_in)), 1);
            total = _mm256_add_epi16(total, _mm256_add_epi16(_mm256_shuffle_epi8(bytes, pick_even),
                                                             _mm256_shuffle_epi8(bytes, pick_odd)));
        }
        const __m256i words = ar_round_words(total, add, times, shift);
        const __m256i packed = _mm256_packus_epi16(words, words);
        uint8_t *o = out + q * 2 * lane_out;
        _mm_storel_epi64((__m128i *)o, _mm256_castsi256_si128(packed));
        _mm_storel_epi64((__m128i *)(o + lane_out), _mm256_extracti128_si256(packed, 1));
    }
    return steps * step_boxes;
}

/* Boxes one column wide (fx = 1), any channels: the values of a box are contiguous, so 32
 * values a step, summed down ``rows`` rows in 16-bit lanes and rounded as ar_round. Returns the
 * values done (a multiple of 32, at most n); the caller finishes the rest. */
AR_AVX2 static int64_t ar_columns_avx2(uint8_t *out, const uint8_t *src, int64_t row_bytes,
                                       int64_t rows, int64_t n, uint32_t amend,
                                       uint32_t multiplier, int shift)
{
    const __m256i add = _mm256_set1_epi16((short)amend);
    const __m256i times = _mm256_set1_epi32((int)multiplier);
    const __m256i zero = _mm256_setzero_si256();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i low = zero, high = zero;
        for (int64_t r = 0; r < rows; r++) {
            const __m256i bytes = _mm256_loadu_si256((const __m256i *)(src + r * row_bytes + i));
            low = _mm256_add_epi16(low, _mm256_unpacklo_epi8(bytes, zero));
            high = _mm256_add_epi16(high, _mm256_unpackhi_epi8(bytes, zero));
        }
        const __m256i packed = _mm256_packus_epi16(ar_round_words(low, add, times, shift),
                                                   ar_round_words(high, add, times, shift));
        _mm256_storeu_si256((__m256i *)(out + i), packed);
    }
    return i;
}
#endif

/* ar_columns_avx2 where the build and CPU have AVX2 and there are at most AR_PAIRS_MAX_ROWS
 * rows; else 0 values done. */
static inline int64_t ar_columns(uint8_t *out, const uint8_t *src, int64_t row_bytes,
                                 int64_t rows, int64_t n, uint32_t amend, uint32_t multiplier,
                                 int shift)
{
#if defined(AR_DISPATCH)
    if (rows <= AR_PAIRS_MAX_ROWS && __builtin_cpu_supports("avx2"))
        return ar_columns_avx2(out, src, row_bytes, rows, n, amend, multiplier, shift);
#endif
    (void)out, (void)src, (void)row_bytes, (void)rows, (void)n, (void)amend, (void)multiplier;
    (void)shift;
    return 0;
}

/* ar_pairs_avx2 where the build and CPU have AVX2, for fx 1 or 2, 1, 3 or 4 channels and at
 * most AR_PAIRS_MAX_ROWS rows (16-bit sums); else 0 boxes done. */
static inline int64_t ar_pairs(uint8_t *out, const uint8_t *src, int64_t row_bytes, int64_t rows,
                               int64_t boxes, int64_t fx, int64_t ch, uint32_t amend,
                               uint32_t multiplier, int shift)
{
#if defined(AR_DISPATCH)
    if ((ch == 1 || ch == 3 || ch == 4) && fx == 2 && rows <= AR_PAIRS_MAX_ROWS &&
        boxes > 0 && __builtin_cpu_supports("avx2"))
        return ar_pairs_avx2(out, src, row_bytes, rows, boxes, fx, ch, amend, multiplier, shift);
#endif
    (void)out, (void)src, (void)row_bytes, (void)rows, (void)boxes, (void)fx, (void)ch;
    (void)amend;
    (void)multiplier, (void)shift;
    return 0;
}

#endif /* AUGCORE_REDUCE_ROWS_H */
