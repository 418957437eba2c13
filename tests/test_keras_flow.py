"""augcore.keras iterators against Keras goldens, and save_to_dir on disk (names, no overwrite,
manifest), including the seed's script with only its import changed."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np
import pytest
from make_keras_goldens import SEED_SCRIPT_ARGS, flatten_batch, load_golden, run_flow, take_batches
from PIL import Image

from augcore.errors import ConfigError, InputImageError
from augcore.keras import MANIFEST_NAME, ImageDataGenerator, array_to_img
from augcore.manifest import read_manifest

FLOW_META, FLOW = load_golden("flow.npz")
DIRECTORY_META, DIRECTORY = load_golden("directory.npz")
SAVED_META, SAVED = load_golden("saved.npz")
SEED_SCRIPT = Path(__file__).parent / "data" / "keras" / "seed_script.py"


def assert_batches_match(name: str, batches: list, golden: dict[str, np.ndarray]) -> None:
    for b, batch in enumerate(batches):
        ours = flatten_batch(name, b, batch)
        assert set(ours) == {key for key in golden if key.startswith(f"{name}_b{b}_p")}
        for key, array in ours.items():
            assert array.shape == golden[key].shape, key
            np.testing.assert_allclose(array, golden[key], rtol=0, atol=1e-4, err_msg=key)


@pytest.mark.parametrize("run", FLOW_META, ids=[run["name"] for run in FLOW_META])
def test_flow_batches_match_keras(run: dict) -> None:
    generator = ImageDataGenerator(**run["config"])
    if run["config"].get("featurewise_center"):
        generator.fit(FLOW["x"])
    batches = run_flow(generator, FLOW, run["flow"], run["count"], run["by_index"])
    assert_batches_match(run["name"], batches, FLOW)


@pytest.fixture(scope="module")
def class_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The PNG class folders the directory goldens were made from, rebuilt from the fixture."""
    root = tmp_path_factory.mktemp("classes")
    for i, (relative, _) in enumerate(DIRECTORY_META["files"]):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(DIRECTORY[f"file_{i}"]).save(root / relative)
    return root


@pytest.mark.parametrize("run", DIRECTORY_META["runs"], ids=lambda run: run["name"])
def test_file_iterators_match_keras(run: dict, class_tree: Path) -> None:
    generator = ImageDataGenerator(**run["config"])
    if run["kind"] == "directory":
        iterator = generator.flow_from_directory(class_tree, **run["kwargs"])
    else:
        pandas = pytest.importorskip("pandas")
        files = DIRECTORY_META["files"]
        frame = pandas.DataFrame(
            {
                "filename": [relative for relative, _ in files],
                "class": [label for _, label in files],
                "score": np.linspace(0.0, 1.0, len(files)),
                "weight": np.arange(len(files), dtype=float) + 1,
            }
        )
        iterator = generator.flow_from_dataframe(frame, directory=str(class_tree), **run["kwargs"])
    assert iterator.filenames == run["filenames"]
    assert getattr(iterator, "class_indices", None) == run["class_indices"]
    assert_batches_match(run["name"], take_batches(iterator, run["count"]), DIRECTORY)


def test_seeded_flows_in_parallel_threads_match_a_sequential_run() -> None:
    """Keras reseeds one global RNG, so parallel flows disturb each other; these do not."""
    generator = ImageDataGenerator(**SEED_SCRIPT_ARGS)
    expected = take_batches(generator.flow(FLOW["x"], batch_size=2, seed=3), 10)
    results: list[list[np.ndarray]] = [[] for _ in range(4)]

    def consume(slot: int) -> None:
        iterator = generator.flow(FLOW["x"], batch_size=2, seed=3)
        results[slot] = take_batches(iterator, 10)

    threads = [threading.Thread(target=consume, args=(slot,)) for slot in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for batches in results:
        for got, want in zip(batches, expected, strict=True):
            np.testing.assert_array_equal(got, want)


def test_saved_images_match_what_keras_saved(tmp_path: Path) -> None:
    """The seed's settings with a seed: each saved tif holds Keras's pixels."""
    generator = ImageDataGenerator(**SEED_SCRIPT_ARGS)
    for run in range(3):
        iterator = generator.flow(
            SAVED["input"],
            batch_size=1,
            seed=100 + run,
            save_to_dir=tmp_path,
            save_prefix="augmented",
            save_format="tif",
        )
        take_batches(iterator, 3)
    names = sorted(p.name for p in tmp_path.glob("*.tif"))
    # Keras reseeds with 100 + run + batch, so its names repeat across these runs and it
    # overwrites its own files; here all nine survive, numbered in the order written.
    assert names == sorted(f"augmented_0_{serial}.tif" for serial in range(9))
    for serial, case in enumerate(SAVED_META):
        assert case["seed"] == 100 + serial // 3 and case["batch"] == serial % 3
        with Image.open(tmp_path / f"augmented_0_{serial}.tif") as saved:
            pixels = np.asarray(saved)
        expected = SAVED[f"saved{serial}"]
        # Order-1 floats agree within 1e-4; after the min-max stretch and uint8 truncation a
        # value sitting on an integer boundary may land one step lower or higher.
        assert np.abs(pixels.astype(int) - expected.astype(int)).max() <= 1
        assert np.mean(pixels != expected) < 0.01


def test_manifest_replays_every_saved_image(tmp_path: Path) -> None:
    x = FLOW["x"][:4]
    generator = ImageDataGenerator(rotation_range=30, zoom_range=0.2, channel_shift_range=9.0)
    iterator = generator.flow(x, batch_size=3, seed=1, save_to_dir=tmp_path, save_prefix="aug")
    take_batches(iterator, 2)
    manifest = read_manifest(tmp_path / MANIFEST_NAME)
    assert manifest.header["writer"] == "augcore.keras"
    assert [e["file"] for e in manifest.entries] == sorted(
        (p.name for p in tmp_path.glob("aug_*.png")), key=lambda n: int(n[:-4].split("_")[2])
    )
    assert len(manifest.entries) == 4  # batches of 3 and then the 1 image left
    assert [e["batch"] for e in manifest.entries] == [0, 0, 0, 1]
    assert sorted(e["source_index"] for e in manifest.entries) == [0, 1, 2, 3]
    for entry in manifest.entries:
        assert entry["generator"]["rotation_range"] == 30
        replayed = generator.apply_transform(x[entry["source_index"]].copy(), entry["params"])
        with Image.open(tmp_path / entry["file"]) as saved:
            np.testing.assert_array_equal(np.asarray(saved), np.asarray(array_to_img(replayed)))


def test_save_to_dir_never_overwrites_a_file_it_did_not_write(tmp_path: Path) -> None:
    generator = ImageDataGenerator(rotation_range=10)
    x = FLOW["x"][:1]
    take_batches(generator.flow(x, batch_size=1, save_to_dir=tmp_path, save_prefix="p"), 2)
    intruder = tmp_path / "p_0_2.png"  # another writer takes the next name behind our back
    intruder.write_bytes(b"not ours")
    take_batches(generator.flow(x, batch_size=1, save_to_dir=tmp_path, save_prefix="p"), 2)
    assert intruder.read_bytes() == b"not ours"
    assert sorted(p.name for p in tmp_path.glob("p_*.png")) == [
        "p_0_0.png",
        "p_0_1.png",
        "p_0_2.png",
        "p_0_3.png",
        "p_0_4.png",
    ]


def test_save_to_dir_needs_an_existing_folder_and_a_known_format(tmp_path: Path) -> None:
    generator = ImageDataGenerator()
    with pytest.raises(FileNotFoundError, match=r"No such file or directory: .*missing"):
        generator.flow(FLOW["x"], save_to_dir=tmp_path / "missing")
    with pytest.raises(ConfigError, match="save_format='nope'"):
        generator.flow(FLOW["x"], save_to_dir=tmp_path, save_format="nope")
    with pytest.raises(ConfigError, match="path separator"):
        generator.flow(FLOW["x"], save_to_dir=tmp_path, save_prefix="sub/aug")


def _load_seed_script():
    spec = importlib.util.spec_from_file_location("seed_script", SEED_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seed_script_writes_exactly_three_files_per_input(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    sources = tmp_path / "inputs"
    sources.mkdir()
    paths = []
    for i in range(14):
        size = (20 + 3 * i, 30 + i)  # various sizes, as the script resizes them to 28x28
        path = sources / f"img{i}.png"
        Image.fromarray(rng.integers(0, 256, size=(*size, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    listing = tmp_path / "list.txt"
    listing.write_text("".join(f"{p}\n" for p in paths))
    out = tmp_path / "out"
    out.mkdir()
    augment = _load_seed_script().augment

    augment(str(listing), str(out))
    first_run = {p.name: p.read_bytes() for p in out.glob("*.tif")}
    assert len(first_run) == 3 * 14
    augment(str(listing), str(out))  # a second run into the same folder adds, never overwrites
    second_run = {p.name: p.read_bytes() for p in out.glob("*.tif")}
    assert len(second_run) == 2 * 3 * 14
    assert all(second_run[name] == data for name, data in first_run.items())
    assert sorted(p.name for p in out.iterdir()) == sorted([*second_run, MANIFEST_NAME])
    manifest = read_manifest(out / MANIFEST_NAME)
    assert sorted(entry["file"] for entry in manifest.entries) == sorted(second_run)


def test_iterators_use_an_overridden_get_random_transform_as_keras_does() -> None:
    class QuarterTurns(ImageDataGenerator):
        def get_random_transform(self, img_shape: tuple, seed: int | None = None) -> dict:
            return {**super().get_random_transform(img_shape, seed), "theta": 90.0}

    generator = QuarterTurns()
    x = FLOW["x"][:2]
    batch = next(generator.flow(x, batch_size=2, shuffle=False))
    for i in range(2):
        expected = ImageDataGenerator().apply_transform(x[i], {"theta": 90.0})
        np.testing.assert_array_equal(batch[i], expected)


def test_a_failed_save_leaves_no_partial_file(tmp_path: Path) -> None:
    rgba = np.random.default_rng(4).uniform(0, 255, size=(1, 5, 6, 4)).astype(np.float32)
    iterator = ImageDataGenerator().flow(rgba, save_to_dir=tmp_path, save_format="jpg")
    with pytest.raises(OSError, match="RGBA"):  # JPEG cannot hold alpha (Keras fails alike)
        next(iterator)
    assert list(tmp_path.iterdir()) == []


def test_flow_from_directory_names_a_missing_folder_and_a_broken_file(tmp_path: Path) -> None:
    generator = ImageDataGenerator()
    with pytest.raises(FileNotFoundError, match=r"No such file or directory: .*nowhere"):
        generator.flow_from_directory(tmp_path / "nowhere")
    (tmp_path / "cats").mkdir()
    (tmp_path / "cats" / "broken.png").write_bytes(b"\x89PNG truncated")
    iterator = generator.flow_from_directory(tmp_path, target_size=(4, 4))
    with pytest.raises(InputImageError, match=r"broken\.png"):
        next(iterator)
