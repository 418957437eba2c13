# cython: language_level=3, cdivision=True
"""The box reduce, bit-compatible with Pillow's ``Image.reduce`` (libImaging/Reduce.c).

Each output pixel is the mean of an fy x fx box of input pixels, channel by channel; where the
input size is not a multiple of the factor, the last row and column of boxes are smaller and
average what they cover. ``augcore.reduce`` validates everything and passes C-contiguous
(N, H, W, C) arrays; ``reduce_batch`` then runs without the GIL.

Exactness rules, from Reduce.c:

- uint8: the integer sum of a box of ``scale`` pixels plus ``scale / 2`` (integer division),
  times ``multiplier = (uint32)(2^32 as float / (float)(256 scale))``, shifted right by 24, all
  in uint32 (no overflow: the product stays below 256 * 2^24). Integer sums, so any order.
- float32, full boxes (ImagingReduceNxN_32bpc): a double sum over pairs of rows and pairs of
  columns, each group first added in float32 — ``((a + b) + c) + d`` for a 2x2 group, ``a + b``
  for the odd column's pair of rows or the odd row's pair of columns — times
  ``1.0 / (fx fy)``, cast to float32.
- float32, partial boxes (ImagingReduceCorners_32bpc): a plain double sum in row-major order
  times ``1.0 / (box width * box height)``.
"""

from libc.stdint cimport uint8_t, uint32_t
from libc.stdlib cimport calloc, free


cdef struct Boxes:
    Py_ssize_t h, w, channels, fy, fx, h_out, w_out


cdef inline uint32_t u8_multiplier(Py_ssize_t scale) noexcept nogil:
    """Reduce.c's division_UINT32(scale, 8): a float division, truncated."""
    cdef float top = 4294967296.0
    return <uint32_t>(top / <float>(<uint32_t>256 * <uint32_t>scale))


cdef inline void add_row_u8(const uint8_t *line, uint32_t *sums, const Boxes *b) noexcept nogil:
    """Add one input row to the row of box sums. Full boxes of 1-4 channels take loops with
    constant trip counts (the compiler keeps the sums in registers); the rest, the plain loop."""
    cdef Py_ssize_t x, xx, k, x_end, ch = b.channels, fx = b.fx
    cdef Py_ssize_t full = b.w // fx if ch <= 4 else 0
    cdef uint32_t a0, a1, a2, a3
    cdef const uint8_t *p
    for x in range(full):
        p = line + x * fx * ch
        a0 = a1 = a2 = a3 = 0
        if ch == 3:
            for xx in range(fx):
                a0 += p[0]
                a1 += p[1]
                a2 += p[2]
                p += 3
        elif ch == 1:
            for xx in range(fx):
                a0 += p[xx]
        elif ch == 4:
            for xx in range(fx):
                a0 += p[0]
                a1 += p[1]
                a2 += p[2]
                a3 += p[3]
                p += 4
        else:
            for xx in range(fx):
                a0 += p[0]
                a1 += p[1]
                p += 2
        sums[x * ch] += a0
        if ch >= 2:
            sums[x * ch + 1] += a1
        if ch >= 3:
            sums[x * ch + 2] += a2
        if ch == 4:
            sums[x * ch + 3] += a3
    for x in range(full, b.w_out):
        x_end = min(x * fx + fx, b.w)
        for xx in range(x * fx, x_end):
            for k in range(ch):
                sums[x * ch + k] += line[xx * ch + k]


cdef int reduce_u8(const uint8_t *src, uint8_t *dst, const Boxes *b) noexcept nogil:
    """One uint8 image: box sums of a whole output row at once, then Pillow's rounding."""
    cdef Py_ssize_t row_values = b.w_out * b.channels
    cdef uint32_t *sums = <uint32_t *>calloc(row_values, sizeof(uint32_t))
    cdef Py_ssize_t y, yy, x, k, y_end, scale, box_height, last_scale = 0
    cdef uint32_t multiplier = 0
    if sums == NULL:
        return -1
    for y in range(b.h_out):
        y_end = min(y * b.fy + b.fy, b.h)
        for k in range(row_values):
            sums[k] = 0
        for yy in range(y * b.fy, y_end):
            add_row_u8(src + yy * b.w * b.channels, sums, b)
        box_height = y_end - y * b.fy
        for x in range(b.w_out):
            scale = box_height * (min(x * b.fx + b.fx, b.w) - x * b.fx)
            if scale != last_scale:  # a float division: once per box size, not per pixel
                multiplier = u8_multiplier(scale)
                last_scale = scale
            for k in range(b.channels):
                dst[(y * b.w_out + x) * b.channels + k] = <uint8_t>(
                    ((sums[x * b.channels + k] + <uint32_t>(scale // 2)) * multiplier) >> 24)
    free(sums)
    return 0


cdef double full_box_f32(const float *src, const Boxes *b, Py_ssize_t y0, Py_ssize_t x0,
                         Py_ssize_t k) noexcept nogil:
    """The sum of one full box of one channel, grouped as ImagingReduceNxN_32bpc groups it."""
    cdef Py_ssize_t stride = b.w * b.channels, ch = b.channels
    cdef Py_ssize_t yy = y0, xx
    cdef const float *l0
    cdef const float *l1
    cdef double total = 0.0
    cdef float group
    while yy < y0 + b.fy - 1:
        l0 = src + yy * stride + k
        l1 = l0 + stride
        xx = x0
        while xx < x0 + b.fx - 1:
            group = l0[xx * ch] + l0[(xx + 1) * ch]
            group = group + l1[xx * ch]
            group = group + l1[(xx + 1) * ch]
            total += group
            xx += 2
        if b.fx & 1:
            group = l0[xx * ch] + l1[xx * ch]
            total += group
        yy += 2
    if b.fy & 1:
        l0 = src + yy * stride + k
        xx = x0
        while xx < x0 + b.fx - 1:
            group = l0[xx * ch] + l0[(xx + 1) * ch]
            total += group
            xx += 2
        if b.fx & 1:
            total += l0[xx * ch]
    return total


cdef void reduce_f32(const float *src, float *dst, const Boxes *b) noexcept nogil:
    """One float32 image: full boxes grouped as Pillow groups them, partial ones plainly."""
    cdef Py_ssize_t y, x, k, yy, xx, y_end, x_end
    cdef double total
    cdef double full = 1.0 / <double>(b.fy * b.fx)
    for y in range(b.h_out):
        y_end = min(y * b.fy + b.fy, b.h)
        for x in range(b.w_out):
            x_end = min(x * b.fx + b.fx, b.w)
            for k in range(b.channels):
                if y_end - y * b.fy == b.fy and x_end - x * b.fx == b.fx:
                    total = full_box_f32(src, b, y * b.fy, x * b.fx, k) * full
                else:
                    total = 0.0
                    for yy in range(y * b.fy, y_end):
                        for xx in range(x * b.fx, x_end):
                            total += src[(yy * b.w + xx) * b.channels + k]
                    total = total * (1.0 / <double>((y_end - y * b.fy) * (x_end - x * b.fx)))
                dst[(y * b.w_out + x) * b.channels + k] = <float>total


def reduce_batch(const unsigned char[::1] src, unsigned char[::1] dst, Py_ssize_t count,
                 tuple shape, Py_ssize_t fy, Py_ssize_t fx, Py_ssize_t itemsize):
    """Box-reduce ``count`` images of ``shape`` (H, W, C) from ``src`` into ``dst``.

    Both are the bytes (a flat uint8 view) of C-contiguous (count, H, W, C) and
    (count, ceil(H / fy), ceil(W / fx), C) arrays of one dtype with ``itemsize`` 1 (uint8) or
    4 (float32); fy, fx >= 1 with fy fx < 2^24 (a factor beyond its axis makes one partial box
    of the whole axis, as in Pillow).
    """
    cdef Boxes b
    cdef Py_ssize_t i, in_size, out_size
    cdef int status = 0
    b.h, b.w, b.channels = shape
    b.fy, b.fx = fy, fx
    if not (fy >= 1 and fx >= 1 and fy * fx < (1 << 24) and b.channels >= 1
            and itemsize in (1, 4) and count >= 0):
        raise ValueError("augcore._reduce.reduce_batch: bad sizes")
    b.h_out = (b.h + fy - 1) // fy
    b.w_out = (b.w + fx - 1) // fx
    in_size = b.h * b.w * b.channels
    out_size = b.h_out * b.w_out * b.channels
    if src.shape[0] < count * in_size * itemsize or dst.shape[0] < count * out_size * itemsize:
        raise ValueError("augcore._reduce.reduce_batch: buffers do not match the sizes")
    if count == 0:
        return
    with nogil:
        for i in range(count):
            if itemsize == 1:
                status = reduce_u8(&src[0] + i * in_size, &dst[0] + i * out_size, &b)
                if status != 0:
                    break
            else:
                reduce_f32(<const float *>&src[0] + i * in_size,
                           <float *>&dst[0] + i * out_size, &b)
    if status != 0:
        raise MemoryError("augcore box reduce: out of memory for its row of sums")
