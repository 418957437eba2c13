"""Compiled loops of the photometric plugins: one pass over the pixels per operation.

Included by two modules built from the same source: ``_kernels`` (the baseline instruction
set) and ``_kernels_avx2`` (-mavx2), chosen at import by ``augcore.plugins._values`` from
``has_avx2()``. Without -ffp-contract the two compute every value in the same order, so their
results are identical; AVX2 only processes more values at once.

Every kernel takes a batch whose colour values are contiguous, (m, N, C) or (m, H, W, C), of
uint8 or float32 (``pixel``), writes into ``out`` of the same shape and dtype, and runs without
the GIL. Values are float32 throughout (the uint8 blur excepted: 16-bit fixed point,
``_blur_fixed.h``), in the order torchvision's tensor kernels use (and
built with -ffp-contract=off, so no fused multiply-add changes a rounding). Results are
finished as ``augcore.plugins._values.finish`` does: uint8 rounded half to even and clipped to
[0, 255], float32 clipped to [0, 1].
"""

from libc.stdint cimport int64_t, uint8_t

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
    """
    int augcore_has_avx2() nogil


def has_avx2():
    """Whether this CPU runs AVX2 instructions (so ``_kernels_avx2`` may be used)."""
    return bool(augcore_has_avx2())


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


# Pixels per block of the hue and saturation loops: small enough for L1, long enough to
# vectorise.
DEF HUE_BLOCK = 256


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


def blend_luma(const pixel[:, :, ::1] images, pixel[:, :, ::1] out, float[::1] factor):
    """Saturation on (m, N, 3): each pixel blended with its own luma (``ImageEnhance.Color``),
    over blocks: the luma of each pixel repeated per channel, then one contiguous blend."""
    cdef Py_ssize_t i, start, count, k, j
    cdef float gray[3 * HUE_BLOCK]
    cdef float f, v, luma
    cdef const pixel* rgb
    cdef pixel* target
    with nogil:
        for i in range(images.shape[0]):
            f = factor[i]
            for start in range(0, images.shape[1], HUE_BLOCK):
                count = min(HUE_BLOCK, images.shape[1] - start)
                rgb = &images[i, start, 0]
                for k in range(count):
                    luma = _luma(&rgb[3 * k])
                    gray[3 * k] = luma
                    gray[3 * k + 1] = luma
                    gray[3 * k + 2] = luma
                target = &out[i, start, 0]
                for j in range(3 * count):
                    v = <float>rgb[j] - gray[j]
                    v = v * f
                    _store(&target[j], v + gray[j])


def luma_means(const pixel[:, :, ::1] images):
    """(m,) float64 mean luma of (m, N, C) images, C = 3 (luma) or 1 (the values)."""
    import numpy as np

    means = np.empty(images.shape[0], dtype=np.float64)
    cdef double[::1] result = means
    cdef Py_ssize_t i, j
    cdef double total
    cdef bint rgb = images.shape[2] == 3
    with nogil:
        for i in range(images.shape[0]):
            total = 0.0
            for j in range(images.shape[1]):
                total += _luma(&images[i, j, 0]) if rgb else <float>images[i, j, 0]
            result[i] = total / images.shape[1]
    return means


cdef extern from "_hue.h":
    void hue_rotate(float* r, float* g, float* b, long count, float turn) nogil

def hue_shift(const pixel[:, :, ::1] images, pixel[:, :, ::1] out, float[::1] shift):
    """Turn the hue of (m, N, 3) images by ``shift`` turns in float HSV (torchvision's maths,
    branch-free in ``_hue.h``), over blocks of pixels: converted to float and back in
    contiguous runs, de-interleaved into planes in between (every loop vectorises)."""
    cdef Py_ssize_t i, start, count, k, j
    cdef float planes[3][HUE_BLOCK]
    cdef float values[3 * HUE_BLOCK]
    cdef float white = 255.0, to_unit = 1.0 / 255.0
    cdef const pixel* rgb
    cdef pixel* target
    with nogil:
        for i in range(images.shape[0]):
            for start in range(0, images.shape[1], HUE_BLOCK):
                count = min(HUE_BLOCK, images.shape[1] - start)
                rgb = &images[i, start, 0]
                for j in range(3 * count):
                    if pixel is uint8_t:
                        values[j] = <float>rgb[j] * to_unit
                    else:
                        values[j] = rgb[j]
                for k in range(count):
                    planes[0][k] = values[3 * k]
                    planes[1][k] = values[3 * k + 1]
                    planes[2][k] = values[3 * k + 2]
                hue_rotate(planes[0], planes[1], planes[2], count, shift[i])
                for k in range(count):
                    values[3 * k] = planes[0][k]
                    values[3 * k + 1] = planes[1][k]
                    values[3 * k + 2] = planes[2][k]
                target = &out[i, start, 0]
                for j in range(3 * count):
                    if pixel is uint8_t:
                        _store(&target[j], values[j] * white)
                    else:
                        _store(&target[j], values[j])


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
    table: ``tables`` is (m, C, 256)."""
    cdef Py_ssize_t i, j, c, channels = images.shape[2]
    with nogil:
        for i in range(images.shape[0]):
            for j in range(images.shape[1]):
                for c in range(channels):
                    out[i, j, c] = tables[i, c, images[i, j, c]]


def histograms(const uint8_t[:, :, ::1] images):
    """(m, C, 256) int64 counts of each value in each channel of (m, N, C) uint8 images."""
    import numpy as np

    counts = np.zeros((images.shape[0], images.shape[2], 256), dtype=np.int64)
    cdef int64_t[:, :, ::1] view = counts
    cdef Py_ssize_t i, j, c
    with nogil:
        for i in range(images.shape[0]):
            for j in range(images.shape[1]):
                for c in range(images.shape[2]):
                    view[i, c, images[i, j, c]] += 1
    return counts


def channel_ranges(const pixel[:, :, ::1] images):
    """(low, high): (m, C) float64 minimum and maximum of each channel of (m, N, C) images."""
    import numpy as np

    low = np.empty((images.shape[0], images.shape[2]), dtype=np.float64)
    high = np.empty_like(low)
    cdef double[:, ::1] lows = low
    cdef double[:, ::1] highs = high
    cdef Py_ssize_t i, j, c
    cdef float value
    with nogil:
        for i in range(images.shape[0]):
            for c in range(images.shape[2]):
                lows[i, c] = images[i, 0, c]
                highs[i, c] = images[i, 0, c]
            for j in range(images.shape[1]):
                for c in range(images.shape[2]):
                    value = images[i, j, c]
                    if value < lows[i, c]:
                        lows[i, c] = value
                    elif value > highs[i, c]:
                        highs[i, c] = value
    return low, high


def sharpen(const pixel[:, :, :, ::1] images, pixel[:, :, :, ::1] out, float[::1] factor):
    """``ImageEnhance.Sharpness`` on (m, H, W, C): blend with Pillow's SMOOTH filter (3x3,
    centre 5, sum 13; rounded on uint8); the outermost rows and columns keep their values."""
    cdef Py_ssize_t m = images.shape[0], height = images.shape[1], width = images.shape[2]
    cdef Py_ssize_t channels = images.shape[3], line = width * channels, i, y, j
    cdef const pixel* above
    cdef const pixel* row
    cdef const pixel* below
    cdef pixel* target
    cdef float f, smooth, v, four = 4.0, thirteenth = 13.0, half = 0.5
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
                for j in range(channels, line - channels):
                    smooth = (<float>above[j - channels] + above[j] + above[j + channels]
                              + row[j - channels] + row[j + channels]
                              + below[j - channels] + below[j] + below[j + channels])
                    smooth = (smooth + four * row[j] + <float>row[j]) / thirteenth
                    if pixel is uint8_t:
                        smooth = <float>(<int>(smooth + half))  # Pillow's rounding (>= 0)
                    v = <float>row[j] - smooth
                    v = v * f
                    _store(&target[j], v + smooth)
