# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""The photometric loops for the baseline instruction set (see _kernels.pxi)."""

include "_kernels.pxi"
