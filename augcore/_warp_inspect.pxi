# Part of the warp kernel, textually included by _warp.pyx: the matrix checks for _warp_checks.
# It shares that module's namespace: Geometry, Scratch, the index markers, _warp_simd.h names.
cdef inline double corner(double shift, double along_r, double along_c, double r,
                          double c) noexcept nogil:
    """One coordinate (or w) of a pull map at output (r, c), in the kernel's order."""
    cdef double value = shift + r * along_r
    return value + c * along_c


cdef void canvas_corners(Py_ssize_t height, Py_ssize_t width, double *rows,
                         double *cols) noexcept nogil:
    rows[0] = rows[1] = 0.0
    rows[2] = rows[3] = <double>(height - 1)
    cols[0] = cols[2] = 0.0
    cols[1] = cols[3] = <double>(width - 1)


def inspect_matrices(const double[:, :, ::1] matrices, Py_ssize_t height, Py_ssize_t width):
    """Return (reach, bad) for (N, 2|3, 3) matrices over an output canvas of this size.

    2x3 and affine 3x3 matrices: ``reach`` is the largest absolute input coordinate any output
    corner maps to (NaN when an entry is not finite) and ``bad`` the first index of a 3x3
    matrix whose last row is not [0, 0, 1], or -1. One pass in C: validation must not cost
    more than the warp.
    """
    cdef Py_ssize_t i, k, j, bad = -1
    cdef double reach = 0.0, value
    cdef double rows[4]
    cdef double cols[4]
    canvas_corners(height, width, rows, cols)
    for i in range(matrices.shape[0]):
        for k in range(2):
            for j in range(4):
                value = corner(matrices[i, k, 2], matrices[i, k, 0], matrices[i, k, 1], rows[j],
                               cols[j])
                value = -value if value < 0 else value
                if not isfinite(value):
                    return float("nan"), -1
                if value > reach:
                    reach = value
        if bad < 0 and matrices.shape[1] == 3 and not (
                matrices[i, 2, 0] == 0.0 and matrices[i, 2, 1] == 0.0 and matrices[i, 2, 2] == 1.0):
            bad = i
    return reach, bad


def inspect_projective(const double[:, :, ::1] matrices, Py_ssize_t height, Py_ssize_t width):
    """Return (reach, folded) for (N, 3, 3) projective pull maps over an output canvas.

    ``folded`` is the first index of a matrix whose w is not > 0 at some output corner, or -1;
    w is affine in (r, c) and each operation rounds monotonically, so w > 0 at the four corners
    (computed as the kernel does) means w > 0 at every output pixel. ``reach`` is the largest
    absolute input coordinate at a corner (NaN for a non-finite entry or coordinate): the image
    of the canvas is the convex quadrilateral spanned by the corners' images.
    """
    cdef Py_ssize_t i, k, j
    cdef double reach = 0.0, value, w
    cdef double rows[4]
    cdef double cols[4]
    canvas_corners(height, width, rows, cols)
    for i in range(matrices.shape[0]):
        for j in range(4):
            w = corner(matrices[i, 2, 2], matrices[i, 2, 0], matrices[i, 2, 1], rows[j], cols[j])
            if not isfinite(w):
                return float("nan"), -1
            if not w > 0.0:
                return reach, i
            for k in range(2):
                value = corner(matrices[i, k, 2], matrices[i, k, 0], matrices[i, k, 1], rows[j],
                               cols[j]) / w
                value = -value if value < 0 else value
                if not isfinite(value):
                    return float("nan"), -1
                if value > reach:
                    reach = value
    return reach, -1
