# Part of the warp kernel, textually included by _warp.pyx: order 0 (index rows, gathers).
# It shares that module's namespace: Geometry, Scratch, the index markers, _warp_simd.h names.

cdef inline void gather_row(unsigned char *out, const unsigned char *src, const int32_t *index,
                            const unsigned char *fill, Py_ssize_t w_out,
                            Py_ssize_t pixel_bytes) noexcept nogil:
    """Gather one row of pixels; index -1 takes the fill pixel. Inlined per constant size."""
    cdef Py_ssize_t c
    cdef int32_t at
    for c in range(w_out):
        at = index[c]
        memcpy(out + c * pixel_bytes, fill if at < 0 else src + at * pixel_bytes, pixel_bytes)


cdef inline void gather_row_rgb(unsigned char *out, const unsigned char *src,
                                const int32_t *index, const unsigned char *fill,
                                Py_ssize_t w_out, int32_t last_pixel,
                                bint resolved) noexcept nogil:
    """3-byte pixels (RGB uint8) move as 4 bytes: one load and one store instead of two each.

    The extra byte lands on the next pixel of the same row, which is written right after; the
    row's last pixel, and any read of the source's last pixel, use exact 3-byte moves. ``fill``
    has at least 4 readable bytes. ``resolved`` (a constant after inlining): no index is -1.
    """
    cdef Py_ssize_t c = 0
    cdef int32_t at, a1, a2, a3
    cdef const unsigned char *pixel
    while c + 4 < w_out:  # four pixels a step while none is the source's last
        at = index[c]
        a1 = index[c + 1]
        a2 = index[c + 2]
        a3 = index[c + 3]
        if (at == last_pixel) | (a1 == last_pixel) | (a2 == last_pixel) | (a3 == last_pixel):
            break
        memcpy(out + c * 3, src + <Py_ssize_t>at * 3 if resolved or at >= 0 else fill, 4)
        memcpy(out + c * 3 + 3, src + <Py_ssize_t>a1 * 3 if resolved or a1 >= 0 else fill, 4)
        memcpy(out + c * 3 + 6, src + <Py_ssize_t>a2 * 3 if resolved or a2 >= 0 else fill, 4)
        memcpy(out + c * 3 + 9, src + <Py_ssize_t>a3 * 3 if resolved or a3 >= 0 else fill, 4)
        c += 4
    for c in range(c, w_out - 1):
        at = index[c]
        pixel = src + <Py_ssize_t>at * 3 if resolved or at >= 0 else fill
        if at == last_pixel:
            memcpy(out + c * 3, pixel, 3)
        else:
            memcpy(out + c * 3, pixel, 4)
    if w_out > 0:
        at = index[w_out - 1]
        memcpy(out + (w_out - 1) * 3, fill if at < 0 else src + <Py_ssize_t>at * 3, 3)


cdef void gather_any_row(unsigned char *out, const unsigned char *src, const int32_t *index,
                         const unsigned char *fill, Py_ssize_t w_out, Py_ssize_t pixel_bytes,
                         int32_t last_pixel, bint resolved) noexcept nogil:
    """Dispatch to a copy of ``gather_row`` specialised on the common pixel sizes (and RGB
    rows on whether every index is resolved, as "nearest" leaves them)."""
    if pixel_bytes == 1:
        gather_row(out, src, index, fill, w_out, 1)
    elif pixel_bytes == 2:
        gather_row(out, src, index, fill, w_out, 2)
    elif pixel_bytes == 3 and resolved:
        gather_row_rgb(out, src, index, fill, w_out, last_pixel, True)
    elif pixel_bytes == 3:
        gather_row_rgb(out, src, index, fill, w_out, last_pixel, False)
    elif pixel_bytes == 4:
        gather_row(out, src, index, fill, w_out, 4)
    elif pixel_bytes == 8:
        gather_row(out, src, index, fill, w_out, 8)
    elif pixel_bytes == 12:
        gather_row(out, src, index, fill, w_out, 12)
    elif pixel_bytes == 16:
        gather_row(out, src, index, fill, w_out, 16)
    else:
        gather_row(out, src, index, fill, w_out, pixel_bytes)


cdef void nearest_index_row(const Geometry *g, const double *m, Scratch *s, Py_ssize_t r,
                            int32_t *index) noexcept nogil:
    """The input pixel of every sample of output row r (order 0), or -1 for the fill."""
    cdef Py_ssize_t c
    cdef double row_r, row_c
    row_terms(g, m, s, r, &row_r, &row_c)
    ac_row_nearest_index(index, s.col_r, s.col_c, row_r, row_c, g.w_out, g.h_in, g.w_in,
                         g.mode == NEAREST, not g.projective)
    if g.mode == REFLECT or g.mode == WRAP:
        for c in range(g.w_out):
            if index[c] < 0:
                index[c] = <int32_t>(nearest_tap(row_r + s.col_r[c], g.h_in, g.mode) * g.w_in
                                     + nearest_tap(row_c + s.col_c[c], g.w_in, g.mode))


cdef void warp_nearest(const Geometry *g, const double *m, Scratch *s, const unsigned char *src,
                       unsigned char *dst, Py_ssize_t pixel_bytes,
                       const unsigned char *fill) noexcept nogil:
    """Order 0 for one image, any dtype: ``fill`` is one fill pixel of ``pixel_bytes``.

    Index rows are computed PREFETCH_ROWS output rows ahead of the gather, into a ring, and
    their source pixels prefetched: a rotated row reads a diagonal of the source that the
    hardware prefetchers cannot predict. The gathered bytes are the same either way.
    """
    cdef int32_t last_pixel = <int32_t>(g.h_in * g.w_in - 1)
    cdef Py_ssize_t r, ahead, slots = PREFETCH_ROWS + 1
    cdef bint prefetch = g.h_in * g.w_in * pixel_bytes >= PREFETCH_MIN_BYTES
    column_terms(g, m, s)
    for r in range(min(PREFETCH_ROWS, g.h_out)):
        nearest_index_row(g, m, s, r, s.ring + r * g.w_out)
    for r in range(g.h_out):
        ahead = r + PREFETCH_ROWS
        if ahead < g.h_out:
            nearest_index_row(g, m, s, ahead, s.ring + (ahead % slots) * g.w_out)
            if prefetch:
                ac_prefetch_pixels(src, s.ring + (ahead % slots) * g.w_out, g.w_out, pixel_bytes,
                                   PREFETCH_STEP)
        gather_any_row(dst + r * g.w_out * pixel_bytes, src, s.ring + (r % slots) * g.w_out,
                       fill, g.w_out, pixel_bytes, last_pixel, g.mode == NEAREST)
