"""Labelled runs: ``augcore run --annotations`` moves COCO, YOLO and VOC labels with the images.

The written images are the oracle: each object is drawn into its input in a colour of its
own, so in every output the pixels of that colour must be what the written annotation says
(pycocotools rasterises COCO polygons; YOLO and VOC files are read by plain parsers).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO
from targets_oracles import draw_polygon, iou, mask_box

import augcore
from augcore.cli import main

SHAPE = (144, 192)
POLYGONS = {  # colour -> polygon, in continuous pixels of a 192 x 144 image
    (250, 40, 40): 2 * np.array([[10.5, 8.2], [50.3, 12.7], [44.1, 50.4], [14.2, 40.8]]),
    (40, 250, 40): 2 * np.array([[55.0, 20.0], [88.0, 24.0], [80.0, 64.0], [60.0, 60.0]]),
}
CONFIG = {
    "fill_mode": "constant",
    "steps": [
        {"transform": "rotate", "degrees": 25},
        {"transform": "zoom", "factor": [0.8, 1.1]},
        {"transform": "flip_horizontal", "p": 0.5},
    ],
}


def dataset(tmp_path: Path) -> Path:
    """images/a.png and images/sub/b.png carry both objects; images/c.png has none."""
    source = tmp_path / "images"
    (source / "sub").mkdir(parents=True)
    for name in ("a.png", "sub/b.png", "c.png"):
        image = np.zeros((*SHAPE, 3), np.uint8)
        if name != "c.png":
            for colour, polygon in POLYGONS.items():
                image[draw_polygon(SHAPE, polygon) > 0] = colour
        Image.fromarray(image).save(source / name)
    return source


def coco_input(tmp_path: Path) -> Path:
    images, annotations = [], []
    for image_id, name in enumerate(["a.png", "sub/b.png", "c.png"], start=1):
        images.append({"id": image_id, "file_name": name, "width": SHAPE[1], "height": SHAPE[0]})
        if name == "c.png":
            continue
        for category, polygon in enumerate(POLYGONS.values(), start=1):
            x0, y0 = polygon.min(axis=0)
            x1, y1 = polygon.max(axis=0)
            annotations.append(
                {
                    "id": len(annotations) + 100,
                    "image_id": image_id,
                    "category_id": category,
                    "bbox": [x0, y0, x1 - x0, y1 - y0],
                    "segmentation": [polygon.ravel().tolist()],
                    "iscrowd": 0,
                }
            )
    path = tmp_path / "in.json"
    path.write_text(
        json.dumps(
            {
                "images": images,
                "annotations": annotations,
                "categories": [{"id": 1, "name": "red"}, {"id": 2, "name": "green"}],
                "licenses": [{"id": 1, "name": "test"}],
            }
        )
    )
    return path


def yolo_labels(tmp_path: Path) -> Path:
    labels = tmp_path / "labels"
    (labels / "sub").mkdir(parents=True)
    rows = [
        f"{category} " + " ".join(map(str, (polygon / SHAPE[::-1]).ravel()))
        for category, polygon in enumerate(POLYGONS.values())
    ]
    for name in ("a.txt", "sub/b.txt"):
        (labels / name).write_text("\n".join(rows) + "\n")
    return labels


def coloured(image: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    return (image == colour).all(axis=-1)


def cli_run_args(source, out, annotations, fmt, per_image):
    return ["run", str(source), "--out", str(out), "--per-image", str(per_image),
            "--annotations", str(annotations), "--annotation-format", fmt]  # fmt: skip


def labelled_run(source, out, annotations, fmt, **options):
    options = {"seed": 5, "config": CONFIG, "jobs": 1, **options}
    return augcore.run([source], out, annotations=annotations, annotation_format=fmt, **options)


def test_a_coco_run_writes_k_outputs_and_annotations_pycocotools_reads(tmp_path):
    source, annotations = dataset(tmp_path), coco_input(tmp_path)
    out = tmp_path / "out"
    summary = labelled_run(source, out, annotations, "coco", per_image=3, seed=5)
    assert summary.outputs == 9 and summary.complete
    coco = COCO(str(out / "annotations.json"))
    assert len(coco.dataset["images"]) == 9
    assert coco.dataset["licenses"] == [{"id": 1, "name": "test"}]
    assert [i["id"] for i in coco.dataset["images"]] == list(range(1, 10))
    checked = 0
    for image in coco.dataset["images"]:
        pixels = np.array(Image.open(out / image["file_name"]))
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
        if image["file_name"].startswith("c__"):
            assert anns == []
            continue
        for ann in anns:
            colour = list(POLYGONS)[ann["category_id"] - 1]
            shown = coloured(pixels, colour)
            assert iou(coco.annToMask(ann), shown) >= 0.98
            x, y, w, h = ann["bbox"]
            assert np.abs(np.array([x, y, x + w, y + h]) - mask_box(shown)).max() <= 1.5
            checked += 1
    assert checked >= 10
    entries = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()[1:]]
    assert all(entry["annotations"]["format"] == "coco" for entry in entries)
    header = json.loads((out / "manifest.jsonl").read_text().splitlines()[0])["header"]
    assert header["annotations"]["format"] == "coco" and header["annotations"]["sha256"]


def test_coco_runs_are_byte_identical_across_jobs_and_resumes(tmp_path):
    source, annotations = dataset(tmp_path), coco_input(tmp_path)
    options = dict(
        per_image=4, seed=2, config=CONFIG, annotations=annotations, annotation_format="coco"
    )
    augcore.run([source], tmp_path / "one", jobs=1, **options)
    augcore.run([source], tmp_path / "two", jobs=2, **options)
    first = (tmp_path / "one" / "annotations.json").read_bytes()
    assert first == (tmp_path / "two" / "annotations.json").read_bytes()
    # a run that died before the end: some outputs and the COCO file missing
    (tmp_path / "one" / "annotations.json").unlink()
    (tmp_path / "one" / "sub" / "b__k2.png").unlink()
    summary = augcore.run([source], tmp_path / "one", jobs=1, **options)
    assert summary.written == 1 and summary.already_there == 11
    assert (tmp_path / "one" / "annotations.json").read_bytes() == first


def test_yolo_runs_write_a_label_file_per_output(tmp_path):
    source = dataset(tmp_path)
    labels = yolo_labels(tmp_path)
    out = tmp_path / "out"
    labelled_run(source, out, labels, "yolo", per_image=2, seed=1)
    written = sorted(p.relative_to(out / "labels").as_posix() for p in (out / "labels").rglob("*"))
    assert written == [
        "a__k0.txt",
        "a__k1.txt",
        "c__k0.txt",
        "c__k1.txt",
        "sub",
        "sub/b__k0.txt",
        "sub/b__k1.txt",
    ]
    assert (out / "labels" / "c__k0.txt").read_text() == ""
    for path in (out / "labels").rglob("*.txt"):
        pixels = np.array(Image.open(out / path.relative_to(out / "labels").with_suffix(".png")))
        for line in path.read_text().splitlines():
            category, *values = line.split()
            polygon = np.array(values, float).reshape(-1, 2) * SHAPE[::-1]
            shown = coloured(pixels, list(POLYGONS)[int(category)])
            assert iou(draw_polygon(SHAPE, polygon), shown) >= 0.98
    entry = json.loads((out / "manifest.jsonl").read_text().splitlines()[1])
    assert (
        entry["annotations"]["path"]
        == "labels/" + Path(entry["path"]).with_suffix(".txt").as_posix()
    )


def test_voc_runs_write_an_xml_per_output(tmp_path):
    source = dataset(tmp_path)
    folder = tmp_path / "voc"
    (folder / "sub").mkdir(parents=True)
    objects = ""
    for colour, polygon in POLYGONS.items():
        x0, y0 = np.floor(polygon.min(axis=0)).astype(int)
        x1, y1 = np.ceil(polygon.max(axis=0)).astype(int)
        objects += (
            f"<object><name>c{colour[0]}</name><bndbox><xmin>{x0 + 1}</xmin>"
            f"<ymin>{y0 + 1}</ymin><xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>"
        )
    xml = (
        f"<annotation><size><width>{SHAPE[1]}</width><height>{SHAPE[0]}</height>"
        f"<depth>3</depth></size>{objects}</annotation>"
    )
    for name in ("a.xml", "sub/b.xml"):
        (folder / name).write_text(xml)
    out = tmp_path / "out"
    labelled_run(source, out, folder, "voc", per_image=2, seed=3)
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.xml"))
    assert files == [
        "Annotations/a__k0.xml",
        "Annotations/a__k1.xml",
        "Annotations/c__k0.xml",
        "Annotations/c__k1.xml",
        "Annotations/sub/b__k0.xml",
        "Annotations/sub/b__k1.xml",
    ]
    for path in out.rglob("*.xml"):
        root = ET.parse(path).getroot()
        pixels = np.array(
            Image.open(out / path.relative_to(out / "Annotations").with_suffix(".png"))
        )
        assert root.findtext("filename") == path.with_suffix(".png").name
        for obj in root.iter("object"):
            colour = next(c for c in POLYGONS if f"c{c[0]}" == obj.findtext("name"))
            xmin, ymin, xmax, ymax = (
                int(obj.findtext(f"bndbox/{t}")) for t in ("xmin", "ymin", "xmax", "ymax")
            )
            x0, y0, x1, y1 = mask_box(coloured(pixels, colour))
            # the enclosing box of the moved box holds the object (one pixel of rounding)
            assert xmin - 2 <= x0 and ymin - 2 <= y0 and x1 <= xmax + 1 and y1 <= ymax + 1


def test_bad_annotations_stop_before_writing_or_are_skipped_and_listed(tmp_path):
    source, annotations = dataset(tmp_path), coco_input(tmp_path)
    data = json.loads(annotations.read_text())
    data["images"].append({"id": 9, "file_name": "gone.png", "width": 5, "height": 5})
    data["annotations"][0]["category_id"] = 42
    annotations.write_text(json.dumps(data))
    options = dict(
        per_image=2,
        seed=0,
        config=CONFIG,
        jobs=1,
        annotations=annotations,
        annotation_format="coco",
    )
    with pytest.raises(augcore.AnnotationError, match=r"(?s)annotation id 100 .*'gone.png'"):
        augcore.run([source], tmp_path / "stop", **options)
    assert not (tmp_path / "stop").exists() or not any((tmp_path / "stop").rglob("*.png"))
    summary = augcore.run([source], tmp_path / "skip", on_error="skip", **options)
    assert summary.outputs == 4  # b and c; a's annotations are broken
    reasons = " ".join(skip.reason for skip in summary.skipped)
    assert "category_id 42" in reasons and "gone.png" in reasons
    written = json.loads((tmp_path / "skip" / "annotations.json").read_text())
    assert sorted(i["file_name"] for i in written["images"]) == [
        "c__k0.png",
        "c__k1.png",
        "sub/b__k0.png",
        "sub/b__k1.png",
    ]


def test_a_malformed_yolo_line_stops_that_input_without_an_orphaned_output(tmp_path, capsys):
    source = dataset(tmp_path)
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "a.txt").write_text("0 0.5 0.5 0.2\n")
    args = [*cli_run_args(source, tmp_path / "out", labels, "yolo", 2), "--jobs", "1"]
    assert main(args) == 3  # a bad input
    assert "a.txt, line 1" in capsys.readouterr().err
    assert not (tmp_path / "out" / "a__k0.png").exists()
    assert main([*args, "--on-error", "skip"]) == 5  # partial: an input was skipped
    assert not (tmp_path / "out" / "a__k0.png").exists()
    assert (tmp_path / "out" / "labels" / "c__k1.txt").exists()


@pytest.mark.parametrize("fmt", ["coco", "yolo"])
def test_replay_check_verifies_the_written_annotations(tmp_path, fmt):
    source = dataset(tmp_path)
    annotations = coco_input(tmp_path) if fmt == "coco" else yolo_labels(tmp_path)
    out = tmp_path / "out"
    labelled_run(source, out, annotations, fmt, per_image=2)
    assert augcore.replay(out).ok
    if fmt == "coco":
        document = json.loads((out / "annotations.json").read_text())
        document["annotations"][0]["bbox"][0] += 1
        (out / "annotations.json").write_text(json.dumps(document))
        expected = "annotations.json: missing, or not the annotations the manifest records"
    else:
        label = out / "labels" / "sub" / "b__k1.txt"
        label.write_text(label.read_text().replace("0 ", "1 ", 1))
        expected = "labels/sub/b__k1.txt: missing, or not the annotations of sub/b__k1.png"
    result = augcore.replay(out)
    assert not result.ok
    assert result.annotations == [expected]
    assert main(["replay", str(out), "--check"]) == 6


def test_labels_follow_the_jobs_resize(tmp_path):
    source, annotations = dataset(tmp_path), coco_input(tmp_path)
    out = tmp_path / "out"
    labelled_run(source, out, annotations, "coco", per_image=2, size="96x72")
    coco = COCO(str(out / "annotations.json"))
    assert {(i["width"], i["height"]) for i in coco.dataset["images"]} == {(96, 72)}
    for image in coco.dataset["images"]:
        pixels = np.array(Image.open(out / image["file_name"]))
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]])):
            colour = np.array(list(POLYGONS)[ann["category_id"] - 1])
            # bicubic resizing blends the edges: a pixel nearer the colour than black is in
            shown = np.abs(pixels - colour).sum(axis=-1) < np.abs(pixels).sum(axis=-1)
            assert iou(coco.annToMask(ann), shown) >= 0.95  # objects of ~1000 px at 96 x 72


def test_labels_follow_a_chain_that_changes_the_canvas(tmp_path):
    source, annotations = dataset(tmp_path), coco_input(tmp_path)
    out = tmp_path / "out"
    config = {
        "fill_mode": "constant",
        "steps": [
            {"transform": "crop", "height": 120, "width": 150, "position": "random"},
            {"transform": "perspective", "distortion_scale": 0.3},
        ],
    }
    labelled_run(source, out, annotations, "coco", per_image=3, config=config)
    coco = COCO(str(out / "annotations.json"))
    assert {(i["width"], i["height"]) for i in coco.dataset["images"]} == {(150, 120)}
    checked = 0
    for image in coco.dataset["images"]:
        pixels = np.array(Image.open(out / image["file_name"]))
        assert pixels.shape[:2] == (120, 150)
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]])):
            shown = coloured(pixels, list(POLYGONS)[ann["category_id"] - 1])
            if shown.sum() > 300:  # objects the crop cut to slivers are too small for IoU
                assert iou(coco.annToMask(ann), shown) >= 0.97
                checked += 1
    assert checked >= 4


def test_plan_lists_the_inputs_bad_annotations_would_skip(tmp_path):
    source, annotations = dataset(tmp_path), coco_input(tmp_path)
    data = json.loads(annotations.read_text())
    data["annotations"][0]["bbox"] = [0, 0, 0, 5]
    annotations.write_text(json.dumps(data))
    plan = augcore.plan(
        [source],
        tmp_path / "out",
        per_image=2,
        seed=0,
        annotations=annotations,
        annotation_format="coco",
    )
    assert plan.outputs == 4
    assert "annotation id 100: bbox [0, 0, 0, 5] is degenerate" in plan.describe()
    assert not (tmp_path / "out").exists()


def test_rle_masks_without_pycocotools_are_refused_before_anything_is_written(
    tmp_path, monkeypatch, capsys
):
    source, annotations = dataset(tmp_path), coco_input(tmp_path)
    data = json.loads(annotations.read_text())
    data["annotations"][0]["segmentation"] = {"size": list(SHAPE), "counts": "0"}
    annotations.write_text(json.dumps(data))
    monkeypatch.setitem(__import__("sys").modules, "pycocotools", None)
    args = cli_run_args(source, tmp_path / "out", annotations, "coco", 1)
    assert main(args) == 1
    assert "pip install augcore[coco]" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.png"))


def test_overwriting_a_labelled_run_removes_its_label_files(tmp_path):
    source = dataset(tmp_path)
    out = tmp_path / "out"
    labelled_run(source, out, yolo_labels(tmp_path), "yolo", per_image=3)
    assert (out / "labels" / "a__k2.txt").exists()
    augcore.run([source], out, per_image=2, seed=5, config=CONFIG, jobs=1, overwrite=True)
    assert not (out / "a__k2.png").exists() and not (out / "labels" / "a__k2.txt").exists()
    assert not list((out / "labels").rglob("*.txt"))


def test_the_chains_target_options_filter_and_the_manifest_records_the_drops(tmp_path):
    source, annotations = dataset(tmp_path), coco_input(tmp_path)
    out = tmp_path / "out"
    config = {
        "steps": [{"transform": "shift", "x": [0.25, 0.25], "y": 0}],
        "targets": {"min_visibility": 0.9},
    }
    labelled_run(source, out, annotations, "coco", per_image=1, config=config)
    entries = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()[1:]]
    dropped = {entry["key"]: entry["annotations"]["dropped"] for entry in entries}
    # the picture moves 48 px right: the green object (x 110..176 of 192) loses a quarter
    assert dropped == {"a.png": [{"index": 1, "reason": "min_visibility"}], "c.png": [],
                       "sub/b.png": [{"index": 1, "reason": "min_visibility"}]}  # fmt: skip
    written = json.loads((out / "annotations.json").read_text())
    assert [a["category_id"] for a in written["annotations"]] == [1, 1]
    assert augcore.replay(out).ok
