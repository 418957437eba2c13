"""Only what pyproject.toml cannot say: the Cython extensions (warp kernel, photometric loops)."""

from Cython.Build import cythonize
from setuptools import Extension, setup

# Exactness against scipy depends on evaluating coordinates in scipy's order without
# contraction: no -ffast-math, no -march=native, no fused multiply-add.
warp = Extension(
    "augcore._warp",
    ["augcore/_warp.pyx"],
    depends=["augcore/_warp_simd.h"],
    # -fno-trapping-math changes no result (nothing here reads FP exception flags); it lets GCC
    # vectorise the order-1 index pass, whose selects follow floating-point comparisons.
    extra_compile_args=["-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"],
)

# The photometric plugins' loops (blends, hue, blur, tables): one source, built for the
# baseline and for AVX2 (chosen at import from the CPU); no contraction, so both give the same
# values.
PHOTOMETRIC_FLAGS = ["-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"]
photometric = [
    Extension(
        f"augcore.plugins.{name}",
        [f"plugins/{name}.pyx"],
        depends=["plugins/_kernels.pxi", "plugins/_hue.h"],
        include_dirs=["plugins"],
        extra_compile_args=PHOTOMETRIC_FLAGS + extra,
    )
    for name, extra in (("_kernels", []), ("_kernels_avx2", ["-mavx2"]))
]

setup(
    ext_modules=cythonize(
        [warp, *photometric],
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    )
)
