# Part of the warp kernel, textually included by _warp.pyx: order 1 (uint8 lanes, float32 taps).
# It shares that module's namespace: Geometry, Scratch, the index markers, _warp_simd.h names.

cdef inline uint8_t bilinear_u8(uint8_t v00, uint8_t v01, uint8_t v10, uint8_t v11, float w00,
                                float w01, float w10, float w11) noexcept nogil:
    """One channel exactly as a lane of ``ac_bilinear_u8x4``: float32, + 0.5, truncated."""
    cdef float top = <float>v00 * w00 + <float>v01 * w01
    cdef float bottom = <float>v10 * w10 + <float>v11 * w11
    cdef float half = 0.5
    return <uint8_t>((top + bottom) + half)


cdef void linear_u8_row(uint8_t *out, const uint8_t *src, const uint8_t *src_end,
                        const int32_t *index, const double *w_r, const double *w_c,
                        Py_ssize_t w_out, Py_ssize_t ch_n, Py_ssize_t row_step,
                        const uint8_t *out_end) noexcept nogil:
    """uint8 interpolation of the in-bounds samples of one row, in float32 weights.

    3- and 4-channel pixels go through the SSE2 lanes, which read and write 4 bytes: a
    3-channel store spills one byte into the next pixel, which is written afterwards, so only
    the buffers' very last bytes need the scalar path.
    """
    cdef Py_ssize_t c, ch
    cdef const uint8_t *p
    cdef uint8_t *o
    cdef float a, b, a1, b1, w00, w01, w10, w11
    cdef bint lanes = ch_n == 3 or ch_n == 4
    for c in range(w_out):
        if index[c] < 0:
            continue
        p = src + <Py_ssize_t>index[c] * ch_n
        o = out + c * ch_n
        a = <float>w_r[c]
        b = <float>w_c[c]
        a1 = <float>(1.0 - w_r[c])
        b1 = <float>(1.0 - w_c[c])
        w00 = a * b
        w01 = a * b1
        w10 = a1 * b
        w11 = a1 * b1
        if lanes and p + row_step + ch_n + 4 <= src_end and o + 4 <= out_end:
            ac_bilinear_u8x4(o, p, p + ch_n, p + row_step, p + row_step + ch_n,
                             w00, w01, w10, w11)
            continue
        for ch in range(ch_n):
            o[ch] = bilinear_u8(p[ch], p[ch + ch_n], p[ch + row_step], p[ch + row_step + ch_n],
                                w00, w01, w10, w11)


cdef inline void linear_f32_row(float *out, const float *src, const Scratch *s,
                                Py_ssize_t w_out, Py_ssize_t ch_n) noexcept nogil:
    """float32 samples of a row with index >= 0, as ac_row_linear_taps left them; exact."""
    cdef Py_ssize_t c, ch, down, right
    cdef const float *p
    for c in range(w_out):
        if s.index[c] < 0:
            continue
        p = src + <Py_ssize_t>s.index[c] * ch_n
        down = s.step_r[c] * ch_n
        right = s.step_c[c] * ch_n
        for ch in range(ch_n):
            out[c * ch_n + ch] = <float>ac_tap_sum(p[ch], p[ch + right], p[ch + down],
                                                   p[ch + down + right], s.w_r[c], s.w_c[c])


cdef void linear_f32_any_row(float *out, const float *src, const Scratch *s, Py_ssize_t w_out,
                             Py_ssize_t ch_n) noexcept nogil:
    """``linear_f32_row`` specialised on 1, 3 and 4 channels (3 and 4 without AVX2)."""
    if ch_n == 1:
        linear_f32_row(out, src, s, w_out, 1)
    elif ch_n == 3:
        linear_f32_row(out, src, s, w_out, 3)
    elif ch_n == 4:
        linear_f32_row(out, src, s, w_out, 4)
    else:
        linear_f32_row(out, src, s, w_out, ch_n)


cdef inline void linear_sample(const Geometry *g, const sample_t *src, sample_t *px, double x_r,
                              double x_c, sample_t fill) noexcept nogil:
    """One sample at (x_r, x_c) by scipy's tap-by-tap rules, in double (the fill if constant)."""
    cdef Py_ssize_t ch, ch_n = g.channels, w_in = g.w_in
    cdef int64_t tr[2]
    cdef int64_t tc[2]
    cdef double wr[2]
    cdef double wc[2]
    if not (linear_taps(x_r, g.h_in, g.mode, tr, wr) and linear_taps(x_c, w_in, g.mode, tc, wc)):
        for ch in range(ch_n):
            px[ch] = fill
        return
    for ch in range(ch_n):
        store(px + ch, ac_tap_sum(src[(tr[0] * w_in + tc[0]) * ch_n + ch],
                                  src[(tr[0] * w_in + tc[1]) * ch_n + ch],
                                  src[(tr[1] * w_in + tc[0]) * ch_n + ch],
                                  src[(tr[1] * w_in + tc[1]) * ch_n + ch], wr[0], wc[0]))


cdef void warp_linear(const Geometry *g, const double *m, Scratch *s, const sample_t *src,
                      sample_t *dst) noexcept nogil:
    """Order 1 for one image: index pass, interpolation of the in-bounds samples, then
    scipy's tap-by-tap rules for the rest (exact double arithmetic)."""
    cdef Py_ssize_t ch_n = g.channels, w_in = g.w_in, r, c, ch
    cdef const sample_t *src_end = src + g.h_in * w_in * ch_n
    cdef const sample_t *out_end = dst + g.h_out * g.w_out * ch_n
    cdef bint clamp = sample_t is uint8_t and g.mode == NEAREST and g.h_in >= 2 and w_in >= 2
    cdef double row_r, row_c
    cdef sample_t fill
    cdef sample_t *out
    store(&fill, g.cval)
    column_terms(g, m, s)
    for r in range(g.h_out):
        if g.projective:
            row_terms(g, m, s, r, &row_r, &row_c)
        else:  # spelled out: the order-1 loop keeps its row terms in registers
            row_r = m[2] + <double>r * m[0]
            row_c = m[5] + <double>r * m[3]
        out = dst + r * g.w_out * ch_n
        if sample_t is uint8_t:
            ac_row_linear_index(s.index, s.w_r, s.w_c, s.col_r, s.col_c, row_r, row_c, g.w_out,
                                g.h_in, w_in, clamp)
            linear_u8_row(out, src, src_end, s.index, s.w_r, s.w_c, g.w_out, ch_n, w_in * ch_n,
                          out_end)
        else:
            ac_row_linear_taps(s.index, s.step_r, s.step_c, s.w_r, s.w_c, s.col_r, s.col_c,
                               row_r, row_c, g.w_out, g.h_in, w_in, g.mode == NEAREST,
                               g.mode == CONSTANT)
            if not ac_linear_f32_lanes(out, src, src_end, s.index, s.step_r, s.step_c, s.w_r,
                                       s.w_c, g.w_out, ch_n):
                linear_f32_any_row(out, src, s, g.w_out, ch_n)
        for c in range(g.w_out):
            if s.index[c] == FILL_SAMPLE:
                for ch in range(ch_n):
                    out[c * ch_n + ch] = fill
            elif s.index[c] < 0:
                linear_sample(g, src, out + c * ch_n, row_r + s.col_r[c], row_c + s.col_c[c],
                              fill)
