"""Every code example in docs/migrating-from-keras.md runs, as written, in a folder holding the
files the examples name (``photos/<class>/*.png``, ``images.txt``).

The first example is the seed's Keras script; it runs with its import line swapped for the
one-line change the guide shows, which is the point of the guide. Examples that import Keras
need Keras 3 with jax (the test extra) and are skipped, saying why, without it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

GUIDE = Path(__file__).parents[1] / "docs" / "migrating-from-keras.md"
# The language, then anything else on the fence line (tests/test_docs.py's "no-run: why").
FENCE = re.compile(r"^( *)```(\w+)[^\n]*\n(.*?)^\1```$", re.MULTILINE | re.DOTALL)
BLOCKS = [
    (language, textwrap.dedent(body)) for _, language, body in FENCE.findall(GUIDE.read_text())
]
KERAS_IMPORT = "from keras.preprocessing.image import"


def python_blocks() -> list[str]:
    return [body for language, body in BLOCKS if language == "python"]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """photos/cats, photos/dogs (4 images each) and images.txt listing the cats, as cwd."""
    rng = np.random.default_rng(0)
    for name in ("cats", "dogs"):
        (tmp_path / "photos" / name).mkdir(parents=True)
        for i in range(4):
            pixels = rng.integers(0, 256, (30 + i, 34, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "photos" / name / f"{i}.png")
    cats = sorted((tmp_path / "photos" / "cats").iterdir())
    (tmp_path / "images.txt").write_text("".join(f"{path}\n" for path in cats))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_guide_has_the_examples_these_tests_run() -> None:
    languages = [language for language, _ in BLOCKS]
    assert languages.count("python") == 5 and languages.count("console") == 1
    assert set(languages) <= {"python", "console", "text"}
    assert KERAS_IMPORT in python_blocks()[0]


def test_the_seed_script_runs_with_the_one_line_change(workdir: Path) -> None:
    script, change = python_blocks()[:2]
    (keras_line,) = [line for line in script.splitlines() if line.startswith(KERAS_IMPORT)]
    namespace: dict = {}
    exec(compile(script.replace(keras_line, change.strip()), str(GUIDE), "exec"), namespace)
    (workdir / "out").mkdir()
    namespace["augment"]("images.txt", "out")
    assert len(list((workdir / "out").glob("augmented_*.tif"))) == 3 * 4


@pytest.mark.parametrize("index", [2, 3, 4])
def test_python_example_runs(index: int, workdir: Path) -> None:
    code = python_blocks()[index]
    if "import keras" in code:
        os.environ.setdefault("KERAS_BACKEND", "jax")
        pytest.importorskip(
            "keras", reason="the example trains a Keras 3 model: pip install keras jax"
        )
    exec(compile(code, str(GUIDE), "exec"), {"__name__": "guide"})


def test_console_example_runs(workdir: Path) -> None:
    ((command,),) = [body.split("\n")[:1] for language, body in BLOCKS if language == "console"]
    argv = shlex.split(command)
    assert argv[0] == "augcore"
    subprocess.run([sys.executable, "-m", "augcore", *argv[1:]], check=True, capture_output=True)
    assert len(list((workdir / "augmented").glob("*.tif"))) == 3 * 4
    assert (workdir / "augmented" / "manifest.jsonl").is_file()
