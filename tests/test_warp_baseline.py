"""The kernel's portable build computes the same bytes as the dispatched one.

The normal build runs the AVX2 clone of the index passes (where the CPU has AVX2) and the SSE2
lanes for uint8 bilinear; test_warp.py checks that build against scipy. Here the kernel is
rebuilt without CPU dispatch and without SSE2 (the code path of other architectures), and both
builds must give identical bytes on many random warps.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import augcore
from augcore import _warp

BUILD_SCRIPT = """
from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    script_args=["build_ext", "--inplace", "-q"],
    ext_modules=cythonize(
        [Extension("_warp", ["_warp.pyx"], extra_compile_args=[
            "-O3", "-ffp-contract=off", "-fno-math-errno",
            "-DAUGCORE_NO_CPU_DISPATCH", "-U__SSE2__"])],
        compiler_directives={"language_level": 3, "boundscheck": False, "wraparound": False,
                             "cdivision": True, "initializedcheck": False},
        quiet=True,
    ),
)
"""


@pytest.fixture(scope="module")
def baseline_kernel(tmp_path_factory):
    """The kernel built from the package's own sources with the baseline flags."""
    build_dir = tmp_path_factory.mktemp("baseline_kernel")
    package_dir = Path(augcore.__file__).parent
    for name in ("_warp.pyx", "_warp_simd.h"):
        shutil.copy(package_dir / name, build_dir / name)
    (build_dir / "build_baseline.py").write_text(BUILD_SCRIPT)
    subprocess.run(
        [sys.executable, "build_baseline.py"], cwd=build_dir, check=True, capture_output=True
    )
    (library,) = build_dir.glob("_warp.*.so")
    spec = importlib.util.spec_from_file_location("baseline._warp", library)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32], ids=["uint8", "float32"])
def test_baseline_build_gives_the_same_bytes(baseline_kernel, dtype, order):
    assert baseline_kernel is not _warp
    rng = np.random.default_rng([order, np.dtype(dtype).itemsize])
    for trial in range(200):
        height, width = (int(v) for v in rng.integers(1, 48, size=2))
        channels = int(rng.choice([1, 2, 3, 4, 5]))
        count = int(rng.integers(1, 4))
        images = rng.integers(0, 256, size=(count, height, width, channels)).astype(dtype)
        scale = [1.5, 1.5, 2 * height, 1.5, 1.5, 2 * width]
        matrices = rng.normal(0.0, 1.0, size=(count, 6)) * scale
        if trial % 2:
            matrices = np.round(matrices * 4) / 4  # ties at .5
        matrices = np.ascontiguousarray(matrices)
        mode = int(rng.integers(0, 4))
        shape = (height, width, channels)
        geometry = (shape, shape, images.itemsize, order, mode, 33.0)
        results = []
        for kernel in (_warp, baseline_kernel):
            out = np.zeros_like(images)
            kernel.warp_batch(images, out, matrices, 0, count, *geometry)
            results.append(out)
        assert results[0].tobytes() == results[1].tobytes(), (trial, geometry)
