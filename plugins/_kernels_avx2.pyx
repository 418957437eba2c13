# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""The photometric loops built with -mavx2, used when the CPU has AVX2 (see _kernels.pxi)."""

include "_kernels.pxi"
