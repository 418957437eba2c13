# cython: language_level=3
"""The box reduce, bit-compatible with Pillow's ``Image.reduce`` (libImaging/Reduce.c).

Each output pixel is the mean of an fy x fx box of input pixels, channel by channel; where the
input size is not a multiple of the factor, the last row and column of boxes are smaller and
average what they cover. ``augcore.reduce`` validates everything and passes C-contiguous
(N, H, W, C) arrays; ``reduce_batch`` then runs without the GIL, over the whole image or
only the output boxes a warp will read (``augcore.reduce.reduce_plan``).

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

from libc.stdint cimport int64_t, uint8_t, uint32_t
from libc.math cimport ceil, floor
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy


# Output rows ahead of the one being summed whose input rows are prefetched (measured on the
# bench's cold 512x512 sources; the warp kernel's resize rows do the same).
cdef enum:
    REDUCE_AHEAD = 4


cdef struct Boxes:
    Py_ssize_t h, w, channels, fy, fx, h_out, w_out


cdef extern from "_reduce_rows.h" nogil:
    void ar_add_row(uint32_t *sums, const uint8_t *line, int64_t n, bint first)
    void ar_add_columns(uint32_t *boxes, const uint32_t *sums, int64_t n, int64_t fx,
                        int64_t ch)
    void ar_round(uint8_t *out, const uint32_t *totals, int64_t n, uint32_t amend,
                  uint32_t multiplier, int shift)
    void ar_prefetch_rows(const uint8_t *line, int64_t row_bytes, int64_t rows, int64_t n)
    int64_t ar_columns(uint8_t *out, const uint8_t *src, int64_t row_bytes, int64_t rows,
                       int64_t n, uint32_t amend, uint32_t multiplier, int shift)
    int64_t ar_pairs(uint8_t *out, const uint8_t *src, int64_t row_bytes, int64_t rows,
                     int64_t boxes, int64_t fx, int64_t ch, uint32_t amend, uint32_t multiplier,
                     int shift)


cdef inline uint32_t u8_multiplier(Py_ssize_t scale) noexcept nogil:
    """Reduce.c's division_UINT32(scale, 8): a float division, truncated."""
    cdef float top = 4294967296.0
    return <uint32_t>(top / <float>(<uint32_t>256 * <uint32_t>scale))


cdef inline int u8_shift(Py_ssize_t scale) noexcept nogil:
    """k when the box holds 2^k pixels and the multiplier is exactly 2^(24 - k): then the
    rounding is a shift (ar_round); else -1."""
    cdef int k = 0
    while (<Py_ssize_t>1 << k) < scale and k < 24:
        k += 1
    if (<Py_ssize_t>1 << k) == scale and u8_multiplier(scale) == (<uint32_t>1 << (24 - k)):
        return k
    return -1


cdef void round_boxes(uint8_t *out, const uint32_t *totals, Py_ssize_t n,
                      Py_ssize_t scale) noexcept nogil:
    """Pillow's rounding of ``n`` sums of ``scale`` pixels each."""
    ar_round(out, totals, n, <uint32_t>(scale // 2), u8_multiplier(scale), u8_shift(scale))


cdef void compact(uint32_t *totals, const uint32_t *boxes, Py_ssize_t count, Py_ssize_t fx,
                  Py_ssize_t ch) noexcept nogil:
    """The sums of ``count`` boxes out of the sums at every value: every fx-th pixel's values.
    3 values move as 4 (one 16-byte copy), the extra one overwritten by the next box; both
    buffers have a value to spare."""
    cdef Py_ssize_t x
    if ch == 3:
        for x in range(count):
            memcpy(totals + x * 3, boxes + x * fx * 3, 16)
        return
    for x in range(count):
        memcpy(totals + x * ch, boxes + x * fx * ch, ch * sizeof(uint32_t))


cdef int reduce_u8(const uint8_t *src, uint8_t *dst, const Boxes *b,
                   const int64_t *region) noexcept nogil:
    """One uint8 image, separably, over output boxes [y0, y1) x [x0, x1) (``region``): boxes of
    one or two columns in AVX2 registers where ar_columns and ar_pairs can (_reduce_rows.h),
    the rest by summing each output row's input rows column by column, then adding the boxes'
    columns, then one rounding. Integer sums: the order changes nothing."""
    cdef Py_ssize_t ch = b.channels, fx = b.fx, row_values = b.w * ch, y, yy, k, j
    cdef Py_ssize_t full = b.w // fx, rest = b.w - (b.w // fx) * fx
    cdef Py_ssize_t x0 = region[2], boxes_full = min(region[3], full) - region[2]
    cdef bint partial = rest != 0 and region[3] > full
    cdef Py_ssize_t end = (b.w if partial else min(region[3], full) * fx) * ch
    cdef Py_ssize_t rows, scale, at, done, first, left
    cdef uint32_t total
    cdef uint32_t *sums = <uint32_t *>calloc(row_values + 4, sizeof(uint32_t))
    cdef uint32_t *boxes = <uint32_t *>calloc(row_values + 4, sizeof(uint32_t))
    cdef uint32_t *totals = <uint32_t *>calloc(b.w_out * ch + 4, sizeof(uint32_t))
    cdef const uint8_t *line
    cdef uint8_t *out
    if sums == NULL or boxes == NULL or totals == NULL:
        free(sums)
        free(boxes)
        free(totals)
        return -1
    for y in range(region[0], region[1]):
        rows = min(y * b.fy + b.fy, b.h) - y * b.fy
        line = src + y * b.fy * row_values
        if y + REDUCE_AHEAD < region[1]:
            ar_prefetch_rows(line + REDUCE_AHEAD * b.fy * row_values + x0 * fx * ch, row_values,
                             min(b.fy, b.h - (y + REDUCE_AHEAD) * b.fy), end - x0 * fx * ch)
        out = dst + (y * b.w_out + x0) * ch
        done = 0
        scale = rows * fx
        if fx == 2 and boxes_full > 0:
            done = ar_pairs(out, line + x0 * fx * ch, row_values, rows, boxes_full, fx, ch,
                            <uint32_t>(scale // 2), u8_multiplier(scale), u8_shift(scale))
        elif fx == 1 and boxes_full > 0:  # values done, rounded down to whole boxes
            done = ar_columns(out, line + x0 * ch, row_values, rows, boxes_full * ch,
                              <uint32_t>(scale // 2), u8_multiplier(scale), u8_shift(scale)) // ch
        first = (x0 + done) * fx * ch
        left = boxes_full - done
        for yy in range(rows):
            ar_add_row(sums, line + yy * row_values + first, end - first, yy == 0)
        out += done * ch
        if left > 0:
            if fx == 1:
                round_boxes(out, sums, left * ch, rows)
            else:
                ar_add_columns(boxes, sums, left * fx * ch - (fx - 1) * ch, fx, ch)
                compact(totals, boxes, left, fx, ch)
                round_boxes(out, totals, left * ch, rows * fx)
        if partial:  # the last, narrower box of the row
            scale = rows * rest
            at = full * fx * ch - first
            for k in range(ch):
                total = <uint32_t>(scale // 2)
                for j in range(rest):
                    total += sums[at + j * ch + k]
                out[(left if left > 0 else 0) * ch + k] = <uint8_t>(
                    (total * u8_multiplier(scale)) >> 24)
    free(sums)
    free(boxes)
    free(totals)
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


cdef void reduce_f32(const float *src, float *dst, const Boxes *b,
                     const int64_t *region) noexcept nogil:
    """One float32 image over the output boxes of ``region``: full boxes grouped as Pillow
    groups them, partial ones plainly."""
    cdef Py_ssize_t y, x, k, yy, xx, y_end, x_end
    cdef double total
    cdef double full = 1.0 / <double>(b.fy * b.fx)
    for y in range(region[0], region[1]):
        y_end = min(y * b.fy + b.fy, b.h)
        for x in range(region[2], region[3]):
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
                 tuple shape, Py_ssize_t fy, Py_ssize_t fx, Py_ssize_t itemsize,
                 const int64_t[:, ::1] regions=None):
    """Box-reduce ``count`` images of ``shape`` (H, W, C) from ``src`` into ``dst``.

    Both are the bytes (a flat uint8 view) of C-contiguous (count, H, W, C) and
    (count, ceil(H / fy), ceil(W / fx), C) arrays of one dtype with ``itemsize`` 1 (uint8) or
    4 (float32); fy, fx >= 1 with fy fx < 2^24 (a factor beyond its axis makes one partial box
    of the whole axis, as in Pillow). ``regions``, if given, is (count, 4): the output boxes
    [y0, y1) x [x0, x1) to compute for each image; the rest of ``dst`` is left as it was.
    """
    cdef Boxes b
    cdef Py_ssize_t i, in_size, out_size
    cdef int status = 0
    cdef int64_t whole[4]
    cdef const int64_t *region = whole
    b.h, b.w, b.channels = shape
    b.fy, b.fx = fy, fx
    if not (fy >= 1 and fx >= 1 and fy * fx < (1 << 24) and b.channels >= 1
            and itemsize in (1, 4) and count >= 0):
        raise ValueError("augcore._reduce.reduce_batch: bad sizes")
    b.h_out = (b.h + fy - 1) // fy
    b.w_out = (b.w + fx - 1) // fx
    whole[0], whole[1], whole[2], whole[3] = 0, b.h_out, 0, b.w_out
    in_size = b.h * b.w * b.channels
    out_size = b.h_out * b.w_out * b.channels
    if src.shape[0] < count * in_size * itemsize or dst.shape[0] < count * out_size * itemsize:
        raise ValueError("augcore._reduce.reduce_batch: buffers do not match the sizes")
    if regions is not None:
        if regions.shape[0] < count or regions.shape[1] != 4:
            raise ValueError("augcore._reduce.reduce_batch: regions must be (count, 4)")
        for i in range(count):
            if not (0 <= regions[i, 0] <= regions[i, 1] <= b.h_out
                    and 0 <= regions[i, 2] <= regions[i, 3] <= b.w_out):
                raise ValueError("augcore._reduce.reduce_batch: a region is outside the image")
    if count == 0:
        return
    with nogil:
        for i in range(count):
            if regions is not None:
                region = &regions[i, 0]
            if itemsize == 1:
                status = reduce_u8(&src[0] + i * in_size, &dst[0] + i * out_size, &b, region)
                if status != 0:
                    break
            else:
                reduce_f32(<const float *>&src[0] + i * in_size,
                           <float *>&dst[0] + i * out_size, &b, region)
    if status != 0:
        raise MemoryError("augcore box reduce: out of memory for its rows of sums")


def read_regions(const double[:, :, ::1] maps, Py_ssize_t canvas_h, Py_ssize_t canvas_w,
                 int64_t[:, ::1] regions):
    """For (N, 3, 3) pull maps onto a canvas, narrow each row of ``regions`` — (N, 4) int64
    [y0, y1, x0, x1), given as the whole image [0, H', 0, W') — to the pixels the map reads.

    The canvas maps into the bounding box of its corners' images (affine maps, or projective
    ones with w > 0 there); a margin of two pixels covers every tap of orders 0 and 1. An axis
    where a corner falls outside the image (or is not finite) is left whole: the fill modes may
    take taps anywhere along it. Coordinates are computed as the warp kernel computes them.
    """
    cdef Py_ssize_t i, j, k
    cdef double r, c, w, x, low, high, n
    cdef double rows[4]
    cdef double cols[4]
    rows[0] = rows[1] = 0.0
    rows[2] = rows[3] = <double>(canvas_h - 1)
    cols[0] = cols[2] = 0.0
    cols[1] = cols[3] = <double>(canvas_w - 1)
    if regions.shape[0] < maps.shape[0] or regions.shape[1] != 4 or maps.shape[1] != 3:
        raise ValueError("augcore._reduce.read_regions: bad shapes")
    for i in range(maps.shape[0]):
        for k in range(2):
            n = <double>regions[i, 2 * k + 1]
            low = high = 0.0
            for j in range(4):
                r = rows[j]
                c = cols[j]
                w = (maps[i, 2, 2] + r * maps[i, 2, 0]) + c * maps[i, 2, 1]
                x = ((maps[i, k, 2] + r * maps[i, k, 0]) + c * maps[i, k, 1]) / w
                if not (x >= 0.0 and x <= n - 1.0):
                    break
                low = x if j == 0 or x < low else low
                high = x if j == 0 or x > high else high
            else:
                regions[i, 2 * k] = max(<int64_t>floor(low) - 2, 0)
                regions[i, 2 * k + 1] = min(<int64_t>ceil(high) + 3, regions[i, 2 * k + 1])
