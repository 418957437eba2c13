# Part of the warp kernel, textually included by _warp.pyx: the per-image rows every path uses,
# allocated once per range of same-shape images (warp_range) and freed with it.

cdef struct Scratch:
    # Per-image rows, allocated once for a whole range of same-shape images.
    double *col_r  # affine: c * m1 for every output column; projective: the row's coordinates
    double *col_c  # c * m4, or the row's column coordinates
    double *proj_r  # projective: c * m01, c * m11 and c * m21 for every output column
    double *proj_c
    double *proj_w
    double *w_r  # order 1: the first tap's weight along rows
    double *w_c  # and along columns
    int32_t *index  # pixel index r * w_in + c of the (first) tap, or -1
    int32_t *ring  # order 0: PREFETCH_ROWS + 1 rows of such indices, computed ahead
    int32_t *step_r  # order 1, float32: pixels from the first tap to the second along rows
    int32_t *step_c  # and along columns
    # The separable path (_warp_resize.pxi), per value (channel of an output pixel) of a row:
    int32_t *taps  # order 0: each pixel's column tap, then each byte's; uint8 order 1: each
    # value's first tap
    float *b  # uint8 order 1: the column weights, as the lanes round them
    float *b1
    int32_t *base  # and the steps' plan (_warp_resize.h): windows' first bytes, controls
    uint8_t *masks
    uint64_t *loads  # the AVX-512 plans' load masks
    uint8_t *last_row  # a copy of the source's last row with 16 bytes to spare


cdef int scratch_alloc(Scratch *s, Py_ssize_t w_out, Py_ssize_t values,
                       Py_ssize_t row_bytes) noexcept nogil:
    """Rows for an output width of ``w_out`` pixels of ``values`` bytes in all (at least one a
    value) and a source row of ``row_bytes``."""
    s.col_r = <double *>malloc(w_out * sizeof(double))
    s.col_c = <double *>malloc(w_out * sizeof(double))
    s.proj_r = <double *>malloc(w_out * sizeof(double))
    s.proj_c = <double *>malloc(w_out * sizeof(double))
    s.proj_w = <double *>malloc(w_out * sizeof(double))
    s.w_r = <double *>malloc(w_out * sizeof(double))
    s.w_c = <double *>malloc(w_out * sizeof(double))
    s.index = <int32_t *>malloc(w_out * sizeof(int32_t))
    s.ring = <int32_t *>malloc((PREFETCH_ROWS + 1) * w_out * sizeof(int32_t))
    s.step_r = <int32_t *>malloc(w_out * sizeof(int32_t))
    s.step_c = <int32_t *>malloc(w_out * sizeof(int32_t))
    s.taps = <int32_t *>malloc((values + w_out) * sizeof(int32_t))
    s.b = <float *>malloc(values * sizeof(float))
    s.b1 = <float *>malloc(values * sizeof(float))
    s.base = <int32_t *>malloc((values // 4 + 1) * sizeof(int32_t))
    s.masks = <uint8_t *>malloc((values // AC_RESIZE_STEP + 3) * AC_RESIZE_MASK_BYTES)
    s.loads = <uint64_t *>malloc((values // 16 + 4) * sizeof(uint64_t))
    s.last_row = <uint8_t *>malloc(row_bytes + 16)
    return 0 if (s.col_r and s.col_c and s.proj_r and s.proj_c and s.proj_w and s.w_r and s.w_c
                 and s.index and s.ring and s.step_r and s.step_c and s.taps and s.b and s.b1
                 and s.base and s.masks and s.loads and s.last_row) else -1


cdef void scratch_free(Scratch *s) noexcept nogil:
    free(s.col_r)
    free(s.col_c)
    free(s.proj_r)
    free(s.proj_c)
    free(s.proj_w)
    free(s.w_r)
    free(s.w_c)
    free(s.index)
    free(s.ring)
    free(s.step_r)
    free(s.step_c)
    free(s.taps)
    free(s.b)
    free(s.b1)
    free(s.base)
    free(s.masks)
    free(s.loads)
    free(s.last_row)
