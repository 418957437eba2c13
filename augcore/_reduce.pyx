# cython: language_level=3
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


cdef inline void finish_row(uint8_t *out, const uint32_t *column_sums, const Boxes *b,
                            Py_ssize_t rows, Py_ssize_t fx, Py_ssize_t ch) noexcept nogil:
    """One output row from the column sums of its input rows; inlined per constant ``ch``
    (and ``fx`` = 2, the commonest factor; otherwise b.fx).

    Each box adds its ``fx`` columns' sums, then Pillow's rounding: (sum + scale / 2) times
    the multiplier, shifted right by 24.
    """
    cdef Py_ssize_t x, j, k, full = b.w // fx, rest = b.w - full * fx
    cdef Py_ssize_t scale = rows * fx
    cdef uint32_t multiplier = u8_multiplier(scale), amend = <uint32_t>(scale // 2), total
    cdef const uint32_t *p = column_sums
    for x in range(full):
        for k in range(ch):
            total = amend
            for j in range(fx):
                total += p[j * ch + k]
            out[k] = <uint8_t>((total * multiplier) >> 24)
        p += fx * ch
        out += ch
    if rest:
        scale = rows * rest
        multiplier = u8_multiplier(scale)
        for k in range(ch):
            total = <uint32_t>(scale // 2)
            for j in range(rest):
                total += p[j * ch + k]
            out[k] = <uint8_t>((total * multiplier) >> 24)


cdef int reduce_u8(const uint8_t *src, uint8_t *dst, const Boxes *b) noexcept nogil:
    """One uint8 image, separably: each output row's input rows are summed column by column
    (a plain vectorisable loop), then each box adds its columns. Integer sums: the order
    changes nothing."""
    cdef Py_ssize_t row_values = b.w * b.channels, y, yy, i, y_end, rows
    cdef uint32_t *sums = <uint32_t *>calloc(row_values, sizeof(uint32_t))
    cdef const uint8_t *line
    cdef uint8_t *out
    if sums == NULL:
        return -1
    for y in range(b.h_out):
        y_end = min(y * b.fy + b.fy, b.h)
        line = src + y * b.fy * row_values
        for i in range(row_values):
            sums[i] = line[i]
        for yy in range(y * b.fy + 1, y_end):
            line = src + yy * row_values
            for i in range(row_values):
                sums[i] += line[i]
        out = dst + y * b.w_out * b.channels
        rows = y_end - y * b.fy
        if b.channels == 3 and b.fx == 2:
            finish_row(out, sums, b, rows, 2, 3)
        elif b.channels == 3:
            finish_row(out, sums, b, rows, b.fx, 3)
        elif b.channels == 1:
            finish_row(out, sums, b, rows, b.fx, 1)
        elif b.channels == 4:
            finish_row(out, sums, b, rows, b.fx, 4)
        else:
            finish_row(out, sums, b, rows, b.fx, b.channels)
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
