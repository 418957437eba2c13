# cython: language_level=3
"""Thin GIL-free entry point to the C warp kernel in ``_warp_kernel.h``.

The kernel's exactness rules (scipy's coordinate order, rounding and fill modes) are documented
in the header. This module only takes raw buffers: ``augcore.warp`` validates shapes, dtypes,
matrices and options first and passes C-contiguous arrays, so the call costs well under a
microsecond on top of the work itself.
"""

from cpython.buffer cimport (
    PyBUF_C_CONTIGUOUS,
    PyBUF_WRITABLE,
    PyBuffer_Release,
    PyObject_GetBuffer,
)
from libc.math cimport isfinite
from libc.stdint cimport int64_t


cdef extern from "_warp_kernel.h" nogil:
    int AC_NEAREST, AC_CONSTANT, AC_REFLECT, AC_WRAP
    int ac_warp_batch(const unsigned char *src, unsigned char *dst, const double *matrices,
                      int64_t start, int64_t stop, int64_t h_in, int64_t w_in, int64_t h_out,
                      int64_t w_out, int64_t channels, int64_t itemsize, int order, int mode,
                      double cval)

MODES = {"nearest": AC_NEAREST, "constant": AC_CONSTANT, "reflect": AC_REFLECT, "wrap": AC_WRAP}


def warp_batch(src, dst, matrices, Py_ssize_t start, Py_ssize_t stop, Py_ssize_t height,
               Py_ssize_t width, Py_ssize_t channels, Py_ssize_t itemsize, int order, int mode,
               double cval):
    """Warp images ``start..stop-1`` of ``src`` into ``dst`` without the GIL.

    ``src`` and ``dst`` are C-contiguous (N, height, width, channels) arrays of one dtype with
    ``itemsize`` 1 (uint8) or 4 (float32); ``matrices`` is a C-contiguous float64 (N, 6) array
    of row-major 2x3 pull maps. Sizes and codes are checked against the buffers; the values
    (finite matrices, matching dtypes) are the caller's responsibility.
    """
    cdef Py_buffer src_buf, dst_buf, mat_buf
    cdef int status = 0
    cdef Py_ssize_t image_bytes = height * width * channels * itemsize
    PyObject_GetBuffer(src, &src_buf, PyBUF_C_CONTIGUOUS)
    try:
        PyObject_GetBuffer(dst, &dst_buf, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE)
        try:
            PyObject_GetBuffer(matrices, &mat_buf, PyBUF_C_CONTIGUOUS)
            try:
                if not (0 <= start <= stop and src_buf.len >= stop * image_bytes
                        and dst_buf.len >= stop * image_bytes
                        and mat_buf.len >= stop * 6 * <Py_ssize_t>sizeof(double)
                        and itemsize in (1, 4) and order in (0, 1)
                        and mode in (AC_NEAREST, AC_CONSTANT, AC_REFLECT, AC_WRAP)):
                    raise ValueError("augcore._warp.warp_batch: buffers do not match the sizes")
                with nogil:
                    status = ac_warp_batch(
                        <const unsigned char *>src_buf.buf, <unsigned char *>dst_buf.buf,
                        <const double *>mat_buf.buf, start, stop, height, width, height, width,
                        channels, itemsize, order, mode, cval)
            finally:
                PyBuffer_Release(&mat_buf)
        finally:
            PyBuffer_Release(&dst_buf)
    finally:
        PyBuffer_Release(&src_buf)
    if status != 0:
        raise MemoryError("augcore warp kernel: out of memory for its per-row tables")


def inspect_matrices(const double[:, :, ::1] matrices, Py_ssize_t height, Py_ssize_t width):
    """Return (reach, bad_last_row) for (N, 2|3, 3) matrices over an image of this size.

    ``reach`` is the largest absolute input coordinate any output corner maps to (NaN when an
    entry is not finite); ``bad_last_row`` is the first index of a 3x3 matrix whose last
    row is not [0, 0, 1], or -1. One pass in C: validation must not cost more than the warp.
    """
    cdef Py_ssize_t i, k, bad = -1
    cdef double reach = 0.0, corner, value
    cdef double last_r = <double>(height - 1), last_c = <double>(width - 1)
    for i in range(matrices.shape[0]):
        for k in range(2):
            for corner in (0.0, 1.0, 2.0, 3.0):
                value = matrices[i, k, 2]
                value += (last_r if corner >= 2.0 else 0.0) * matrices[i, k, 0]
                value += (last_c if corner == 1.0 or corner == 3.0 else 0.0) * matrices[i, k, 1]
                value = -value if value < 0 else value
                if not isfinite(value):
                    return float("nan"), -1
                if value > reach:
                    reach = value
        if bad < 0 and matrices.shape[1] == 3 and not (
                matrices[i, 2, 0] == 0.0 and matrices[i, 2, 1] == 0.0 and matrices[i, 2, 2] == 1.0):
            bad = i
    return reach, bad
