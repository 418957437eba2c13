"""Only what pyproject.toml cannot say: the compiled kernels, and their flags in one place.

The photometric plugins' loops (blends, hue, blur, tables: plugins/_kernels.pxi and the C
headers it includes) are one source built three times, for the baseline, AVX2 and AVX-512,
chosen at import from the CPU; without contraction all compute the same values.

tests/test_warp_baseline.py reads ``COMPILE_ARGS``, ``PORTABLE_ARGS`` and ``DIRECTIVES`` from
here (``runpy``, without running ``setup()``) to rebuild the warp kernel the portable way.
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

# Exactness against scipy depends on evaluating coordinates in scipy's order without
# contraction: no -ffast-math, no -march=native, no fused multiply-add. -fno-trapping-math
# changes no result (nothing here reads FP exception flags); it lets GCC vectorise the order-1
# index pass, whose selects follow floating-point comparisons.
COMPILE_ARGS = ["-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"]
# The code path of other architectures: no run-time AVX2 dispatch, no SSE2 intrinsics.
PORTABLE_ARGS = [*COMPILE_ARGS, "-DAUGCORE_NO_CPU_DISPATCH", "-U__SSE2__"]
DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "cdivision": True,
    "initializedcheck": False,
}


def kernels(compile_args: list[str], folder: str = "augcore/", prefix: str = "augcore.") -> list:
    """The warp kernel and the box reduce as setuptools extensions built with these flags."""
    return [
        Extension(
            f"{prefix}_warp",
            [f"{folder}_warp.pyx"],
            depends=[
                f"{folder}_warp_simd.h",
                f"{folder}_warp_resize.h",
                f"{folder}_warp_wide.h",
                *(
                    f"{folder}_warp_{part}.pxi"
                    for part in ("nearest", "linear", "inspect", "resize", "scratch")
                ),
            ],
            extra_compile_args=compile_args,
        ),
        Extension(
            f"{prefix}_reduce",
            [f"{folder}_reduce.pyx"],
            depends=[f"{folder}_reduce_rows.h"],
            extra_compile_args=compile_args,
        ),
    ]


# What the photometric kernels include: a change to any of them rebuilds all three.
PHOTOMETRIC_SOURCES = (
    "_kernels.pxi", "_color.pxi", "_hue.h", "_jitter.h", "_lanes.h", "_blur.h", "_blur_fixed.h"
)


def photometric_kernels(compile_args: list[str]) -> list:
    """The photometric loops: the baseline, -mavx2 and -mavx512f builds of one source."""
    return [
        Extension(
            f"augcore.plugins.{name}",
            [f"plugins/{name}.pyx"],
            depends=[f"plugins/{part}" for part in PHOTOMETRIC_SOURCES],
            include_dirs=["plugins"],
            extra_compile_args=compile_args + extra,
        )
        for name, extra in (
            ("_kernels", []), ("_kernels_avx2", ["-mavx2"]), ("_kernels_avx512", ["-mavx512f"])
        )
    ]


if __name__ == "__main__":
    setup(
        ext_modules=cythonize(
            kernels(COMPILE_ARGS) + photometric_kernels(COMPILE_ARGS),
            compiler_directives=DIRECTIVES,
        )
    )
