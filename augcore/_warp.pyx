# cython: language_level=3
"""Affine warp kernel (being written)."""
