# cython: language_level=3
"""Affine warp kernel, bit-compatible with ``scipy.ndimage.affine_transform`` (order 0 and 1).

Every rule below is scipy's (``ni_interpolation.c``: ``NI_GeometricTransform``,
``map_coordinate``; ``ni_splines.c``: ``get_spline_interpolation_weights``), so results can be
checked against scipy pixel for pixel:

* coordinates are evaluated as ``x = shift; x += r * m0; x += c * m1`` (no FMA: setup.py builds
  with ``-ffp-contract=off``); the column term ``c * m1`` is tabulated once per call;
* ``nearest`` is never remapped: the tap index is clamped; the other modes remap the coordinate
  first, then any tap that still falls outside is remapped with mirror rules (reflect keeps
  reflect), and ``constant`` fills when the remapped coordinate is not within [0, n-1];
* order 0 picks ``floor(x + 0.5)``; order 1 weights are ``w0 = 1 - frac``, ``w1 = 1 - w0`` and
  taps are summed in scipy's order; uint8 results round half up and clip, as scipy does.

The Python face (``augcore.warp``) validates everything; these functions trust their inputs.
"""

cimport cython
from libc.math cimport floor
from libc.stdint cimport int64_t, uint8_t
from libc.stdlib cimport free, malloc

ctypedef fused pixel_t:
    uint8_t
    float

# Fill modes as the Python face passes them; MIRROR is only used internally for edge taps.
cdef enum:
    MODE_NEAREST = 0
    MODE_CONSTANT = 1
    MODE_REFLECT = 2
    MODE_WRAP = 3
    MODE_MIRROR = 4

MODES = {"nearest": MODE_NEAREST, "constant": MODE_CONSTANT, "reflect": MODE_REFLECT,
         "wrap": MODE_WRAP}


cdef inline double map_coordinate(double x, Py_ssize_t n, int mode) noexcept nogil:
    """scipy's map_coordinate: fold an out-of-range coordinate back according to ``mode``."""
    cdef Py_ssize_t period
    if x < 0:
        if mode == MODE_NEAREST:
            return 0
        if mode == MODE_CONSTANT:
            return -1
        if n <= 1:
            return 0
        if mode == MODE_REFLECT:
            period = 2 * n
            if x < -period:
                x = period * <Py_ssize_t>(-x / period) + x
            if x < -n:
                return x + period
            return (1e-15 if x > -1e-15 else -x) - 1
        if mode == MODE_MIRROR:
            period = 2 * n - 2
            x = period * <Py_ssize_t>(-x / period) + x
            return x + period if x <= 1 - n else -x
        period = n - 1  # wrap
        return x + period * (<Py_ssize_t>(-x / period) + 1)
    if x > n - 1:
        if mode == MODE_NEAREST:
            return n - 1
        if mode == MODE_CONSTANT:
            return -1
        if n <= 1:
            return 0
        if mode == MODE_REFLECT:
            period = 2 * n
            x -= period * <Py_ssize_t>(x / period)
            return period - x - 1 if x >= n else x
        if mode == MODE_MIRROR:
            period = 2 * n - 2
            x -= period * <Py_ssize_t>(x / period)
            return period - x if x >= n else x
        period = n - 1  # wrap
        return x - period * <Py_ssize_t>(x / period)
    return x


cdef inline int edge_mode(int mode) noexcept nogil:
    """The mode scipy uses to remap filter taps that fall outside after the coordinate map."""
    if mode == MODE_CONSTANT or mode == MODE_WRAP:
        return MODE_MIRROR
    return mode


cdef inline Py_ssize_t nearest_tap(double x, Py_ssize_t n, int mode) noexcept nogil:
    """Input index for an order-0 sample at coordinate ``x``, or -1 for the constant fill."""
    cdef double cc = x
    cdef Py_ssize_t start
    if mode != MODE_NEAREST:
        cc = map_coordinate(x, n, mode)
        if not cc > -1.0:
            return -1
    start = <Py_ssize_t>floor(cc + 0.5)
    if start < 0 or start >= n:
        start = <Py_ssize_t>map_coordinate(<double>start, n, edge_mode(mode))
    return start


cdef inline bint linear_taps(double x, Py_ssize_t n, int mode, Py_ssize_t* taps,
                             double* weights) noexcept nogil:
    """Two input indices and weights for an order-1 sample; False means the constant fill."""
    cdef double cc = x
    cdef double below
    cdef Py_ssize_t start
    cdef int tap_mode
    if mode != MODE_NEAREST:
        cc = map_coordinate(x, n, mode)
        if not cc > -1.0:
            return False
    below = floor(cc)
    start = <Py_ssize_t>below
    weights[0] = 1.0 - (cc - below)
    weights[1] = 1.0 - weights[0]
    if start < 0 or start + 1 >= n:
        tap_mode = edge_mode(mode)
        taps[0] = <Py_ssize_t>map_coordinate(<double>start, n, tap_mode)
        taps[1] = <Py_ssize_t>map_coordinate(<double>(start + 1), n, tap_mode)
    else:
        taps[0] = start
        taps[1] = start + 1
    return True


cdef inline pixel_t to_pixel(double value, pixel_t kind) noexcept nogil:
    """scipy's output conversion: float32 casts; uint8 rounds half up and clips to 0..255."""
    if pixel_t is float:
        return <float>value
    else:
        value = value + 0.5 if value > 0 else 0.0
        if value > 255.0:
            value = 255.0
        return <uint8_t>value


@cython.boundscheck(False)
@cython.wraparound(False)
cdef int warp_nearest(const pixel_t[:, :, ::1] src, pixel_t[:, :, ::1] dst,
                      const double* m, int mode, double cval) noexcept nogil:
    """Order 0: one index pass per output row, then a gather (-1 marks constant fill)."""
    cdef Py_ssize_t h_in = src.shape[0], w_in = src.shape[1], channels = src.shape[2]
    cdef Py_ssize_t h_out = dst.shape[0], w_out = dst.shape[1]
    cdef Py_ssize_t r, c, ch, ri, ci
    cdef double row_x, row_y
    cdef pixel_t fill = to_pixel(cval, <pixel_t>0)
    cdef double* col_x = <double*>malloc(w_out * sizeof(double))
    cdef double* col_y = <double*>malloc(w_out * sizeof(double))
    cdef int64_t* offsets = <int64_t*>malloc(w_out * sizeof(int64_t))
    cdef const pixel_t* base = &src[0, 0, 0]
    cdef pixel_t* row_out
    if col_x == NULL or col_y == NULL or offsets == NULL:
        free(col_x)
        free(col_y)
        free(offsets)
        return -1
    for c in range(w_out):
        col_x[c] = c * m[1]
        col_y[c] = c * m[4]
    for r in range(h_out):
        row_x = m[2]
        row_x += r * m[0]
        row_y = m[5]
        row_y += r * m[3]
        for c in range(w_out):
            ri = nearest_tap(row_x + col_x[c], h_in, mode)
            ci = nearest_tap(row_y + col_y[c], w_in, mode)
            offsets[c] = -1 if ri < 0 or ci < 0 else (ri * w_in + ci) * channels
        row_out = &dst[r, 0, 0]
        for c in range(w_out):
            if offsets[c] < 0:
                for ch in range(channels):
                    row_out[c * channels + ch] = fill
            else:
                for ch in range(channels):
                    row_out[c * channels + ch] = base[offsets[c] + ch]
    free(col_x)
    free(col_y)
    free(offsets)
    return 0


@cython.boundscheck(False)
@cython.wraparound(False)
cdef int warp_linear(const pixel_t[:, :, ::1] src, pixel_t[:, :, ::1] dst,
                     const double* m, int mode, double cval) noexcept nogil:
    """Order 1: per pixel taps and weights, summed in scipy's tap order."""
    cdef Py_ssize_t h_in = src.shape[0], w_in = src.shape[1], channels = src.shape[2]
    cdef Py_ssize_t h_out = dst.shape[0], w_out = dst.shape[1]
    cdef Py_ssize_t r, c, ch, a, b
    cdef Py_ssize_t row_taps[2]
    cdef Py_ssize_t col_taps[2]
    cdef double row_w[2]
    cdef double col_w[2]
    cdef double row_x, row_y, total, coeff
    cdef pixel_t fill = to_pixel(cval, <pixel_t>0)
    cdef double* col_x = <double*>malloc(w_out * sizeof(double))
    cdef double* col_y = <double*>malloc(w_out * sizeof(double))
    if col_x == NULL or col_y == NULL:
        free(col_x)
        free(col_y)
        return -1
    for c in range(w_out):
        col_x[c] = c * m[1]
        col_y[c] = c * m[4]
    for r in range(h_out):
        row_x = m[2]
        row_x += r * m[0]
        row_y = m[5]
        row_y += r * m[3]
        for c in range(w_out):
            if not (linear_taps(row_x + col_x[c], h_in, mode, row_taps, row_w)
                    and linear_taps(row_y + col_y[c], w_in, mode, col_taps, col_w)):
                for ch in range(channels):
                    dst[r, c, ch] = fill
                continue
            for ch in range(channels):
                total = 0.0
                for a in range(2):
                    for b in range(2):
                        coeff = src[row_taps[a], col_taps[b], ch]
                        coeff *= row_w[a]
                        coeff *= col_w[b]
                        total += coeff
                dst[r, c, ch] = to_pixel(total, <pixel_t>0)
    free(col_x)
    free(col_y)
    return 0


@cython.boundscheck(False)
@cython.wraparound(False)
def warp_batch(const pixel_t[:, :, :, ::1] src, pixel_t[:, :, :, ::1] dst,
               const double[:, ::1] matrices, Py_ssize_t start, Py_ssize_t stop, int order,
               int mode, double cval):
    """Warp images ``start..stop-1`` of ``src`` into ``dst`` without the GIL.

    ``matrices`` holds one row-major 2x3 pull map per image (N, 6). Inputs are trusted: the
    Python face checks shapes, dtypes, modes and matrix values first.
    """
    cdef Py_ssize_t i
    cdef int status = 0
    with nogil:
        for i in range(start, stop):
            if order == 0:
                status = warp_nearest(src[i], dst[i], &matrices[i, 0], mode, cval)
            else:
                status = warp_linear(src[i], dst[i], &matrices[i, 0], mode, cval)
            if status != 0:
                break
    if status != 0:
        raise MemoryError("augcore warp kernel: out of memory for per-row tables")
