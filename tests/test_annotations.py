"""COCO, YOLO and VOC files: read, moved with a warped image, written, and read back by others.

Oracles: objects are drawn into an image and the image is warped by the kernel; the written
annotations are read back by pycocotools (COCO) or a plain parser (YOLO text, VOC XML) and
must describe what the warped drawing shows.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from scipy import ndimage
from targets_oracles import draw_dots, draw_polygon, iou, mask_box, pull_map

import augcore
from augcore.annotations import (
    coco_json,
    label_path,
    move_labels,
    read_coco,
    read_voc,
    read_yolo,
    voc_xml,
    yolo_text,
)
from augcore.targets import TargetOptions

SHAPE = (120, 160)
POLYGON = [20.5, 15.2, 135.3, 25.7, 120.1, 105.4, 30.2, 95.8]
NAMES = ["nose", "left_eye", "right_eye"]
DOTS = [(60, 70), (50, 60), (50, 85)]  # (row, col) of nose, left eye, right eye
MAPS = {
    "rotate": dict(degrees=25),
    "flip": dict(flip_x=True),
    "zoom out of view": dict(scale=(1.6, 1.6), shift=(0, 60)),
}


def coco_file(tmp_path, **changes):
    rle_mask = np.zeros(SHAPE, np.uint8)
    rle_mask[20:50, 100:140] = 1
    rle = mask_utils.encode(np.asfortranarray(rle_mask))
    rle["counts"] = rle["counts"].decode()
    keypoints = [v for r, c in DOTS for v in (c + 0.5, r + 0.5, 2)]
    data = {
        "info": {"description": "test"},
        "images": [
            {"id": 7, "file_name": "a/img.png", "width": SHAPE[1], "height": SHAPE[0]},
            {"id": 8, "file_name": "empty.png", "width": 10, "height": 10},
        ],
        "annotations": [
            {
                "id": 1,
                "image_id": 7,
                "category_id": 3,
                "bbox": [20.5, 15.2, 114.8, 90.2],
                "segmentation": [POLYGON],
                "area": 1.0,
                "iscrowd": 0,
            },
            {
                "id": 2,
                "image_id": 7,
                "category_id": 5,
                "bbox": [100, 20, 40, 30],
                "segmentation": rle,
                "iscrowd": 1,
            },
            {
                "id": 3,
                "image_id": 7,
                "category_id": 1,
                "bbox": [55, 45, 35, 20],
                "keypoints": keypoints,
                "num_keypoints": 3,
            },
        ],
        "categories": [
            {"id": 3, "name": "shape"},
            {"id": 5, "name": "blob"},
            {"id": 1, "name": "face", "keypoints": NAMES},
        ],
    }
    data.update(changes)
    path = tmp_path / "in.json"
    path.write_text(json.dumps(data))
    return path, rle_mask


@pytest.mark.parametrize("name", MAPS)
def test_coco_round_trip_is_read_back_by_pycocotools_and_matches_the_warped_drawing(tmp_path, name):
    path, rle_mask = coco_file(tmp_path)
    dataset = read_coco(path)
    assert dataset.problems == []
    pull = pull_map(SHAPE, **MAPS[name])
    moved = move_labels(dataset.images["a/img.png"], pull, SHAPE, flip_pairs=dataset.flip_pairs)
    out = tmp_path / "annotations.json"
    out.write_text(coco_json(dataset, [("x/img_0.png", moved.labels)]))
    coco = COCO(str(out))
    assert coco.dataset["info"] == {"description": "test"}
    assert [c["id"] for c in coco.dataset["categories"]] == [3, 5, 1]
    (image,) = coco.dataset["images"]
    assert image["file_name"] == "x/img_0.png" and (image["height"], image["width"]) == SHAPE
    anns = {a["category_id"]: a for a in coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))}
    polygon = draw_polygon(SHAPE, np.reshape(POLYGON, (-1, 2)))
    warped = augcore.warp_affine(polygon, pull, fill_mode="constant")
    if warped.any():
        raster = coco.annToMask(anns[3])
        assert iou(raster, warped) >= 0.98
        x, y, w, h = anns[3]["bbox"]
        flat = np.reshape(anns[3]["segmentation"][0], (-1, 2))
        tight = np.r_[flat.min(axis=0), flat.max(axis=0)]
        assert np.allclose([x, y, x + w, y + h], tight, atol=0.011)  # 2 decimals, as COCO
        # a raster's box, warped nearest-neighbour by a zoom of up to 1.6, is within 1.3 px
        assert np.abs(tight - mask_box(warped)).max() <= 1.3
        assert (
            (flat >= 0).all() and (flat[:, 0] <= SHAPE[1]).all() and (flat[:, 1] <= SHAPE[0]).all()
        )
    else:
        assert 3 not in anns
    expected = ndimage.affine_transform(rle_mask, pull[:2, :2], offset=pull[:2, 2], order=0)
    if expected.any():
        assert np.array_equal(coco.annToMask(anns[5]), expected)
        assert anns[5]["area"] == expected.sum() and anns[5]["iscrowd"] == 1
    image_rgb, colours = draw_dots(SHAPE, DOTS)
    warped_rgb = augcore.warp_affine(image_rgb, pull, fill_mode="constant")
    points = np.reshape(anns[1]["keypoints"], (-1, 3))
    swapped = name == "flip"
    for row, dot in enumerate([0, 2, 1] if swapped else [0, 1, 2]):
        x, y, v = points[row]
        if v == 0:
            assert x == y == 0 and not (warped_rgb == colours[dot]).all(axis=-1).any()
        else:
            assert tuple(warped_rgb[int(y), int(x)]) == colours[dot]
    assert anns[1]["num_keypoints"] == int((points[:, 2] > 0).sum())


def test_coco_output_ids_are_new_and_the_bytes_repeat(tmp_path):
    path, _ = coco_file(tmp_path)
    dataset = read_coco(path)
    labels = dataset.images["a/img.png"]
    outputs = [
        (f"img_{k}.png", move_labels(labels, pull_map(SHAPE, degrees=10 * k), SHAPE).labels)
        for k in range(3)
    ]
    text = coco_json(dataset, outputs)
    assert text == coco_json(dataset, outputs)
    data = json.loads(text)
    assert [i["id"] for i in data["images"]] == [1, 2, 3]
    assert [a["id"] for a in data["annotations"]] == list(range(1, len(data["annotations"]) + 1))
    assert dataset.images["empty.png"].objects == ()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"annotations": [{"id": 9, "image_id": 99, "category_id": 3, "bbox": [0, 0, 1, 1]}]},
            "annotation id 9 names image_id 99",
        ),
        (
            {"annotations": [{"id": 4, "image_id": 7, "category_id": 42, "bbox": [0, 0, 1, 1]}]},
            "annotation id 4 has category_id 42",
        ),
        (
            {"annotations": [{"id": 5, "image_id": 7, "category_id": 3, "bbox": [0, 0, 0, 1]}]},
            r"annotation id 5: bbox \[0, 0, 0, 1\] is degenerate",
        ),
        (
            {
                "annotations": [
                    {
                        "id": 6,
                        "image_id": 7,
                        "category_id": 1,
                        "bbox": [0, 0, 1, 1],
                        "keypoints": [1, 2, 2],
                    }
                ]
            },
            "annotation id 6: keypoints must be 3",
        ),
        (
            {
                "annotations": [
                    {"id": 11, "image_id": 7, "category_id": 3, "bbox": [150, 10, 30, 10]},
                ]
            },
            r"annotation id 11: the box \(150, 10, 180, 20\) reaches outside the 160x120 image",
        ),
        (
            {
                "annotations": [
                    {
                        "id": 8,
                        "image_id": 7,
                        "category_id": 3,
                        "bbox": [0, 0, 1, 1],
                        "segmentation": [[1, 2, 3, 4]],
                    }
                ]
            },
            "annotation id 8: each polygon",
        ),
    ],
)
def test_coco_problems_name_the_annotation_and_keep_the_other_images(tmp_path, change, message):
    path, _ = coco_file(tmp_path, **change)
    dataset = read_coco(path)
    assert len(dataset.problems) == 1
    assert str(path) in dataset.problems[0].message
    assert __import__("re").search(message, dataset.problems[0].message)
    assert "empty.png" in dataset.images


def test_coco_files_that_are_not_coco_are_refused_naming_the_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"images": [\n  {"id": 1,}\n]}')
    with pytest.raises(augcore.AnnotationError, match=r"bad.json: not valid JSON \(line 2"):
        read_coco(path)
    path.write_text('{"images": []}')
    with pytest.raises(augcore.AnnotationError, match="'annotations' and 'categories'"):
        read_coco(path)
    with pytest.raises(augcore.AnnotationError, match="cannot read"):
        read_coco(tmp_path / "missing.json")


def test_rle_masks_without_pycocotools_are_refused_naming_the_extra(tmp_path, monkeypatch):
    path, _ = coco_file(tmp_path)
    labels = read_coco(path).images["a/img.png"]
    monkeypatch.setitem(sys.modules, "pycocotools", None)
    with pytest.raises(augcore.MissingExtraError, match=r"pip install augcore\[coco\]"):
        move_labels(labels, np.eye(3), SHAPE)


def parse_yolo_rows(text):
    return [
        (int(line.split()[0]), [float(v) for v in line.split()[1:]]) for line in text.splitlines()
    ]


def test_yolo_round_trip_boxes_and_polygons(tmp_path):
    height, width = SHAPE
    polygon = np.reshape(POLYGON, (-1, 2)) / [width, height]
    text = f"2 0.5 0.25 0.2 0.1\n\n0 {' '.join(map(str, polygon.ravel()))}\n"
    path = label_path(tmp_path / "labels", "a/img.png")
    path.parent.mkdir(parents=True)
    path.write_text(text)
    labels = read_yolo(path, "a/img.png", SHAPE)
    pull = pull_map(SHAPE, flip_y=True, degrees=12)
    rows = parse_yolo_rows(yolo_text(move_labels(labels, pull, SHAPE).labels))
    (box_class, box), (poly_class, poly) = rows
    assert (box_class, poly_class) == (2, 0)
    moved = np.reshape(poly, (-1, 2)) * [width, height]
    warped = augcore.warp_affine(draw_polygon(SHAPE, np.reshape(POLYGON, (-1, 2))), pull)
    assert iou(draw_polygon(SHAPE, moved), warped) >= 0.98
    box_mask = np.zeros(SHAPE, np.uint8)
    box_mask[24:36, 64:96] = 1  # the box 0.5 0.25 0.2 0.1 in pixels
    warped_box = mask_box(augcore.warp_affine(box_mask, pull, fill_mode="constant"))
    cx, cy, w, h = np.array(box) * [width, height, width, height]
    assert (
        np.abs(np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]) - warped_box).max() <= 1
    )


def test_yolo_missing_files_are_images_without_objects_and_bad_lines_are_named(tmp_path):
    assert read_yolo(tmp_path / "none.txt", "none.png", SHAPE).objects == ()
    path = tmp_path / "bad.txt"
    path.write_text("0 0.5 0.5 0.2 0.2\n1 0.5 zero 0.2 0.2\n")
    with pytest.raises(augcore.AnnotationError, match=r"bad.txt, line 2: expected"):
        read_yolo(path, "bad.png", SHAPE)
    path.write_text("0 0.5 0.5 0 0.2\n")
    with pytest.raises(augcore.AnnotationError, match="line 1: the box is degenerate"):
        read_yolo(path, "bad.png", SHAPE)
    path.write_text("0 0.5 0.5 0.2 0.2\n0 0.95 0.5 0.2 0.2\n")
    with pytest.raises(augcore.AnnotationError, match=r"line 2: the box .* reaches outside"):
        read_yolo(path, "bad.png", SHAPE)


VOC = """<annotation><filename>img.png</filename>
<size><width>160</width><height>120</height><depth>3</depth></size>
<object><name>dog</name><difficult>1</difficult>
<bndbox><xmin>21</xmin><ymin>11</ymin><xmax>60</xmax><ymax>40</ymax></bndbox></object>
<object><name>cat</name>
<bndbox><xmin>150</xmin><ymin>100</ymin><xmax>160</xmax><ymax>120</ymax></bndbox></object>
</annotation>"""


def test_voc_round_trip_read_back_by_a_plain_parser(tmp_path):
    path = tmp_path / "img.xml"
    path.write_text(VOC)
    labels = read_voc(path, "img.png")
    shift = np.array([[1.0, 0, 0], [0, 1, -5], [0, 0, 1]])  # 5 px right: the cat leaves
    moved = move_labels(labels, shift, SHAPE, options=TargetOptions(min_visibility=0.6))
    assert moved.dropped == [{"index": 1, "reason": "min_visibility"}]
    root = ET.fromstring(voc_xml(moved.labels, "img_0.png"))
    assert root.findtext("filename") == "img_0.png"
    assert (root.findtext("size/width"), root.findtext("size/height")) == ("160", "120")
    (obj,) = root.findall("object")
    assert obj.findtext("name") == "dog" and obj.findtext("difficult") == "1"
    box = [int(obj.findtext(f"bndbox/{t}")) for t in ("xmin", "ymin", "xmax", "ymax")]
    assert box == [26, 11, 65, 40]  # pixels 21..60 (1-based) moved 5 to the right


def test_voc_problems_name_the_file(tmp_path):
    path = tmp_path / "bad.xml"
    path.write_text("<annotation><size>")
    with pytest.raises(augcore.AnnotationError, match=r"bad.xml: malformed XML \(line 1"):
        read_voc(path, "bad.png")
    path.write_text(VOC.replace("<xmax>60</xmax>", "<xmax>2</xmax>"))
    with pytest.raises(augcore.AnnotationError, match=r"object 0 \('dog'\) .* degenerate"):
        read_voc(path, "bad.png")
    path.write_text(VOC.replace("<xmax>160</xmax>", "<xmax>170</xmax>"))
    with pytest.raises(augcore.AnnotationError, match=r"object 1 \('cat'\): the box"):
        read_voc(path, "bad.png")
    path.write_text(VOC.replace("<width>160</width>", ""))
    with pytest.raises(augcore.AnnotationError, match="needs <size>"):
        read_voc(path, "bad.png")


def test_uncompressed_crowd_rle_is_moved_like_its_mask(tmp_path):
    mask = np.zeros(SHAPE, np.uint8)
    mask[10:40, 30:90] = 1
    counts, previous, run = [], 0, 0
    for value in mask.ravel(order="F"):  # COCO's uncompressed RLE: column-major run lengths
        if value != previous:
            counts.append(run)
            previous, run = value, 0
        run += 1
    counts.append(run)
    path, _ = coco_file(tmp_path)
    data = json.loads(path.read_text())
    data["annotations"][1]["segmentation"] = {"size": list(SHAPE), "counts": counts}
    path.write_text(json.dumps(data))
    dataset = read_coco(path)
    pull = pull_map(SHAPE, degrees=15)
    moved = move_labels(dataset.images["a/img.png"], pull, SHAPE)
    out = tmp_path / "annotations.json"
    out.write_text(coco_json(dataset, [("x.png", moved.labels)]))
    coco = COCO(str(out))
    (ann,) = [a for a in coco.dataset["annotations"] if a["category_id"] == 5]
    expected = ndimage.affine_transform(mask, pull[:2, :2], offset=pull[:2, 2], order=0)
    assert np.array_equal(coco.annToMask(ann), expected)
    assert ann["area"] == expected.sum()
