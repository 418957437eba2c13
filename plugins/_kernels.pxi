"""Compiled loops of the photometric plugins.

Included by three modules built from the same source: ``_kernels`` (the baseline instruction
set), ``_kernels_avx2`` (-mavx2) and ``_kernels_avx512`` (-mavx512f), chosen at import by
``augcore.plugins._values`` from ``has_avx512()`` and ``has_avx2()``. Without -ffp-contract
they compute every value in the same order, so their results are identical; the wider builds
only process more values at once. The colour operations
(``color_jitter``, ``blend_luma``, ``hue_shift``) work on planes of floats, a block of pixels
at a time, in C (``_jitter.h``, ``_hue.h``): lanes of 16, 8 or 4 floats written with
the operations of ``_lanes.h``, whose results do not depend on the width, and a scalar
reference loop for the rest of a block.

Every kernel takes a batch whose colour values are contiguous, (m, N, C) or (m, H, W, C), of
uint8 or float32 (``pixel``), writes into ``out`` of the same shape and dtype, and runs without
the GIL. Values are float32 throughout (the uint8 blur excepted: 16-bit fixed point,
``_blur_fixed.h``), in the order torchvision's tensor kernels use (and
built with -ffp-contract=off, so no fused multiply-add changes a rounding). Results are
finished as ``augcore.plugins._values.finish`` does: uint8 rounded half to even and clipped to
[0, 255], float32 clipped to [0, 1].
"""

from libc.stdint cimport int64_t, uint8_t
from libc.math cimport floor
from libc.stdlib cimport free, malloc

cdef extern from *:
    """
    static int augcore_has_avx2(void) {
    #if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2");
    #else
        return 0;
    #endif
    }
    static int augcore_has_avx512(void) {
    #if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f");
    #else
        return 0;
    #endif
    }
    """
    int augcore_has_avx2() nogil
    int augcore_has_avx512() nogil


def has_avx2():
    """Whether this CPU runs AVX2 instructions (so ``_kernels_avx2`` may be used)."""
    return bool(augcore_has_avx2())


def has_avx512():
    """Whether this CPU runs AVX-512F instructions (so ``_kernels_avx512`` may be used)."""
    return bool(augcore_has_avx512())


ctypedef fused pixel:
    uint8_t
    float

# Pillow's integer luma L = (19595 R + 38470 G + 7471 B + 2**15) >> 16 (at most 255 * 2**16
# + 2**15: int32 is enough); torchvision's float one.
cdef int LUMA_R = 19595, LUMA_G = 38470, LUMA_B = 7471, LUMA_HALF = 1 << 15
cdef float FLOAT_R = 0.2989, FLOAT_G = 0.587, FLOAT_B = 0.114


# Adding and subtracting 1.5 * 2**23 rounds a float in [0, 2**22) half to even, as rintf does,
# without a libm call (x86-64's baseline has no rounding instruction).
cdef float ROUNDER = 12582912.0


cdef inline float _clip(float value, float high) noexcept nogil:
    value = value if value > 0.0 else 0.0  # NaN becomes 0
    return value if value < high else high


cdef inline void _store(pixel* dst, float value) noexcept nogil:
    cdef float clipped
    if pixel is uint8_t:
        clipped = _clip(value, 255.0) + ROUNDER
        dst[0] = <uint8_t>(<int>(clipped - ROUNDER))
    else:
        dst[0] = _clip(value, 1.0)


cdef inline float _luma(const pixel* rgb) noexcept nogil:
    if pixel is uint8_t:
        return <float>((LUMA_R * rgb[0] + LUMA_G * rgb[1] + LUMA_B * rgb[2] + LUMA_HALF) >> 16)
    else:
        return rgb[0] * FLOAT_R + rgb[1] * FLOAT_G + rgb[2] * FLOAT_B


# Pixels per block of the colour loops: three planes of them stay in L1, long enough to
# vectorise.
DEF BLOCK = 512
# The operations of ``color_jitter``, as torchvision numbers them; a negative code is none.
DEF BRIGHTNESS = 0
DEF CONTRAST = 1
DEF SATURATION = 2
DEF HUE = 3
DEF OPERATIONS = 4


def blend_constant(
    const pixel[:, ::1] images, pixel[:, ::1] out, float[::1] factor, float[::1] base
):
    """``base + factor * (x - base)`` per image (brightness: base 0; contrast: the mean)."""
    cdef Py_ssize_t i, j
    cdef float f, b, v
    with nogil:
        for i in range(images.shape[0]):
            f, b = factor[i], base[i]
            for j in range(images.shape[1]):
                v = <float>images[i, j] - b
                v = v * f
                _store(&out[i, j], v + b)


def luma_means(const pixel[:, :, ::1] images):
    """(m,) float64 mean luma of (m, N, C) images, C = 3 (luma) or 1 (the values).

    uint8 lumas are integers: summed exactly in int64 (the double sum of the same integers,
    in any order); float32 lumas are added one by one in pixel order."""
    import numpy as np

    means = np.empty(images.shape[0], dtype=np.float64)
    cdef double[::1] result = means
    cdef Py_ssize_t i, j
    cdef double total
    cdef int64_t levels
    cdef const pixel* rgb
    cdef bint colour = images.shape[2] == 3
    with nogil:
        for i in range(images.shape[0]):
            if pixel is uint8_t:
                levels = 0
                rgb = &images[i, 0, 0]
                if colour:
                    for j in range(images.shape[1]):
                        levels += (LUMA_R * rgb[3 * j] + LUMA_G * rgb[3 * j + 1]
                                   + LUMA_B * rgb[3 * j + 2] + LUMA_HALF) >> 16
                else:
                    for j in range(images.shape[1]):
                        levels += rgb[j]
                total = <double>levels
            else:
                total = 0.0
                for j in range(images.shape[1]):
                    total += _luma(&images[i, j, 0]) if colour else <float>images[i, j, 0]
            result[i] = total / images.shape[1]
    return means


include "_color.pxi"


cdef extern from "_blur_fixed.h":
    ctypedef struct blur_scratch:
        pass
    int blur_init(blur_scratch* s, long height, long width, long channels, long size) nogil
    void blur_free(blur_scratch* s) nogil
    void blur_image_uint8(blur_scratch* s, const uint8_t* image, uint8_t* out, const float* w) nogil
    void blur_image_f32(blur_scratch* s, const float* image, float* out, const float* w) nogil

def gaussian_blur(
    const pixel[:, :, :, ::1] images, pixel[:, :, :, ::1] out, float[:, ::1] weights
):
    """Separable blur of (m, H, W, C) images, image i with the symmetric 1-D kernel
    ``weights[i]``: columns then rows, mirrored taps added before they are weighted; float32
    in ``_blur.h``, uint8 in 16-bit fixed point in ``_blur_fixed.h`` (which says when)."""
    cdef Py_ssize_t i
    cdef blur_scratch scratch
    if blur_init(&scratch, images.shape[1], images.shape[2], images.shape[3], weights.shape[1]):
        raise MemoryError()
    with nogil:
        for i in range(images.shape[0]):
            if pixel is uint8_t:
                blur_image_uint8(&scratch, &images[i, 0, 0, 0], &out[i, 0, 0, 0], &weights[i, 0])
            else:
                blur_image_f32(&scratch, &images[i, 0, 0, 0], &out[i, 0, 0, 0], &weights[i, 0])
    blur_free(&scratch)


def apply_tables(
    const uint8_t[:, :, ::1] images, uint8_t[:, :, ::1] out, const uint8_t[:, :, ::1] tables
):
    """Look each value of (m, N, C) uint8 images up in its image's and channel's 256-entry
    table: ``tables`` is (m, C, 256), or (m, 1, 256) for one table for every channel.

    Values go three at a time (an RGB pixel, or any three with one table): three independent
    lookups an iteration, which GCC leaves scalar (its vectorised byte lookups are slower)."""
    cdef Py_ssize_t i, j, c, channels = images.shape[2]
    cdef Py_ssize_t values = images.shape[1] * channels
    cdef Py_ssize_t second, third
    cdef const uint8_t* source
    cdef const uint8_t* table
    cdef uint8_t* target
    cdef bint shared = tables.shape[1] == 1
    with nogil:
        for i in range(images.shape[0]):
            source, target, table = &images[i, 0, 0], &out[i, 0, 0], &tables[i, 0, 0]
            if shared or channels == 3:
                second, third = (0, 0) if shared else (256, 512)
                for j in range(values // 3):
                    target[3 * j] = table[source[3 * j]]
                    target[3 * j + 1] = table[second + source[3 * j + 1]]
                    target[3 * j + 2] = table[third + source[3 * j + 2]]
                for j in range(values - values % 3, values):
                    target[j] = table[source[j]]
                continue
            for c in range(channels):
                table = &tables[i, c, 0]
                for j in range(images.shape[1]):
                    target[j * channels + c] = table[source[j * channels + c]]


def histograms(const uint8_t[:, :, ::1] images):
    """(m, C, 256) int64 counts of each value in each channel of (m, N, C) uint8 images.

    Even and odd pixels count into two tables, added at the end: a run of equal values (a flat
    region) then increments two counters in turn, not one counter after its own update."""
    import numpy as np

    cdef Py_ssize_t channels = images.shape[2], values = images.shape[1] * channels
    counts = np.zeros((images.shape[0], channels, 256), dtype=np.int64)
    halves = np.zeros((2, channels, 256), dtype=np.int64)
    cdef int64_t[:, :, ::1] view = counts
    cdef int64_t[:, :, ::1] half = halves
    cdef int64_t* even = &half[0, 0, 0]
    cdef int64_t* odd = &half[1, 0, 0]
    cdef Py_ssize_t i, j, c, v, pair = 2 * channels
    cdef const uint8_t* source
    with nogil:
        for i in range(images.shape[0]):
            source = &images[i, 0, 0]
            for j in range(values // pair):
                for c in range(channels):
                    even[c * 256 + source[j * pair + c]] += 1
                    odd[c * 256 + source[j * pair + channels + c]] += 1
            for j in range(values - values % pair, values):
                even[(j % channels) * 256 + source[j]] += 1
            for c in range(channels):
                for v in range(256):
                    view[i, c, v] = even[c * 256 + v] + odd[c * 256 + v]
                    even[c * 256 + v] = 0
                    odd[c * 256 + v] = 0
    return counts


# Lanes of the uint8 minimum and maximum: a multiple of 1, 2, 3 and 4 channels and of 16.
DEF RANGE_LANES = 48


def channel_ranges(const pixel[:, :, ::1] images):
    """(low, high): (m, C) float64 minimum and maximum of each channel of (m, N, C) images.

    uint8 with 48 % C == 0: the values in runs of 48, a lane per position (lane k holds
    channel k % C), so the loop is lane-wise minima and maxima; then the lanes and the rest."""
    import numpy as np

    low = np.empty((images.shape[0], images.shape[2]), dtype=np.float64)
    high = np.empty_like(low)
    cdef double[:, ::1] lows = low
    cdef double[:, ::1] highs = high
    cdef Py_ssize_t i, j, c, k, channels = images.shape[2]
    cdef Py_ssize_t values = images.shape[1] * channels, whole
    cdef float value
    cdef uint8_t lane_low[RANGE_LANES]
    cdef uint8_t lane_high[RANGE_LANES]
    cdef const uint8_t* source
    with nogil:
        for i in range(images.shape[0]):
            for c in range(channels):
                lows[i, c] = images[i, 0, c]
                highs[i, c] = images[i, 0, c]
            if pixel is uint8_t:
                if RANGE_LANES % channels == 0:
                    source = &images[i, 0, 0]
                    for k in range(RANGE_LANES):
                        lane_low[k], lane_high[k] = 255, 0
                    whole = values - values % RANGE_LANES
                    for j in range(whole // RANGE_LANES):
                        for k in range(RANGE_LANES):
                            lane_low[k] = min(lane_low[k], source[j * RANGE_LANES + k])
                            lane_high[k] = max(lane_high[k], source[j * RANGE_LANES + k])
                    if whole:
                        for k in range(RANGE_LANES):
                            lows[i, k % channels] = min(lows[i, k % channels], lane_low[k])
                            highs[i, k % channels] = max(highs[i, k % channels], lane_high[k])
                    for j in range(whole, values):
                        lows[i, j % channels] = min(lows[i, j % channels], source[j])
                        highs[i, j % channels] = max(highs[i, j % channels], source[j])
                    continue
            for j in range(images.shape[1]):
                for c in range(channels):
                    value = images[i, j, c]
                    if value < lows[i, c]:
                        lows[i, c] = value
                    elif value > highs[i, c]:
                        highs[i, c] = value
    return low, high


def sharpen(const pixel[:, :, :, ::1] images, pixel[:, :, :, ::1] out, float[::1] factor):
    """``ImageEnhance.Sharpness`` on (m, H, W, C): blend with Pillow's SMOOTH filter (3x3,
    centre 5, sum 13; rounded on uint8); the outermost rows and columns keep their values.

    On uint8 every sum is an integer, exact in float in any order: each row first sums its
    three source rows per column (``columns``), then each value adds three of those and four
    more centres, one loop the compiler vectorises; float32 sums keep Pillow's order."""
    cdef Py_ssize_t m = images.shape[0], height = images.shape[1], width = images.shape[2]
    cdef Py_ssize_t channels = images.shape[3], line = width * channels, i, y, j
    cdef const pixel* above
    cdef const pixel* row
    cdef const pixel* below
    cdef pixel* target
    cdef float f, smooth, v, four = 4.0, thirteenth = 13.0, half = 0.5
    cdef float* columns = <float*>malloc(max(line, 1) * sizeof(float))
    if columns == NULL:
        raise MemoryError()
    try:
        with nogil:
            for i in range(m):
                f = factor[i]
                for y in range(height):
                    row = &images[i, y, 0, 0]
                    target = &out[i, y, 0, 0]
                    if y == 0 or y == height - 1 or width < 3:
                        for j in range(line):
                            target[j] = row[j]
                        continue
                    above = row - line
                    below = row + line
                    for j in range(channels):
                        target[j] = row[j]
                        target[line - channels + j] = row[line - channels + j]
                    if pixel is uint8_t:
                        for j in range(line):
                            columns[j] = <float>above[j] + <float>row[j] + <float>below[j]
                        for j in range(channels, line - channels):
                            smooth = (columns[j - channels] + columns[j] + columns[j + channels]
                                      + four * row[j]) / thirteenth
                            smooth = <float>(<int>(smooth + half))  # Pillow's rounding (>= 0)
                            v = <float>row[j] - smooth
                            v = v * f
                            _store(&target[j], v + smooth)
                    else:
                        for j in range(channels, line - channels):
                            smooth = (<float>above[j - channels] + above[j] + above[j + channels]
                                      + row[j - channels] + row[j + channels]
                                      + below[j - channels] + below[j] + below[j + channels])
                            smooth = (smooth + four * row[j] + <float>row[j]) / thirteenth
                            v = <float>row[j] - smooth
                            v = v * f
                            _store(&target[j], v + smooth)
    finally:
        free(columns)
