# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""The photometric loops built with -mavx512f, used when the CPU has AVX-512 (see _kernels.pxi)."""

include "_kernels.pxi"
