# Part of the photometric kernels, textually included by _kernels.pxi: the colour operations
# (color_jitter, blend_luma, hue_shift) on blocks of float planes, with the C of _jitter.h.
# It shares that module's namespace: pixel, BLOCK and the operation codes.


cdef extern from "_jitter.h":
    float UNIT "(float)(1.0 / 255.0)"
    void hue_rotate(
        float* r, float* g, float* b, long count, float turn, float to_unit, float white,
        int levels
    ) nogil
    void blend_plane(float* x, long count, float factor, float base, float white, int levels) nogil
    void blend_luma_planes(
        float* r, float* g, float* b, long count, float factor, float white, int levels
    ) nogil
    long long level_luma_sum(
        const float* r, const float* g, const float* b, long count, int channels
    ) nogil
    double float_luma_sum(
        const float* r, const float* g, const float* b, long count, int channels, double total
    ) nogil
    ctypedef uint8_t Shuffles "rgb_shuffle_table"[2][3][3][16]
    void rgb_shuffles(Shuffles shuffles) nogil
    void rgb_to_planes(
        const uint8_t* rgb, float* planes, long stride, long count, const Shuffles shuffles
    ) nogil
    void planes_to_rgb(
        const float* planes, long stride, uint8_t* rgb, long count, const Shuffles shuffles
    ) nogil


cdef inline void _to_planes(
    const pixel* values, float* planes, Py_ssize_t count, Py_ssize_t channels,
    const Shuffles shuffles
) noexcept nogil:
    """``count`` interleaved pixels into planes ``planes[c * BLOCK + k]``, as floats."""
    cdef Py_ssize_t k
    if pixel is uint8_t:
        if channels == 3:
            rgb_to_planes(values, planes, BLOCK, count, shuffles)
            return
    if channels == 3:
        for k in range(count):
            planes[k] = values[3 * k]
            planes[BLOCK + k] = values[3 * k + 1]
            planes[2 * BLOCK + k] = values[3 * k + 2]
    else:
        for k in range(count):
            planes[k] = values[k]


cdef inline void _from_planes(
    const float* planes, pixel* values, Py_ssize_t count, Py_ssize_t channels,
    const Shuffles shuffles
) noexcept nogil:
    """The planes' finished values back into interleaved pixels (exact: on uint8 they are
    integers in [0, 255] already)."""
    cdef Py_ssize_t k
    if pixel is uint8_t:
        if channels == 3:
            planes_to_rgb(planes, BLOCK, values, count, shuffles)
        else:
            for k in range(count):
                values[k] = <uint8_t>(<int>planes[k])
    elif channels == 3:
        for k in range(count):
            values[3 * k] = planes[k]
            values[3 * k + 1] = planes[BLOCK + k]
            values[3 * k + 2] = planes[2 * BLOCK + k]
    else:
        for k in range(count):
            values[k] = planes[k]


cdef void _operate(
    float* planes, Py_ssize_t count, Py_ssize_t channels, const int64_t* ops, int first,
    int stop, const float* amounts, float mean, float white, int levels
) noexcept nogil:
    """Operations ``ops[first:stop]`` on a block of planes, each finished before the next."""
    cdef int position, c
    cdef int64_t op
    for position in range(first, stop):
        op = ops[position]
        if op == BRIGHTNESS or op == CONTRAST:
            for c in range(channels):
                blend_plane(
                    planes + c * BLOCK, count, amounts[op], mean if op == CONTRAST else 0.0,
                    white, levels,
                )
        elif op == SATURATION and channels == 3:
            blend_luma_planes(
                planes, planes + BLOCK, planes + 2 * BLOCK, count, amounts[op], white, levels
            )
        elif op == HUE and channels == 3:
            hue_rotate(
                planes, planes + BLOCK, planes + 2 * BLOCK, count, amounts[op],
                UNIT if levels else 1.0, white, levels,
            )


def color_jitter(
    const pixel[:, :, ::1] images, pixel[:, :, ::1] out, const float[:, ::1] amounts,
    const int64_t[:, ::1] order
):
    """torchvision's ColorJitter on (m, N, C) images, C = 1 or 3: image i gets the operations
    ``order[i]`` (0 brightness, 1 contrast, 2 saturation, 3 hue; negative codes are skipped)
    by ``amounts[i, op]``, each finished on the dtype's grid before the next, as one kernel
    per operation would leave them; saturation and hue leave gray images unchanged.

    One pass over blocks of pixels applies the operations in turn while the block is in L1;
    contrast blends with the mean luma of what precedes it, so an image with contrast is two
    passes: the operations before it (the block lumas summed as they are finished), then
    contrast and the rest.
    """
    cdef Py_ssize_t m = images.shape[0], n = images.shape[1], channels = images.shape[2]
    cdef Py_ssize_t i, start, count
    cdef float planes[3 * BLOCK]
    cdef int64_t ops[OPERATIONS]
    cdef int split, first, position, levels = pixel is uint8_t
    cdef bint before
    cdef float white = 255.0 if pixel is uint8_t else 1.0, mean
    cdef long long level_total
    cdef double total, average
    cdef const pixel* source
    cdef Shuffles shuffles
    rgb_shuffles(shuffles)
    with nogil:
        for i in range(m):
            split, before = OPERATIONS, False
            for position in range(OPERATIONS):
                ops[position] = order[i, position]
                if ops[position] == CONTRAST and split == OPERATIONS:
                    split = position
                before = before or (ops[position] >= 0 and split == OPERATIONS)
            source, first, mean = &images[i, 0, 0], 0, 0.0
            if split < OPERATIONS:
                # The operations before contrast, written out only if there are any; the
                # lumas of their results summed as each block is finished.
                level_total, total = 0, 0.0
                for start in range(0, n, BLOCK):
                    count = min(BLOCK, n - start)
                    _to_planes(&images[i, start, 0], planes, count, channels, shuffles)
                    _operate(planes, count, channels, ops, 0, split, &amounts[i, 0], 0.0,
                             white, levels)
                    if levels:
                        level_total += level_luma_sum(
                            planes, planes + BLOCK, planes + 2 * BLOCK, count, channels
                        )
                    else:
                        total = float_luma_sum(
                            planes, planes + BLOCK, planes + 2 * BLOCK, count, channels, total
                        )
                    if before:
                        _from_planes(planes, &out[i, start, 0], count, channels, shuffles)
                # luma_means' value and rounding: an exact sum, divided in double
                average = (<double>level_total if levels else total) / n
                mean = <float>(floor(average + 0.5) if levels else average)
                first = split
                if before:
                    source = &out[i, 0, 0]
            for start in range(0, n, BLOCK):
                count = min(BLOCK, n - start)
                _to_planes(source + start * channels, planes, count, channels, shuffles)
                _operate(planes, count, channels, ops, first, OPERATIONS, &amounts[i, 0], mean,
                         white, levels)
                _from_planes(planes, &out[i, start, 0], count, channels, shuffles)


def _single(
    const pixel[:, :, ::1] images, pixel[:, :, ::1] out, float[::1] amount, int64_t op
):
    """One operation of ``color_jitter`` by ``amount[i]`` on image i."""
    import numpy as np

    amounts = np.zeros((images.shape[0], OPERATIONS), np.float32)
    amounts[:, op] = amount
    order = np.full((images.shape[0], OPERATIONS), -1, np.int64)
    order[:, 0] = op
    color_jitter(images, out, amounts, order)


def blend_luma(const pixel[:, :, ::1] images, pixel[:, :, ::1] out, float[::1] factor):
    """Saturation on (m, N, 3): each pixel blended with its own luma (``ImageEnhance.Color``)."""
    _single(images, out, factor, SATURATION)


def hue_shift(const pixel[:, :, ::1] images, pixel[:, :, ::1] out, float[::1] shift):
    """Turn the hue of (m, N, 3) images by ``shift`` turns in float HSV (torchvision's maths,
    branch-free in ``_hue.h``)."""
    _single(images, out, shift, HUE)
