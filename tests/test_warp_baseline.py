"""The kernel's portable build computes the same bytes as the dispatched one, and scipy's.

The normal build runs the AVX2 clone of the per-row passes (where the CPU has AVX2) and the SSE2
lanes for uint8 bilinear; test_warp*.py check that build against scipy. Here the kernel is
rebuilt from the package's sources with setup.py's ``PORTABLE_ARGS`` (no CPU dispatch, no SSE2:
the code path of other architectures), and that build must give the normal build's bytes on
many random warps — affine and projective, onto other canvases — and match scipy itself, so a
mistake common to both builds cannot hide behind their agreement.
"""

from __future__ import annotations

import importlib.util
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from warp_oracle import projective_coordinates, scipy_map, scipy_warp

import augcore
from augcore import _warp

SETUP_PY = Path(__file__).resolve().parents[1] / "setup.py"

BUILD_SCRIPT = """
import runpy
from Cython.Build import cythonize
from setuptools import setup

flags = runpy.run_path({setup_py!r}, run_name="augcore_setup")
warp = [ext for ext in flags["kernels"](flags["PORTABLE_ARGS"], "", "") if ext.name == "_warp"]
setup(
    script_args=["build_ext", "--inplace", "-q"],
    ext_modules=cythonize(warp, compiler_directives=flags["DIRECTIVES"], quiet=True),
)
"""


def test_the_portable_flags_are_the_normal_ones_plus_the_baseline_switches():
    flags = runpy.run_path(str(SETUP_PY), run_name="augcore_setup")
    assert flags["PORTABLE_ARGS"][: len(flags["COMPILE_ARGS"])] == flags["COMPILE_ARGS"]
    assert "-ffp-contract=off" in flags["COMPILE_ARGS"]
    assert {"-DAUGCORE_NO_CPU_DISPATCH", "-U__SSE2__"} <= set(flags["PORTABLE_ARGS"])


@pytest.fixture(scope="module")
def baseline_kernel(tmp_path_factory):
    """The warp kernel built from the package's own sources with setup.py's portable flags."""
    build_dir = tmp_path_factory.mktemp("baseline_kernel")
    package_dir = Path(augcore.__file__).parent
    for path in [*package_dir.glob("_warp*.pyx"), *package_dir.glob("_warp*.pxi")]:
        shutil.copy(path, build_dir / path.name)
    for path in package_dir.glob("_warp*.h"):
        shutil.copy(path, build_dir / path.name)
    (build_dir / "build_baseline.py").write_text(BUILD_SCRIPT.format(setup_py=str(SETUP_PY)))
    subprocess.run(
        [sys.executable, "build_baseline.py"], cwd=build_dir, check=True, capture_output=True
    )
    (library,) = build_dir.glob("_warp.*.so")
    spec = importlib.util.spec_from_file_location("baseline._warp", library)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def random_warp(rng, trial, order, dtype):
    """One random kernel call: images, matrices (every other trial projective, some affine ones
    axis-aligned), canvases."""
    height, width = (int(v) for v in rng.integers(1, 48, size=2))
    if trial % 7 == 0:  # wide enough for whole AVX2 steps on any channel count
        height, width = (int(v) for v in rng.integers(40, 120, size=2))
    out_size = (int(v) for v in rng.integers(1, 48, size=2)) if trial % 3 else (height, width)
    out_height, out_width = out_size
    channels = int(rng.choice([1, 2, 3, 4, 5]))
    count = int(rng.integers(1, 4))
    images = rng.integers(0, 256, size=(count, height, width, channels)).astype(dtype)
    scale = [1.5, 1.5, 2 * height, 1.5, 1.5, 2 * width]
    matrices = rng.normal(0.0, 1.0, size=(count, 6)) * scale
    if trial % 2:
        matrices = np.round(matrices * 4) / 4  # ties at .5
    projective = trial % 4 >= 2
    if trial % 5 >= 3 and not projective:  # axis-aligned: the separable path (and its steps)
        matrices[:, [1, 3]] = 0.0
    if projective:
        # w = 1 + a r + b c stays in [0.5, 1.5] over the output canvas.
        tilt = rng.uniform(-0.5, 0.5, size=(count, 2)) / [max(out_height, 2), max(out_width, 2)]
        matrices = np.hstack([matrices, tilt, np.ones((count, 1))])
    mode = int(rng.integers(0, 4))
    geometry = (
        (height, width, channels),
        (out_height, out_width, channels),
        images.itemsize,
        order,
        mode,
        33.0,
    )
    return images, np.ascontiguousarray(matrices), geometry, projective


def scipy_result(image, row, geometry, projective):
    """scipy's warp of one (H, W, C) image with one kernel matrix row."""
    out_shape, order, mode = (
        geometry[1][:2],
        geometry[3],
        augcore.validation.FILL_MODES[geometry[4]],
    )
    matrix = np.vstack([row.reshape(-1, 3), [0.0, 0.0, 1.0]])[:3]
    if projective:
        return scipy_map(image, projective_coordinates(matrix, out_shape), order, mode, 33.0)
    return scipy_warp(image, matrix, order, mode, 33.0, output_shape=out_shape)


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32], ids=["uint8", "float32"])
def test_baseline_build_gives_the_same_bytes_as_the_normal_one_and_scipys(
    baseline_kernel, dtype, order
):
    assert baseline_kernel is not _warp
    rng = np.random.default_rng([order, np.dtype(dtype).itemsize])
    for trial in range(200):
        images, matrices, geometry, projective = random_warp(rng, trial, order, dtype)
        results = []
        for kernel in (_warp, baseline_kernel):
            out = np.zeros((len(images), *geometry[1]), dtype=dtype)
            kernel.warp_batch(images, out, matrices, 0, len(images), *geometry, projective)
            results.append(out)
        assert results[0].tobytes() == results[1].tobytes(), (trial, geometry)
        expected = scipy_result(images[0], matrices[0], geometry, projective)
        if order == 0:
            np.testing.assert_array_equal(results[1][0], expected, err_msg=f"{trial}")
        else:
            tolerance = 1 if dtype == np.uint8 else 1e-4
            diff = np.abs(results[1][0].astype(np.float64) - expected)
            assert diff.max() <= tolerance, (trial, geometry)


@pytest.mark.parametrize("order", [0, 1])
def test_baseline_rows_give_the_bytes_of_the_avx512_and_avx2_steps(baseline_kernel, order):
    """uint8 axis-aligned maps wide enough for several steps of either width, partial ones,
    flips, .5 ties, every mode and channel count: the portable scalar rows' bytes."""
    assert baseline_kernel.resize_step_width() == 0
    rng = np.random.default_rng([order, 16])
    for trial in range(60):
        height, width = (int(v) for v in rng.integers(20, 200, size=2))
        out_shape = (int(rng.integers(1, 60)), int(rng.integers(17, 150)))
        channels = (1, 3, 4)[trial % 3]
        images = rng.integers(0, 256, size=(1, height, width, channels), dtype=np.uint8)
        scale_r, scale_c = rng.uniform(-2.2, 2.2, size=2)
        shift_r, shift_c = rng.uniform(-0.2, 1.2, size=2) * [height, width]
        matrices = np.array([[scale_r, 0.0, shift_r, 0.0, scale_c, shift_c]])
        if trial % 2:
            matrices = np.round(matrices * 4) / 4
        geometry = ((height, width, channels), (*out_shape, channels), 1, order, trial % 4, 33.0)
        results = []
        for kernel, paths in (
            (_warp, _warp.FASTEST),
            (_warp, _warp.AVX2_STEPS),
            (baseline_kernel, baseline_kernel.FASTEST),
        ):
            out = np.zeros((1, *geometry[1]), dtype=np.uint8)
            kernel.warp_batch(images, out, matrices, 0, 1, *geometry, False, 6, paths)
            results.append(out.tobytes())
        assert results[0] == results[1] == results[2], (trial, matrices, geometry)
