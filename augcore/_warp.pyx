# cython: language_level=3
"""The warp kernel, bit-compatible with scipy.ndimage.affine_transform (and map_coordinates).

Affine and projective pull maps from an input canvas to an output canvas of any size; orders 0
and 1, modes nearest / constant / reflect / wrap. ``augcore.warp`` validates shapes,
dtypes, matrices and options first and passes C-contiguous arrays; ``warp_batch`` then runs
without the GIL, so one call costs well under a microsecond on top of the work itself.

Exactness rules, all taken from scipy's ni_interpolation.c (NI_GeometricTransform,
map_coordinate) and ni_splines.c (get_spline_interpolation_weights):

- a coordinate is evaluated as x = shift; x += r * m0; x += c * m1, in double, with no fused
  multiply-add (the extension is built with -ffp-contract=off); c * m1 is tabulated once per
  image, which gives the very same products. A projective map divides each such numerator by
  w = (m22 + r m20) + c m21 (a true division) and from there on the coordinate is treated as
  scipy's map_coordinates treats a given one: the same rules below;
- "nearest" never remaps the coordinate: taps are clamped; the other modes remap it first,
  "constant" fills when the remapped coordinate is outside [0, n-1] (tested unrounded), and any
  tap still outside is remapped with mirror rules (reflect keeps reflect);
- order 0 takes floor(x + 0.5); order 1 weights are w0 = 1 - frac, w1 = 1 - w0, taps summed as
  ((v00 w0 w0' + v01 w0 w1') + v10 w1 w0') + v11 w1 w1' with coeff = (v * w_row) * w_col;
- uint8 results round half up and clip to 0..255, float32 results are a plain cast.

Order 0 (both dtypes) and order 1 on float32 are therefore bit-identical to scipy. Order 1 on
uint8 trades that for speed: float32 weights shared by four channels in SSE2 lanes; the float
error of the sum is ~1e-5, so a result differs from scipy's (by exactly 1) only when scipy's
value lies that close to a .5 rounding boundary.

Speed comes from splitting each output row into passes: an index pass (``_warp_simd.h``,
branch-free and dispatched to AVX2 at run time) that resolves every in-bounds sample (and, for
"nearest", every sample; for float32 order 1 also the constant fills) — for affine order 0 the
in-bounds columns form one interval, indexed without clamps or tests; a gather (order 0,
specialised on the pixel size, RGB four 4-byte moves a step, index rows computed a few rows
ahead with source prefetch on large images) or an interpolation (order 1; float32 on 3 or 4
channels sums each tap's channels in AVX lanes, the same double operations as scipy's); then a
scalar pass applying scipy's rules to the few samples left (UNRESOLVED or FILL_SAMPLE).

Axis-aligned affine maps (m01 == m10 == 0: crops, resizes, pads, zooms, shifts, flips and what
they fuse to) take a separable path with the general path's bytes, chosen per image and
documented in ``_warp_resize.pxi``.
"""

from cpython.buffer cimport (
    PyBUF_C_CONTIGUOUS,
    PyBUF_WRITABLE,
    PyBuffer_Release,
    PyObject_GetBuffer,
)
from libc.math cimport floor, isfinite
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy


cdef extern from "_warp_simd.h" nogil:
    void ac_row_nearest_index(int32_t *index, const double *col_r, const double *col_c,
                              double row_r, double row_c, int64_t w_out, int64_t h_in,
                              int64_t w_in, int clamp, int span)
    void ac_row_linear_index(int32_t *index, double *w_r, double *w_c, const double *col_r,
                             const double *col_c, double row_r, double row_c, int64_t w_out,
                             int64_t h_in, int64_t w_in, int clamp)
    void ac_row_linear_taps(int32_t *index, int32_t *step_r, int32_t *step_c, double *w_r,
                            double *w_c, const double *col_r, const double *col_c, double row_r,
                            double row_c, int64_t w_out, int64_t h_in, int64_t w_in, int clamp,
                            int fill)
    bint ac_linear_f32_lanes(float *out, const float *src, const float *src_end,
                             const int32_t *index, const int32_t *step_r, const int32_t *step_c,
                             const double *w_r, const double *w_c, int64_t w_out,
                             int64_t channels)
    void ac_row_projective(double *x_r, double *x_c, const double *t_r, const double *t_c,
                           const double *t_w, double row_r, double row_c, double row_w,
                           int64_t w_out)
    void ac_prefetch_pixels(const unsigned char *src, const int32_t *index, int64_t w_out,
                            int64_t pixel_bytes, int64_t step)
    double ac_tap_sum(double v00, double v01, double v10, double v11, double wr0, double wc0)
    void ac_bilinear_u8x4(uint8_t *out, const uint8_t *p00, const uint8_t *p01,
                          const uint8_t *p10, const uint8_t *p11, float w00, float w01,
                          float w10, float w11)


cdef extern from "_warp_resize.h" nogil:
    enum:
        AC_RESIZE_STEP
        AC_RESIZE_MASK_BYTES
        AC_WIDE_STEP
    bint ac_resize_has_steps()
    bint ac_resize_u8_plan(int32_t *base, uint8_t *masks, const int32_t *at, int64_t count,
                           int32_t right)
    int ac_resize_bytes_plan_any(int32_t *base, uint64_t *loads, uint8_t *masks,
                                 const int32_t *at, int64_t count, int64_t row_bytes, bint wide)
    void ac_resize_bytes_row(uint8_t *out, const uint8_t *row, const int32_t *at, int64_t count,
                             const int32_t *base, const uint64_t *loads, const uint8_t *masks,
                             int width)
    void ac_prefetch_span(const uint8_t *row, int64_t start, int64_t stop)
    int ac_resize_u8_plan_any(int32_t *base, uint64_t *loads, uint8_t *masks, const int32_t *at,
                              int64_t count, int32_t right, int64_t row_bytes, bint wide)
    bint ac_resize_has_wide()
    void ac_resize_u8_row(uint8_t *out, const uint8_t *p0, const uint8_t *p1, const int32_t *at,
                          const float *b, const float *b1, int64_t count, int32_t right, float a,
                          float a1, const int32_t *base, const uint64_t *loads,
                          const uint8_t *masks, int width)


# The fill modes in the order of augcore.validation.FILL_MODES, whose positions are the codes.
cdef enum:
    NEAREST = 0
    CONSTANT = 1
    REFLECT = 2
    WRAP = 3
    MIRROR = 4  # scipy's rule for taps still outside after the coordinate map; never an option


ctypedef fused sample_t:
    uint8_t
    float


# Index markers of the per-row passes in _warp_simd.h, where an index row holds the input pixel
# of each sample (>= 0) or one of these:
cdef enum:
    UNRESOLVED = -1  # outside the fast path's bounds: scipy's scalar rules decide (or the fill)
    FILL_SAMPLE = -2  # float32 order 1, "constant": outside [0, n-1], so scipy fills with cval


# The kernel's paths, for warp_batch(paths=...): tests compare them on the same maps.
cpdef enum:
    FASTEST = 0  # the separable path where the map allows it, with its widest steps on this CPU
    SCALAR = 1  # the separable path with scalar rows only
    GENERAL = 2  # the per-pixel passes for every map
    AVX2_STEPS = 3  # the separable path with AVX2 steps at most (AVX-512 CPUs: the narrower ones)


# Order 0 computes index rows PREFETCH_ROWS output rows ahead of the gather and prefetches every
# PREFETCH_STEP-th of their source pixels, for sources of PREFETCH_MIN_BYTES or more (smaller ones
# stay in L2, where the prefetches only cost). Measured on the bench's 1024x1024 RGB warps: -12 to
# -26 % for rotations of 40-80 degrees, even at 17; +3-5 % at 256x256, hence the threshold.
cdef enum:
    PREFETCH_ROWS = 8
    PREFETCH_STEP = 8
    PREFETCH_MIN_BYTES = 512 * 1024


cdef struct Geometry:
    Py_ssize_t h_in, w_in, h_out, w_out, channels
    int mode
    double cval
    bint projective  # matrices are 3x3 projective pull maps, else affine (their first 2 rows)
    Py_ssize_t stride  # doubles from one matrix to the next: 9 (3x3) or 6 (2x3)


include "_warp_scratch.pxi"


cdef double map_coordinate(double x, int64_t n, int mode) noexcept nogil:
    """scipy's map_coordinate: fold an out-of-range coordinate back according to the mode."""
    cdef int64_t period
    if x < 0:
        if mode == NEAREST:
            return 0
        if mode == CONSTANT:
            return -1
        if n <= 1:
            return 0
        if mode == REFLECT:
            period = 2 * n
            if x < -period:
                x = period * <int64_t>(-x / period) + x
            if x < -n:
                return x + period
            return (1e-15 if x > -1e-15 else -x) - 1
        if mode == MIRROR:
            period = 2 * n - 2
            x = period * <int64_t>(-x / period) + x
            return x + period if x <= 1 - n else -x
        period = n - 1  # wrap
        return x + period * (<int64_t>(-x / period) + 1)
    if x > n - 1:
        if mode == NEAREST:
            return <double>(n - 1)
        if mode == CONSTANT:
            return -1
        if n <= 1:
            return 0
        if mode == REFLECT:
            period = 2 * n
            x -= period * <int64_t>(x / period)
            return period - x - 1 if x >= n else x
        if mode == MIRROR:
            period = 2 * n - 2
            x -= period * <int64_t>(x / period)
            return period - x if x >= n else x
        period = n - 1  # wrap
        return x - period * <int64_t>(x / period)
    return x


cdef inline int edge_mode(int mode) noexcept nogil:
    """The mode scipy uses for filter taps that still fall outside after the coordinate map."""
    return MIRROR if mode == CONSTANT or mode == WRAP else mode


cdef int64_t nearest_tap(double x, int64_t n, int mode) noexcept nogil:
    """Input index of an order-0 sample at coordinate x, or -1 for the constant fill."""
    cdef double cc = x
    cdef int64_t start
    if mode != NEAREST:
        cc = map_coordinate(x, n, mode)
        if not cc > -1.0:
            return -1
    start = <int64_t>floor(cc + 0.5)
    if start < 0 or start >= n:
        start = <int64_t>map_coordinate(<double>start, n, edge_mode(mode))
    return start


cdef bint linear_taps(double x, int64_t n, int mode, int64_t *taps, double *weights) noexcept nogil:
    """Taps and weights of an order-1 sample at coordinate x; False for the constant fill."""
    cdef double cc = x, below
    cdef int64_t start
    cdef int tap_mode
    if mode != NEAREST:
        cc = map_coordinate(x, n, mode)
        if not cc > -1.0:
            return False
    below = floor(cc)
    start = <int64_t>below
    weights[0] = 1.0 - (cc - below)
    weights[1] = 1.0 - weights[0]
    if start < 0 or start + 1 >= n:
        tap_mode = edge_mode(mode)
        taps[0] = <int64_t>map_coordinate(<double>start, n, tap_mode)
        taps[1] = <int64_t>map_coordinate(<double>(start + 1), n, tap_mode)
    else:
        taps[0] = start
        taps[1] = start + 1
    return True


cdef void column_terms(const Geometry *g, const double *m, Scratch *s) noexcept nogil:
    """Per-column products, once per image: c * m01 and c * m11 (and c * m21 if projective)."""
    cdef Py_ssize_t c
    if g.projective:
        for c in range(g.w_out):
            s.proj_r[c] = <double>c * m[1]
            s.proj_c[c] = <double>c * m[4]
            s.proj_w[c] = <double>c * m[7]
        return
    for c in range(g.w_out):
        s.col_r[c] = <double>c * m[1]
        s.col_c[c] = <double>c * m[4]


cdef inline void row_terms(const Geometry *g, const double *m, Scratch *s, Py_ssize_t r,
                           double *row_r, double *row_c) noexcept nogil:
    """Set up output row r: sample (row, col) coordinates are row_r + s.col_r[c], row_c + ...

    Affine: scipy's x = m02; x += r * m00; x += c * m01. Projective: the same numerator and
    w = (m22 + r * m20) + c * m21, divided per sample into s.col_r/s.col_c, with row terms 0.0
    (adding 0.0 changes no coordinate the kernel can tell apart).
    """
    if g.projective:
        ac_row_projective(s.col_r, s.col_c, s.proj_r, s.proj_c, s.proj_w, m[2] + <double>r * m[0],
                          m[5] + <double>r * m[3], m[8] + <double>r * m[6], g.w_out)
        row_r[0] = 0.0
        row_c[0] = 0.0
    else:
        row_r[0] = m[2] + <double>r * m[0]
        row_c[0] = m[5] + <double>r * m[3]


cdef inline uint8_t to_u8(double value) noexcept nogil:
    value = value + 0.5 if value > 0 else 0.0
    return <uint8_t>(255.0 if value > 255.0 else value)


cdef inline void store(sample_t *to, double value) noexcept nogil:
    """A double result as a sample: uint8 rounds half up and clips, float32 is a plain cast."""
    if sample_t is uint8_t:
        to[0] = to_u8(value)
    else:
        to[0] = <float>value


include "_warp_nearest.pxi"
include "_warp_linear.pxi"
include "_warp_inspect.pxi"
include "_warp_resize.pxi"


# ---- entry points -------------------------------------------------------------------------

cdef int warp_range(const unsigned char *src, unsigned char *dst, const double *matrices,
                    Py_ssize_t start, Py_ssize_t stop, const Geometry *g, Py_ssize_t itemsize,
                    int order, int paths) noexcept nogil:
    """Warp images [start, stop) of a batch; 0, or -1 when the scratch rows cannot be allocated.

    Safe to call from several threads on disjoint ranges.
    """
    cdef Scratch s
    cdef Py_ssize_t pixel_bytes = g.channels * itemsize
    cdef Py_ssize_t in_bytes = g.h_in * g.w_in * pixel_bytes
    cdef Py_ssize_t out_bytes = g.h_out * g.w_out * pixel_bytes
    cdef unsigned char *fill = <unsigned char *>calloc(pixel_bytes + 4, 1)  # RGB reads 4 bytes
    cdef Py_ssize_t i, ch, stride = g.stride
    cdef const double *m
    cdef bint separable
    cdef int status = scratch_alloc(&s, g.w_out, g.w_out * pixel_bytes, g.w_in * pixel_bytes)
    if fill == NULL or status != 0:
        free(fill)
        scratch_free(&s)
        return -1
    for ch in range(g.channels):
        if itemsize == 1:
            store(<uint8_t *>fill + ch, g.cval)
        else:
            store(<float *>fill + ch, g.cval)
    for i in range(start, stop):
        m = matrices + stride * i
        separable = paths != GENERAL and not g.projective and m[1] == 0.0 and m[3] == 0.0
        if order == 0 and separable:
            resize_nearest(g, m, &s, src + i * in_bytes, dst + i * out_bytes, pixel_bytes, fill,
                           paths)
        elif order == 0:
            warp_nearest(g, m, &s, src + i * in_bytes, dst + i * out_bytes, pixel_bytes, fill)
        elif itemsize == 1:  # the separable rows where their windows fit, else per pixel
            if not (separable and resize_linear_u8(g, m, &s, <const uint8_t *>(src + i * in_bytes),
                                                   <uint8_t *>(dst + i * out_bytes), paths)):
                warp_linear(g, m, &s, <const uint8_t *>(src + i * in_bytes),
                            <uint8_t *>(dst + i * out_bytes))
        else:
            warp_linear(g, m, &s, <const float *>(src + i * in_bytes),
                        <float *>(dst + i * out_bytes))
    free(fill)
    scratch_free(&s)
    return 0


def warp_batch(src, dst, matrices, Py_ssize_t start, Py_ssize_t stop, tuple in_shape,
               tuple out_shape, Py_ssize_t itemsize, int order, int mode, double cval,
               bint projective=False, Py_ssize_t stride=0, int paths=FASTEST):
    """Warp images ``start..stop-1`` of ``src`` into ``dst`` without the GIL.

    ``src`` is a C-contiguous (N, *in_shape) array and ``dst`` an (N, *out_shape) one, shapes
    (height, width, channels) with the same channels, of one dtype with ``itemsize`` 1 (uint8)
    or 4 (float32); ``matrices`` is a C-contiguous float64 array of N row-major pull maps,
    ``stride`` doubles apart: affine 2x3 (stride 6) or 3x3 whose first two rows are read (9),
    or projective 3x3 when ``projective`` (9). ``stride`` 0 means 9 if ``projective``, else 6.
    ``paths`` is for tests: FASTEST (the default), SCALAR (the separable path without its
    steps), AVX2_STEPS (without its AVX-512 steps) or GENERAL (the per-pixel passes for every
    map). Sizes and codes are checked
    against the buffers; the values (finite matrices, w > 0 over the output, matching dtypes)
    are the caller's responsibility.
    """
    cdef Py_buffer src_buf, dst_buf, mat_buf
    cdef int status = 0
    cdef Py_ssize_t h_in = in_shape[0], w_in = in_shape[1], channels = in_shape[2]
    cdef Py_ssize_t h_out = out_shape[0], w_out = out_shape[1]
    cdef Py_ssize_t in_bytes = h_in * w_in * channels * itemsize
    cdef Py_ssize_t out_bytes = h_out * w_out * channels * itemsize
    cdef Py_ssize_t matrix_bytes
    cdef Geometry g
    if stride == 0:
        stride = 9 if projective else 6
    matrix_bytes = stride * <Py_ssize_t>sizeof(double)
    g = Geometry(h_in=h_in, w_in=w_in, h_out=h_out, w_out=w_out,
                               channels=channels, mode=mode, cval=cval, projective=projective,
                               stride=stride)
    if out_shape[2] != channels or min(h_in, w_in, channels, h_out, w_out) < 1:
        raise ValueError("augcore._warp.warp_batch: bad shapes")
    PyObject_GetBuffer(src, &src_buf, PyBUF_C_CONTIGUOUS)
    try:
        PyObject_GetBuffer(dst, &dst_buf, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE)
        try:
            PyObject_GetBuffer(matrices, &mat_buf, PyBUF_C_CONTIGUOUS)
            try:
                if not (0 <= start <= stop and src_buf.len >= stop * in_bytes
                        and dst_buf.len >= stop * out_bytes
                        and mat_buf.len >= stop * matrix_bytes
                        and (stride == 9 or (stride == 6 and not projective))
                        and itemsize in (1, 4) and order in (0, 1)
                        and paths in (FASTEST, SCALAR, GENERAL, AVX2_STEPS)
                        and mode in (NEAREST, CONSTANT, REFLECT, WRAP)):
                    raise ValueError("augcore._warp.warp_batch: buffers do not match the sizes")
                with nogil:
                    status = warp_range(
                        <const unsigned char *>src_buf.buf, <unsigned char *>dst_buf.buf,
                        <const double *>mat_buf.buf, start, stop, &g, itemsize, order, paths)
            finally:
                PyBuffer_Release(&mat_buf)
        finally:
            PyBuffer_Release(&dst_buf)
    finally:
        PyBuffer_Release(&src_buf)
    if status != 0:
        raise MemoryError("augcore warp kernel: out of memory for its per-row tables")
