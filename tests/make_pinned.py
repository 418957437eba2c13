"""Make the pinned runs under tests/data/pinned/ (run once, from the version being pinned).

The pinned runs are the promise that a dataset made with one version of augcore can be audited,
byte for byte, with the next: tests/test_pinned.py regenerates them with today's code and
replays them with ``augcore replay --check``. Never regenerate them to make a failing test pass;
a change that alters them changes which numbers every existing dataset was made from, which
only a new major version may do (docs/glossary.md, "What may change draws").

Layout made here::

    tests/data/pinned/inputs/          three tiny images (RGB, a subfolder, grayscale)
    tests/data/pinned/<name>/config.json   the chain
    tests/data/pinned/<name>/out/      the run: outputs and manifest.jsonl

Source paths in the manifests are written relative to tests/data/pinned/ (the job records
absolute ones); the test puts its own absolute paths back before replaying.

Usage: python tests/make_pinned.py
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

import augcore

HERE = Path(__file__).resolve().parent / "data" / "pinned"
INPUTS = "inputs"
SEED = 0
PER_IMAGE = 3

#: Every built-in transform, in one_of / some_of groups whose members have their own p < 1, so
#: draw numbers, gates and group choices are all pinned; bilinear order and reflect fill too.
GROUPS_CHAIN = {
    "order": 1,
    "fill_mode": "reflect",
    "cval": 0.0,
    "steps": [
        {"transform": "rotate", "degrees": 30, "p": 0.8},
        {
            "one_of": [
                {"transform": "shift", "x": 0.1, "y": [-0.2, 0.1], "unit": "fraction", "p": 0.7},
                {"transform": "shear", "degrees": 10},
                {"transform": "zoom", "factor": [0.9, 1.3], "per_axis": True, "p": 0.6},
            ],
            "weights": [2, 1, 1],
            "p": 0.9,
        },
        {
            "some_of": [
                {"transform": "flip_horizontal", "p": 0.5},
                {"transform": "flip_vertical"},
                {"transform": "brightness", "factor": 0.3, "p": 0.7},
            ],
            "n": [1, 2],
        },
        {
            "some_of": [
                {"transform": "contrast", "factor": 0.4},
                {"transform": "channel_shift", "intensity": 20},
                {
                    "one_of": [
                        {"transform": "gaussian_noise", "sigma": 6},
                        {"transform": "grayscale"},
                    ]
                },
            ],
            "n": 2,
            "p": 0.8,
        },
    ],
}

CHAINS = {"default": None, "groups": GROUPS_CHAIN}


def make_inputs(folder: Path) -> None:
    """Three small images whose every pixel differs, so any change of a warp shows."""
    rows, cols = np.mgrid[0:12, 0:16]
    rgb = np.stack([rows * 21, cols * 16, (rows * cols) % 251], axis=-1).astype(np.uint8)
    (folder / "sub").mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(folder / "a.png")
    small = np.stack([cols[:10, :9] * 27, rows[:10, :9] * 25, 255 - rows[:10, :9] * 9], -1)
    Image.fromarray(small.astype(np.uint8)).save(folder / "sub" / "b.png")
    gray = ((rows[:9, :13] * 13 + cols[:9, :13] * 7) % 256).astype(np.uint8)
    Image.fromarray(gray, mode="L").save(folder / "c.png")


def relativise(manifest: Path, inputs: Path) -> None:
    """Write the manifest's source paths relative to tests/data/pinned/."""
    absolute = json.dumps(str(inputs))[1:-1]
    text = manifest.read_text(encoding="utf-8").replace(f'"{absolute}', f'"{INPUTS}')
    manifest.write_text(text, encoding="utf-8")


def main() -> None:
    if HERE.exists():
        shutil.rmtree(HERE)
    inputs = HERE / INPUTS
    make_inputs(inputs)
    for name, chain in CHAINS.items():
        folder = HERE / name
        folder.mkdir()
        config = chain if chain is not None else augcore.Pipeline.default().to_config()
        (folder / "config.json").write_text(json.dumps(config, indent=1) + "\n")
        augcore.run(
            [inputs], folder / "out", per_image=PER_IMAGE, seed=SEED, config=config, quiet=True
        )
        relativise(folder / "out" / "manifest.jsonl", inputs)


if __name__ == "__main__":
    main()
