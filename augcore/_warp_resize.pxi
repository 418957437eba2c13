# Part of the warp kernel, textually included by _warp.pyx: the separable ("resize") path for
# affine maps with m01 == m10 == 0. It shares that module's namespace (Geometry, Scratch, the
# index markers, nearest_tap, linear_sample, gather_any_row, the _warp_simd.h and
# _warp_resize.h names).
#
# With m01 == 0 every sample's row coordinate is m02 + r m00 (plus c m01 = +-0, which changes no
# value), with m10 == 0 its column coordinate is (m12 + 0 m10) + c m11: the per-pixel passes'
# doubles, computed once per row and once per column. Every tap, weight and fill decision below
# is the general path's on those doubles, so the bytes are the general path's.
#
# Chosen per image for crops, resizes, pads, zooms, shifts, flips and what they fuse to. Order 0
# (any dtype) moves each row's bytes through a table of source bytes, 16 a step in AVX2 (pshufb
# on 16-byte windows of the source row) or 64 in AVX-512 (vpermt2b on 128-byte windows), or
# gathers pixels from a column tap table where a column takes the fill. uint8 order 1 keeps the
# per-value arithmetic of the SSE2 lanes — float32 ((v00 w00 + v01 w01) + (v10 w10 + v11 w11)) +
# 0.5 with w00 = a b from the float32 row and column weights, truncated — 8 values a step in AVX2
# (``_warp_resize.h``: pshufb picks the taps out of 16-byte windows of the two source rows) or 16
# in AVX-512 (vpermb on 64-byte windows); a truly separable (horizontal then vertical, or fixed-
# point) resample would be faster still but would round differently, and the contract here is the
# general path's bytes. Where the steps cannot run (no AVX2, windows over 16 bytes in AVX2 or 64
# in AVX-512: a shrink by about 2, or 4) the general path is taken; float32 order 1 always takes
# it. Samples whose taps leave the source along an axis go through the general path's scalar
# rules. Tests compare the paths on the same maps through ``warp_batch(paths=...)``.


# Output rows ahead of the one being computed whose source rows are prefetched (the bench's
# cold 512x512 sources: measured on its crops).
cdef enum:
    RESIZE_AHEAD = 8


cdef inline int32_t nearest_axis(double x, int64_t n, int mode) noexcept nogil:
    """The order-0 tap along one axis as the index pass takes it (-1: the constant fill)."""
    cdef double v
    if mode == NEAREST:  # ac_nearest_columns' clamp of x + 0.5, then a truncation
        v = x + 0.5
        v = 0.0 if v < 0.0 else v
        v = <double>(n - 1) if v > <double>(n - 1) else v
        return <int32_t>v
    if x >= 0.0 and x <= <double>(n - 1):
        return <int32_t>(x + 0.5)
    return <int32_t>nearest_tap(x, n, mode)


cdef void resize_nearest(const Geometry *g, const double *m, Scratch *s,
                         const unsigned char *src, unsigned char *dst, Py_ssize_t pixel_bytes,
                         const unsigned char *fill, int paths) noexcept nogil:
    """Order 0 for one image, any dtype: a column tap table and one tap per row; an output row
    whose source row repeats the previous one is a copy. Rows are moved a byte at a time
    through a table of source bytes, 16 a step in AVX2 or 64 in AVX-512
    (``ac_resize_bytes_row``), where no column takes the fill and the windows fit (``paths``
    SCALAR, for tests: even without steps; AVX2_STEPS: no AVX-512 steps); else by the general
    path's gathers."""
    cdef int32_t last_pixel = <int32_t>(g.h_in * g.w_in - 1)
    cdef Py_ssize_t r, c, k, row_bytes = g.w_out * pixel_bytes, in_row = g.w_in * pixel_bytes
    cdef int32_t tap, previous = -2, at, first = <int32_t>g.w_in, last = 0
    cdef double row_c = m[5] + 0.0 * m[3]
    cdef int width = 0
    cdef bint by_bytes, scalar = paths == SCALAR
    cdef int32_t *column_bytes = s.taps + g.w_out
    cdef const unsigned char *line
    cdef unsigned char *out
    for c in range(g.w_out):
        s.taps[c] = nearest_axis(row_c + <double>c * m[4], g.w_in, g.mode)
        if s.taps[c] >= 0:
            first = min(first, s.taps[c])
            last = max(last, s.taps[c])
    by_bytes = first <= last and (scalar or ac_resize_has_steps())
    for c in range(g.w_out):
        by_bytes = by_bytes and s.taps[c] >= 0
    if by_bytes:
        for c in range(g.w_out):
            for k in range(pixel_bytes):
                column_bytes[c * pixel_bytes + k] = s.taps[c] * <int32_t>pixel_bytes + <int32_t>k
        if not scalar:
            width = ac_resize_bytes_plan_any(s.base, s.loads, s.masks, column_bytes, row_bytes,
                                             in_row, paths != AVX2_STEPS)
            by_bytes = width != 0
        if by_bytes and not scalar:
            # The last source row is read through a padded copy: windows may pass its end.
            memcpy(s.last_row, src + (g.h_in - 1) * in_row, in_row)
    for r in range(g.h_out):
        if r + RESIZE_AHEAD < g.h_out:
            tap = nearest_axis(m[2] + <double>(r + RESIZE_AHEAD) * m[0], g.h_in, g.mode)
            if tap >= 0:
                ac_prefetch_span(src + tap * in_row, first * pixel_bytes, (last + 1) * pixel_bytes)
        tap = nearest_axis(m[2] + <double>r * m[0], g.h_in, g.mode)
        out = dst + r * row_bytes
        if tap == previous:
            memcpy(out, out - row_bytes, row_bytes)
            continue
        previous = tap
        if by_bytes and tap >= 0:
            line = <const unsigned char *>s.last_row if width and tap == g.h_in - 1 else src + tap * in_row
            ac_resize_bytes_row(out, line, column_bytes, row_bytes, s.base, s.loads, s.masks, width)
            continue
        at = tap * <int32_t>g.w_in
        for c in range(g.w_out):
            s.index[c] = at + s.taps[c] if tap >= 0 and s.taps[c] >= 0 else UNRESOLVED
        gather_any_row(out, src, s.index, fill, g.w_out, pixel_bytes, last_pixel,
                       g.mode == NEAREST)


cdef inline bint linear_axis(double x, int64_t n, bint clamp, int32_t *tap,
                             double *weight) noexcept nogil:
    """uint8 order 1 along one axis as ac_row_linear_index takes it: the first tap and weight,
    and whether the lanes resolve it (in bounds, or every sample with ``clamp``)."""
    cdef bint inside = x >= 0.0 and x < <double>(n - 1)
    cdef int32_t first
    x = 0.0 if x < 0.0 else x
    x = <double>(n - 1) if x > <double>(n - 1) else x
    first = <int32_t>x
    first = <int32_t>(n - 2) if first > <int32_t>(n - 2) else first
    tap[0] = first
    weight[0] = 1.0 - (x - <double>first)
    return clamp or inside


cdef bint resize_linear_u8(const Geometry *g, const double *m, Scratch *s, const uint8_t *src,
                           uint8_t *dst, int paths) noexcept nogil:
    """uint8 order 1 for one image: the lanes' arithmetic on the resolved block (rows and an
    interval of columns resolved along their axis), scipy's scalar rules for the others.

    False, with nothing written, when neither the AVX-512 nor the AVX2 steps can run (no AVX2,
    or windows too wide for both): the scalar rows would be slower than the general path's
    lanes. ``paths`` SCALAR (tests) runs them anyway, without the steps; AVX2_STEPS leaves out
    the AVX-512 ones.
    """
    cdef Py_ssize_t ch_n = g.channels, w_out = g.w_out, r, c, k, j
    cdef Py_ssize_t row_bytes = g.w_in * ch_n, lo = w_out, hi = 0, count
    cdef bint clamp = g.mode == NEAREST and g.h_in >= 2 and g.w_in >= 2, scalar = paths == SCALAR
    cdef double row_c = m[5] + 0.0 * m[3], row_r, weight
    cdef int32_t tap, first = <int32_t>row_bytes, last = 0
    cdef int width = 0
    cdef float a, a1
    cdef uint8_t fill
    cdef const uint8_t *p0
    cdef const uint8_t *p1
    cdef uint8_t *out
    store(&fill, g.cval)
    for c in range(w_out):  # s.w_c keeps the column coordinates for the scalar samples
        s.w_c[c] = row_c + <double>c * m[4]
    for c in range(w_out):
        if linear_axis(s.w_c[c], g.w_in, clamp, &tap, &weight):
            if c < lo:
                lo = c
            hi = c + 1
            for k in range(ch_n):
                j = (c - lo) * ch_n + k
                s.taps[j] = tap * <int32_t>ch_n + <int32_t>k
                s.b[j] = <float>weight
                s.b1[j] = <float>(1.0 - weight)
        elif lo < hi:
            break  # past the interval: monotone coordinates resolve one run of columns
    for c in range(hi, w_out):
        if linear_axis(s.w_c[c], g.w_in, clamp, &tap, &weight):
            lo = hi  # not one run (cannot happen for finite maps): no block
    count = (hi - lo) * ch_n if hi > lo else 0
    if not scalar:
        if count and ac_resize_has_steps():
            width = ac_resize_u8_plan_any(s.base, s.loads, s.masks, s.taps, count,
                                          <int32_t>ch_n, row_bytes, paths != AVX2_STEPS)
        if not width:
            return False
        # The last source row is read through a padded copy: 16-byte windows may pass its end.
        memcpy(s.last_row, src + (g.h_in - 1) * row_bytes, row_bytes)
    for j in range(count):
        first = min(first, s.taps[j])
        last = max(last, s.taps[j] + <int32_t>ch_n + 1)
    for r in range(g.h_out):
        if count and r + RESIZE_AHEAD < g.h_out:
            linear_axis(m[2] + <double>(r + RESIZE_AHEAD) * m[0], g.h_in, clamp, &tap, &weight)
            if tap >= 0:
                ac_prefetch_span(src + tap * row_bytes, first, last)
                ac_prefetch_span(src + (tap + 1) * row_bytes, first, last)
        row_r = m[2] + <double>r * m[0]
        out = dst + r * w_out * ch_n
        if count and linear_axis(row_r, g.h_in, clamp, &tap, &weight):
            a = <float>weight
            a1 = <float>(1.0 - weight)
            p0 = src + tap * row_bytes
            p1 = <const uint8_t *>s.last_row if width and tap + 2 == g.h_in else p0 + row_bytes
            ac_resize_u8_row(out + lo * ch_n, p0, p1, s.taps, s.b, s.b1, count, <int32_t>ch_n,
                             a, a1, s.base, s.loads, s.masks, width)
            for c in range(lo):
                linear_sample(g, src, out + c * ch_n, row_r, s.w_c[c], fill)
            for c in range(hi, w_out):
                linear_sample(g, src, out + c * ch_n, row_r, s.w_c[c], fill)
        else:
            for c in range(w_out):
                linear_sample(g, src, out + c * ch_n, row_r, s.w_c[c], fill)
    return True


def resize_step_width():
    """Values a step of the separable path's uint8 order-1 rows take in this build on this CPU:
    16 (AVX-512 with VBMI), 8 (AVX2) or 0 (no steps: such maps take the general path)."""
    return AC_WIDE_STEP if ac_resize_has_wide() else AC_RESIZE_STEP if ac_resize_has_steps() else 0
