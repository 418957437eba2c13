"""Only what pyproject.toml cannot say: the Cython warp kernel."""

from Cython.Build import cythonize
from setuptools import Extension, setup

# Exactness against scipy depends on evaluating coordinates in scipy's order without
# contraction: no -ffast-math, no -march=native, no fused multiply-add.
warp = Extension(
    "augcore._warp",
    ["augcore/_warp.pyx"],
    depends=["augcore/_warp_simd.h"],
    extra_compile_args=["-O3", "-ffp-contract=off", "-fno-math-errno"],
)

setup(
    ext_modules=cythonize(
        [warp],
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    )
)
