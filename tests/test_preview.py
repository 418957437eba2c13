"""Preview sheets: every variant is the file `augcore run` writes; captions; layout; limits."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import augcore
from augcore.cli import main
from augcore.cli.job import EXIT_BAD_INPUT, EXIT_ERROR, EXIT_OK
from augcore.contact_sheet import preview_sheet, variants_of
from augcore.sources import discover
from augcore.tiles import (
    CHECKER_DARK,
    CHECKER_LIGHT,
    caption_font,
    caption_lines,
    fit_path,
    fit_text,
    format_step,
)

CONFIG = {
    "order": 1,
    "fill_mode": "constant",
    "steps": [
        {"transform": "rotate", "degrees": 30},
        {"transform": "zoom", "factor": [0.7, 1.3]},
        {"transform": "brightness", "factor": 0.3, "p": 0.5},
        {"transform": "flip_vertical", "p": 0.0},
    ],
}


def _write_inputs(folder):
    """Non-square RGB, grayscale and RGBA inputs with random content (what a fill mode,
    an order and alpha can get wrong shows up in every pixel)."""
    rng = np.random.default_rng(3)
    folder.mkdir()
    shapes = {"wide.png": (30, 52, 3), "gray.png": (41, 23), "alpha.png": (36, 36, 4)}
    for name, shape in shapes.items():
        array = rng.integers(0, 256, shape, dtype=np.uint8)
        if len(shape) == 3 and shape[2] == 4:
            array[:, :9, 3] = 0  # a transparent band: the checkerboard must show through
        Image.fromarray(array).save(folder / name)
    return folder


def _expected_tile(output: np.ndarray, scale: int) -> np.ndarray:
    """The run's output as the sheet should show it: blocks of scale x scale, gray as RGB,
    alpha over the sheet's checkerboard (computed here with the compositing formula)."""
    big = np.repeat(np.repeat(output, scale, axis=0), scale, axis=1).astype(np.float64)
    if big.ndim == 2:
        return np.dstack([big] * 3)
    if big.shape[2] == 3:
        return big
    rows = np.arange(big.shape[0]) // 8
    cols = np.arange(big.shape[1]) // 8
    back = np.where((rows[:, None] + cols[None, :]) % 2 == 0, CHECKER_LIGHT, CHECKER_DARK)
    alpha = big[..., 3:] / 255.0
    return big[..., :3] * alpha + back[..., None] * (1.0 - alpha)


CANVAS_CONFIG = {  # outputs of another size than their input (crop, then a fixed canvas)
    "steps": [
        {"transform": "random_resized_crop", "height": 24, "width": 30},
        {"transform": "rotate", "degrees": 15},
    ]
}


@pytest.mark.parametrize("config", [CONFIG, CANVAS_CONFIG], ids=["same-canvas", "new-canvas"])
def test_every_previewed_variant_is_the_file_run_writes_pixel_for_pixel(tmp_path, config):
    data = _write_inputs(tmp_path / "data")
    twin = np.random.default_rng(9).integers(0, 256, (30, 52, 3), dtype=np.uint8)
    Image.fromarray(twin).save(data / "wide_twin.png")  # same shape: run augments both at once
    out = tmp_path / "out"
    augcore.run([data], out, per_image=3, seed=11, config=config, format="png", quiet=True)
    entries = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()[1:]]
    sheet = preview_sheet([data], per_image=3, seed=11, config=config, tile=110)
    sheet_pixels = np.asarray(sheet.image).astype(np.float64)
    variants = [cell for cell in sheet.cells if cell.k is not None]
    assert len(variants) == len(entries) == 12
    for cell in variants:
        entry = next(e for e in entries if (e["key"], e["k"]) == (cell.key, cell.k))
        written = np.asarray(Image.open(out / entry["path"]))
        if config is CANVAS_CONFIG:
            assert written.shape[:2] == (24, 30)
        left, top, right, bottom = cell.box
        assert cell.scale == int(cell.scale) >= 2  # small inputs: whole-factor blocks
        expected = _expected_tile(written, int(cell.scale))
        shown = sheet_pixels[top:bottom, left:right]
        assert shown.shape == expected.shape
        tolerance = 1.0 if written.ndim == 3 and written.shape[2] == 4 else 0.0  # rounding
        assert np.abs(shown - expected).max() <= tolerance, (cell.key, cell.k)
        assert cell.caption == caption_lines(entry["record"])


def test_the_variant_arrays_equal_run_for_every_mode_and_a_resize(tmp_path):
    data = _write_inputs(tmp_path / "data")
    out = tmp_path / "out"
    augcore.run([data], out, per_image=2, seed=5, size="20x14", format="png", quiet=True)
    pipeline = augcore.Pipeline.default()
    for item in discover([data]).items:
        original, variants, records = variants_of(
            pipeline, item, seed=5, per_image=2, size=(20, 14)
        )
        assert original.shape[:2] == (14, 20)
        for k in range(2):
            written = np.asarray(Image.open(out / item.key.replace(".png", f"__k{k}.png")))
            np.testing.assert_array_equal(variants[k], written)
            assert records[k].key == item.key and records[k].k == k


def test_captions_name_the_steps_that_fired_with_their_values():
    record = {
        "seed": 0,
        "key": "cats/x.png",
        "k": 2,
        "steps": [
            {"name": "rotate", "step": 0, "params": {"degrees": -13.4321}},
            {"name": "shift", "step": 1, "params": {"x_pixels": 11.51, "y_pixels": -8.66}},
            {"name": "zoom", "step": 3, "params": {"y": 0.81234, "x": 1.18}},
            {"name": "gaussian_noise", "step": 4, "params": {"sigma": 4.25, "noise_seed": 977}},
            {"name": "channel_shift", "step": 5, "params": {"offsets": [1.5, -2.25, 3.0]}},
            {"name": "flip_horizontal", "step": 6, "params": {}},
        ],
        "fused": [],
    }
    assert caption_lines(record) == [
        "k=2",
        "rotate -13.4°",
        "shift x=11.5px, y=-8.66px",
        "zoom y=0.812, x=1.18",
        "gaussian_noise 4.25",  # the noise seed is an identifier, not a value
        "channel_shift [1.5, -2.25, 3]",
        "flip_horizontal",
    ]
    assert caption_lines({"k": 0, "steps": []}) == ["k=0", "(no step fired)"]
    assert format_step({"name": "invert", "params": {"on": True}}) == "invert yes"
    assert format_step({"name": "resize", "params": {}, "canvas": [24, 32]}) == "resize to 32x24"
    crop = {"name": "crop", "params": {"top": 4, "left": 2}, "canvas": [20, 30]}
    assert format_step(crop) == "crop to 30x20: top=4, left=2"


def test_a_step_that_did_not_fire_is_not_in_its_caption():
    pipeline = augcore.Pipeline.from_config(CONFIG)
    image = np.zeros((12, 12, 3), np.uint8)
    for k in range(6):
        _, record = pipeline.augment(image, seed=0, key="a", k=k)
        lines = caption_lines(record.to_dict())
        fired = {step["name"] for step in record.steps}
        assert "brightness" in fired or not any(line.startswith("brightness") for line in lines)
        assert not any(line.startswith("flip_vertical") for line in lines)  # p = 0
        assert lines[1].startswith("rotate ") and lines[2].startswith("zoom ")


def test_long_captions_end_in_an_ellipsis_inside_their_tile():
    font = caption_font()
    text = fit_text("shift x=-1234.5px, y=9876.5px, and more and more", font, 60)
    assert text.endswith("…") and font.getlength(text) <= 60
    assert fit_text("k=0", font, 60) == "k=0"
    path = fit_path("photos/holidays/2024/august/beach/IMG_0001.png", font, 90)
    assert path.startswith("…") and path.endswith("IMG_0001.png") and font.getlength(path) <= 90


def test_layout_of_non_square_grayscale_rgba_and_large_inputs(tmp_path):
    data = _write_inputs(tmp_path / "data")
    Image.fromarray(np.full((150, 300, 3), 90, np.uint8)).save(data / "large.png")
    sheet = preview_sheet([data], per_image=2, tile=100)
    width, height = sheet.image.size
    by_key = {}
    for cell in sheet.cells:
        by_key.setdefault(cell.key, []).append(cell)
    assert sorted(by_key) == ["alpha.png", "gray.png", "large.png", "wide.png"]
    tops = []
    for cells in by_key.values():
        assert [cell.k for cell in cells] == [None, 0, 1]  # original first, then k order
        lefts = [cell.box[0] for cell in cells]
        assert lefts == sorted(lefts) and len(set(lefts)) == 3
        tops.append(cells[0].box[1])
        for cell in cells:
            left, top, right, bottom = cell.box
            assert 0 <= left < right <= width and 0 <= top < bottom <= height
            assert max(right - left, bottom - top) <= 100
    assert len(set(tops)) == 4  # one row per input
    sizes = {
        key: (cells[0].box[2] - cells[0].box[0], cells[0].box[3] - cells[0].box[1])
        for key, cells in by_key.items()
    }
    assert sizes["wide.png"] == (52, 30)  # 52 > 100 / 2: shown 1:1, aspect kept
    assert sizes["gray.png"] == (46, 82)  # enlarged by 2
    assert sizes["alpha.png"] == (72, 72)
    assert sizes["large.png"] == (100, 50)  # reduced to fit
    pixels = np.asarray(sheet.image)
    gray = by_key["gray.png"][0]
    block = pixels[gray.box[1] : gray.box[3], gray.box[0] : gray.box[2]]
    assert (block[..., 0] == block[..., 1]).all() and (block[..., 1] == block[..., 2]).all()
    alpha = by_key["alpha.png"][0]  # columns 0..8 are transparent: the checkerboard shows
    band = pixels[alpha.box[1] : alpha.box[3], alpha.box[0] : alpha.box[0] + 18]
    assert set(np.unique(band)) == {CHECKER_DARK, CHECKER_LIGHT}


def test_a_sheet_above_the_limit_is_refused_before_decoding_with_the_numbers(tmp_path):
    data = _write_inputs(tmp_path / "data")
    (data / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(augcore.PreviewError, match=r"would be \d+ x \d+ = [\d,]+ pixels.*--limit"):
        preview_sheet([data], per_image=50, max_pixels=1_000_000)
    with pytest.raises(augcore.InputImageError, match=r"broken\.png"):
        preview_sheet([data], per_image=1)


def test_unreadable_inputs_can_be_skipped_with_a_row_saying_why(tmp_path):
    data = _write_inputs(tmp_path / "data")
    (data / "broken.png").write_bytes(b"")
    sheet = preview_sheet([data, tmp_path / "missing.png"], per_image=1, on_error="skip")
    assert {cell.key for cell in sheet.cells} == {"wide.png", "gray.png", "alpha.png"}
    assert sheet.image.height > 0  # the skipped inputs have their own rows (drawn as text)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"per_image": 0}, "per_image must be an integer >= 1"),
        ({"tile": 4}, "tile must be an integer >= 16"),
        ({"limit": 0}, "limit must be an integer >= 1"),
        ({"size": "28"}, "WIDTHxHEIGHT"),
        ({"on_error": "ignore"}, "on_error"),
    ],
)
def test_bad_options_are_named(options, message):
    with pytest.raises(augcore.PreviewError, match=message):
        preview_sheet(samples=True, **options)


def test_the_command_writes_the_sheet_the_function_makes(tmp_path, capsys):
    sheet = tmp_path / "sheets" / "sheet.png"  # the folder is made, as run makes --out
    argv = ["preview", "--samples", "--per-image", "2", "--limit", "3", "--out", str(sheet)]
    assert main(argv) == EXIT_OK
    assert "written to" in capsys.readouterr().out
    expected = augcore.preview(samples=True, per_image=2, limit=3)
    np.testing.assert_array_equal(np.asarray(Image.open(sheet)), np.asarray(expected))


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--out", "sheet.gif", "--samples"], EXIT_ERROR, "sheet.gif"),
        (["--out", "sheet.png", "nowhere.png"], EXIT_BAD_INPUT, "nowhere.png"),
        (["--out", "sheet.png", "--samples", "--max-pixels", "100"], EXIT_ERROR, "limit of 100"),
        (["--out", "sheet.png", "--samples", "--per-image", "0"], EXIT_ERROR, "per_image"),
    ],
)
def test_command_errors_are_messages_with_exit_codes(
    tmp_path, monkeypatch, capsys, argv, code, message
):
    monkeypatch.chdir(tmp_path)
    assert main(["preview", *argv]) == code
    err = capsys.readouterr().err
    assert err.startswith("augcore: error:") and message in err and "Traceback" not in err
    assert not (tmp_path / "sheet.png").exists()


ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_sheet_is_what_the_script_makes_now():
    spec = importlib.util.spec_from_file_location(
        "make_readme_preview", ROOT / "tools" / "make_readme_preview.py"
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    sheet = preview_sheet(**tool.SETTINGS)
    committed = np.asarray(Image.open(tool.OUT).convert("RGB"))
    redo = "docs/images/preview.png is stale: run python tools/make_readme_preview.py"
    assert committed.shape == np.asarray(sheet.image).shape, redo
    fresh = np.asarray(sheet.image)
    for cell in sheet.cells:  # the pictures; captions may differ in a Pillow's font by a pixel
        left, top, right, bottom = cell.box
        assert np.array_equal(committed[top:bottom, left:right], fresh[top:bottom, left:right]), (
            redo
        )
