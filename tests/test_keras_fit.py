"""``model.fit`` on augcore.keras iterators with real Keras 3 (jax backend): ``flow``,
``flow_from_directory`` training and validation subsets, and ``flow_from_dataframe``.

Each trains a tiny model for 2 epochs, twice from the same seeds: the two runs must end with the
same weights (augcore's determinism) and ``save_to_dir`` must hold exactly one file per image
per epoch (plus the batch ``fit`` builds the model from), each listed once in the manifest.
Keras and jax come with the test extra (``pip install -e ".[test]"``); without them these tests
are skipped, saying why.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from augcore.keras import MANIFEST_NAME, ImageDataGenerator
from augcore.manifest import read_manifest

EPOCHS = 2
CLASSES = ("cats", "dogs")
PER_CLASS = 5
SIZE = (8, 8)


@pytest.fixture(scope="module")
def keras() -> Any:
    """Keras 3 on jax, imported only when these tests run (it takes seconds)."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    try:
        import keras
    except ImportError as exc:
        pytest.skip(f"Keras 3 with jax is not installed ({exc}); pip install -e '.[test]'")
    if int(keras.__version__.split(".")[0]) < 3:
        pytest.skip(f"needs Keras 3, found {keras.__version__}")
    return keras


def train(keras: Any, data: Any, validation: Any = None) -> tuple[list[np.ndarray], dict]:
    """A tiny classifier fitted for EPOCHS epochs from fixed seeds: its weights and history."""
    assert isinstance(data, keras.utils.PyDataset)
    keras.utils.set_random_seed(0)  # weights and fit's batch-order shuffle
    model = keras.Sequential(
        [
            keras.Input((*SIZE, 3)),
            keras.layers.Flatten(),
            keras.layers.Dense(len(CLASSES), activation="softmax"),
        ]
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy", jit_compile=False)
    history = model.fit(data, validation_data=validation, epochs=EPOCHS, verbose=0)
    assert len(history.history["loss"]) == EPOCHS
    assert np.isfinite(history.history["loss"]).all()
    return model.get_weights(), history.history


def assert_saved_once_per_epoch(folder: Path, sources: list[Any], batch_size: int) -> None:
    """Every image of every epoch is a file of its own, listed once in the manifest.

    Before its first epoch ``fit`` builds the model from one batch it fetches and drops (Keras
    does the same with its own iterators): that is the iterator's batch 0, saved too.
    """
    files = sorted(path.name for path in folder.glob("aug_*.png"))
    assert len(files) == EPOCHS * len(sources) + batch_size
    entries = read_manifest(folder / MANIFEST_NAME).entries
    assert sorted(entry["file"] for entry in entries) == files
    assert sum(entry["batch"] == 0 for entry in entries) == batch_size
    trained = [entry["source"] or entry["source_index"] for entry in entries if entry["batch"]]
    assert collections.Counter(trained) == {source: EPOCHS for source in sources}


def assert_deterministic(
    keras: Any, tmp_path: Path, make: Callable[[Path], tuple[Any, Any]], sources: list[Any]
) -> dict:
    """Train twice on fresh iterators from the same seeds: same weights, same file counts."""
    runs = []
    for run in range(2):
        folder = tmp_path / f"saved{run}"
        folder.mkdir()
        data, validation = make(folder)
        runs.append(train(keras, data, validation))
        assert_saved_once_per_epoch(folder, sources, data.batch_size)
    for first, second in zip(runs[0][0], runs[1][0], strict=True):
        np.testing.assert_array_equal(first, second)
    return runs[0][1]


@pytest.fixture(scope="module")
def class_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("classes")
    rng = np.random.default_rng(0)
    for label, name in enumerate(CLASSES):
        (root / name).mkdir()
        for i in range(PER_CLASS):
            pixels = rng.integers(0, 128, (*SIZE, 3)) + 127 * label
            Image.fromarray(pixels.astype(np.uint8)).save(root / name / f"{i}.png")
    return root


def test_fit_on_flow(keras: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 255, (10, *SIZE, 3)).astype(np.float32)
    y = np.eye(len(CLASSES), dtype=np.float32)[np.arange(10) % 2]
    generator = ImageDataGenerator(rotation_range=20, horizontal_flip=True, rescale=1 / 255)

    def make(folder: Path) -> tuple[Any, None]:
        return generator.flow(
            x, y, batch_size=4, seed=1, save_to_dir=folder, save_prefix="aug"
        ), None

    assert_deterministic(keras, tmp_path, make, list(range(10)))


def test_fit_on_flow_from_directory_training_and_validation_subsets(
    keras: Any, class_tree: Path, tmp_path: Path
) -> None:
    generator = ImageDataGenerator(validation_split=0.4, zoom_range=0.1, rescale=1 / 255)
    options = dict(target_size=SIZE, batch_size=3, seed=2)
    validation = generator.flow_from_directory(class_tree, subset="validation", **options)
    training = generator.flow_from_directory(class_tree, subset="training", **options)
    # Keras splits each class folder: its first 40 % of files validate, the rest train
    assert validation.samples == 4 and training.samples == 6
    assert sorted(validation.filenames + training.filenames) == sorted(
        f"{name}/{i}.png" for name in CLASSES for i in range(PER_CLASS)
    )

    def make(folder: Path) -> tuple[Any, Any]:
        train_it = generator.flow_from_directory(
            class_tree, subset="training", save_to_dir=folder, save_prefix="aug", **options
        )
        return train_it, generator.flow_from_directory(class_tree, subset="validation", **options)

    history = assert_deterministic(keras, tmp_path, make, training.filenames)
    assert len(history["val_loss"]) == EPOCHS


def test_fit_on_flow_from_dataframe(keras: Any, class_tree: Path, tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas", reason="flow_from_dataframe takes a pandas DataFrame")
    names = [f"{name}/{i}.png" for name in CLASSES for i in range(PER_CLASS)]
    frame = pandas.DataFrame({"filename": names, "class": [name.split("/")[0] for name in names]})
    generator = ImageDataGenerator(shear_range=10, rescale=1 / 255)

    def make(folder: Path) -> tuple[Any, None]:
        iterator = generator.flow_from_dataframe(
            frame,
            directory=str(class_tree),
            target_size=SIZE,
            batch_size=4,
            seed=3,
            save_to_dir=folder,
            save_prefix="aug",
        )
        return iterator, None

    assert_deterministic(keras, tmp_path, make, names)


def test_an_iterator_made_before_keras_was_imported_says_so_when_fit_rejects_it(
    keras: Any,
) -> None:
    """augcore.keras never imports Keras, so such an iterator is plain; fit's error says why."""
    code = (
        "import numpy as np\n"
        "from augcore.keras import ImageDataGenerator\n"
        "early = ImageDataGenerator().flow(np.zeros((4, 8, 8, 3)), np.eye(2)[[0, 1, 0, 1]])\n"
        "import keras\n"
        "model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(),\n"
        "                          keras.layers.Dense(2)])\n"
        "model.compile(optimizer='sgd', loss='mse')\n"
        "try:\n"
        "    model.fit(early, epochs=1, verbose=0)\n"
        "except ValueError as exc:\n"
        "    print(exc)\n"
        "late = ImageDataGenerator().flow(np.zeros((4, 8, 8, 3)), np.eye(2)[[0, 1, 0, 1]])\n"
        "model.fit(late, epochs=1, verbose=0)\n"
        "print('late ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert "Unrecognized data type" in result.stdout
    assert "make it after `import keras`" in result.stdout
    assert result.stdout.rstrip().endswith("late ok")
