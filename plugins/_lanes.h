/* Float32 lanes for the colour loops of plugins/_kernels.pxi (_hue.h, _jitter.h): 16 in the
 * -mavx512f build, 8 (AVX) in the -mavx2 build, 4 (SSE2) in the baseline one, none where
 * neither is defined (the scalar reference loops then do all the work).
 *
 * Only operations whose IEEE results do not depend on the width are here: add, sub, mul, div,
 * comparisons, bit selects, rounding and conversions to integers, and min/max, whose x86 semantics are
 * exactly C's ``a < b ? a : b`` and ``a > b ? a : b`` (NaN and signed zeros included). So a lane computes the bits of the
 * scalar reference written with those ternaries, in either build. No FMA, no rcp/rsqrt.
 */
#ifndef AUGCORE_LANES_H
#define AUGCORE_LANES_H

#include <stdint.h>

/* Adding and subtracting 1.5 * 2**23 rounds a float in [0, 2**22) half to even, as rintf does,
 * without a libm call (x86-64's baseline has no rounding instruction). */
#define AUGCORE_ROUNDER 12582912.0f

#if defined(__AVX512F__)
#include <immintrin.h>
#define AUGCORE_LANES 16
typedef __m512 lanes;
typedef __mmask16 lanes_mask; /* what comparisons give and selects take */
#define lanes_load _mm512_loadu_ps
#define lanes_store _mm512_storeu_ps
#define lanes_set _mm512_set1_ps
#define lanes_add _mm512_add_ps
#define lanes_sub _mm512_sub_ps
#define lanes_mul _mm512_mul_ps
#define lanes_div _mm512_div_ps
#define lanes_min _mm512_min_ps
#define lanes_max _mm512_max_ps
#define lanes_eq(a, b) _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ)
#define lanes_ge(a, b) _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ)
#define lanes_lt(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ)
#define lanes_select(mask, a, b) _mm512_mask_blend_ps(mask, b, a)
#define lanes_truncate(a) _mm512_cvtepi32_ps(_mm512_cvttps_epi32(a))
#define lanes_round(a) _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#elif defined(__AVX2__)
#include <immintrin.h>
#define AUGCORE_LANES 8
typedef __m256 lanes;
typedef __m256 lanes_mask;
#define lanes_load _mm256_loadu_ps
#define lanes_store _mm256_storeu_ps
#define lanes_set _mm256_set1_ps
#define lanes_add _mm256_add_ps
#define lanes_sub _mm256_sub_ps
#define lanes_mul _mm256_mul_ps
#define lanes_div _mm256_div_ps
#define lanes_min _mm256_min_ps
#define lanes_max _mm256_max_ps
#define lanes_eq(a, b) _mm256_cmp_ps(a, b, _CMP_EQ_OQ)
#define lanes_ge(a, b) _mm256_cmp_ps(a, b, _CMP_GE_OQ)
#define lanes_lt(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ)
/* mask ? a : b, lane by lane (masks are all ones or all zeros) */
#define lanes_select(mask, a, b) _mm256_blendv_ps(b, a, mask)
/* toward zero to an integer, kept as a float (exact below 2**31) */
#define lanes_truncate(a) _mm256_cvtepi32_ps(_mm256_cvttps_epi32(a))
/* half to even to an integer, as augcore_finish rounds values in [0, 2**22] */
#define lanes_round(a) _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#elif defined(__SSE2__)
#include <emmintrin.h>
#define AUGCORE_LANES 4
typedef __m128 lanes;
typedef __m128 lanes_mask;
#define lanes_load _mm_loadu_ps
#define lanes_store _mm_storeu_ps
#define lanes_set _mm_set1_ps
#define lanes_add _mm_add_ps
#define lanes_sub _mm_sub_ps
#define lanes_mul _mm_mul_ps
#define lanes_div _mm_div_ps
#define lanes_min _mm_min_ps
#define lanes_max _mm_max_ps
#define lanes_eq _mm_cmpeq_ps
#define lanes_ge _mm_cmpge_ps
#define lanes_lt _mm_cmplt_ps
#define lanes_select(mask, a, b) _mm_or_ps(_mm_and_ps(mask, a), _mm_andnot_ps(mask, b))
#define lanes_truncate(a) _mm_cvtepi32_ps(_mm_cvttps_epi32(a))
#define lanes_round(a) \
    _mm_sub_ps(_mm_add_ps(a, _mm_set1_ps(AUGCORE_ROUNDER)), _mm_set1_ps(AUGCORE_ROUNDER))
#endif

#endif
