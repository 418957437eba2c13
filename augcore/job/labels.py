"""Labelled runs: annotations read with the inputs, moved with every output, written back.

``augcore run ... --annotations PATH --annotation-format coco|yolo|voc``. The parent reads a
COCO file once (``plan_labels``) and hands each task its image's labels; YOLO and VOC files are
read by the worker next to the image. Either way an input's labels are read and checked before
any of its outputs is written, so a bad annotation never leaves an orphaned output: it stops
the run or, with ``--on-error skip``, skips that input like an unreadable image.

Each output's labels follow its record's fused warps (``augcore.annotations.move_labels``).
YOLO and VOC files are written next to the outputs, atomically, before the image; the output's
manifest line names the file, its sha256 and what was dropped. COCO annotations go into the
manifest line itself and ``DIR/annotations.json`` is assembled from the manifest in output
order once the run ends, so ``--jobs`` and resumes give the same bytes, and a run that died
before the end writes it when resumed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from augcore.annotations import ANNOTATION_FORMATS, ImageLabels, MovedLabels, move_labels
from augcore.annotations.coco import (
    AnnotationProblem,
    CocoDataset,
    coco_document,
    coco_image,
    read_coco,
)
from augcore.annotations.model import pycocotools_mask
from augcore.annotations.voc import read_voc, voc_xml
from augcore.annotations.yolo import label_path, read_yolo, yolo_text
from augcore.errors import AnnotationError, JobOptionError
from augcore.imageio import sha256_hex, write_atomic
from augcore.manifest import Manifest
from augcore.targets import TargetOptions
from augcore.targets.follow import run_output_shape

COCO_NAME = "annotations.json"
#: Where YOLO and VOC files go inside the output folder, mirroring the outputs' paths.
LABEL_FOLDERS = {"yolo": "labels", "voc": "Annotations"}


@dataclass(frozen=True)
class LabelSpec:
    """What a worker needs to read, move and write labels (pickled with the job spec)."""

    format: str
    path: str
    options: TargetOptions = field(default_factory=TargetOptions)
    flip_pairs: Mapping[Any, list[tuple[int, int]]] = field(default_factory=dict)


@dataclass
class LabelPlan:
    """The parent's view: the spec, COCO labels by input key, and inputs refused with why."""

    spec: LabelSpec
    coco: CocoDataset | None = None
    by_key: dict[str, ImageLabels] = field(default_factory=dict)
    problems: list[AnnotationProblem] = field(default_factory=list)


def check_label_options(annotations: object, annotation_format: object) -> None:
    """Both or neither; a known format.

    Raises:
        JobOptionError: naming the option and what is allowed.
    """
    if annotations is None and annotation_format is None:
        return
    if annotations is None or annotation_format is None:
        raise JobOptionError("--annotations and --annotation-format go together; give both")
    if annotation_format not in ANNOTATION_FORMATS:
        raise JobOptionError(
            f"annotation format must be one of {', '.join(ANNOTATION_FORMATS)}, "
            f"got {annotation_format!r}"
        )


def labels_header(annotations: Any, annotation_format: str) -> dict[str, Any]:
    """The run header's record of its annotations (a changed COCO file is another run)."""
    path = Path(annotations).resolve()
    digest = sha256_hex(path.read_bytes()) if path.is_file() else None
    return {"format": annotation_format, "path": str(path), "sha256": digest}


def plan_labels(
    annotations: Any,
    annotation_format: str,
    keys: Sequence[str],
    options: TargetOptions | None = None,
) -> LabelPlan:
    """Read what the parent reads and list the inputs the annotations cannot serve;
    ``options``: the chain's ``targets`` options (box rule, filters).

    Raises:
        AnnotationError: the COCO file is unusable as a whole, or a YOLO/VOC folder is missing.
    """
    path = Path(annotations).resolve()
    if annotation_format != "coco":
        if not path.is_dir():
            raise AnnotationError(
                f"{path}: --annotations for {annotation_format} is the folder of label files"
            )
        return LabelPlan(LabelSpec(annotation_format, str(path), options or TargetOptions()))
    dataset = read_coco(path)
    inputs = set(keys)
    problems = list(dataset.problems)
    for name in sorted(set(dataset.images) - inputs):
        problems.append(
            AnnotationProblem(
                None,
                f"{path}: image {name!r} is not among the inputs (file_name must be the path "
                "relative to the SOURCE folder)",
            )
        )
    if any(item.rle is not None for labels in dataset.images.values() for item in labels.objects):
        pycocotools_mask()  # RLE masks need the extra: refuse now, before anything is written
    spec = LabelSpec("coco", str(path), options or TargetOptions(), dataset.flip_pairs)
    return LabelPlan(spec, dataset, dict(dataset.images), problems)


def read_labels(
    spec: LabelSpec, key: str, given: ImageLabels | None, shape: tuple[int, ...], resized: bool
) -> ImageLabels:
    """An input's labels on its decoded image of ``shape``; scaled when the job resized it.

    Raises:
        AnnotationError: a malformed file, or labels for an image of another size.
    """
    image_shape = (int(shape[0]), int(shape[1]))
    if spec.format == "coco":
        labels = given or ImageLabels(key, image_shape)
    elif spec.format == "yolo":
        labels = read_yolo(label_path(spec.path, key), key, image_shape)
    else:
        xml = Path(spec.path) / Path(key).with_suffix(".xml")
        labels = read_voc(xml, key) if xml.exists() else ImageLabels(key, image_shape)
    if labels.shape == image_shape:
        return labels
    if not resized:
        raise AnnotationError(
            f"the annotations of {key} describe a {labels.shape[1]}x{labels.shape[0]} image, "
            f"but it is {image_shape[1]}x{image_shape[0]}"
        )
    return move_labels(labels, _resize_map(labels.shape, image_shape), image_shape).labels


def _resize_map(source: tuple[int, int], target: tuple[int, int]) -> np.ndarray:
    """The pull map of a resize that scales the whole canvas (pixel centres stay centres)."""
    sy, sx = source[0] / target[0], source[1] / target[1]
    return np.array([[sy, 0.0, 0.5 * sy - 0.5], [0.0, sx, 0.5 * sx - 0.5], [0.0, 0.0, 1.0]])


def follow_record(spec: LabelSpec, labels: ImageLabels, record: Mapping[str, Any]) -> MovedLabels:
    """Labels moved through every fused warp of an output's record, drops in input indices."""
    dropped: list[dict[str, Any]] = []
    survivors = list(range(len(labels.objects)))
    for run in record["fused"]:
        moved = move_labels(
            labels,
            np.asarray(run["matrix"]),
            run_output_shape(run, labels.shape),
            options=spec.options,
            flip_pairs=spec.flip_pairs,
        )
        gone = {d["index"] for d in moved.dropped}
        dropped += [{"index": survivors[d["index"]], "reason": d["reason"]} for d in moved.dropped]
        survivors = [index for i, index in enumerate(survivors) if i not in gone]
        labels = moved.labels
    return MovedLabels(labels, sorted(dropped, key=lambda d: d["index"]))  # type: ignore[arg-type]


def annotation_entry(
    spec: LabelSpec, rel: str, moved: MovedLabels
) -> tuple[dict[str, Any], tuple[str, bytes] | None]:
    """The manifest's ``annotations`` entry of the output ``rel``, and the YOLO/VOC file to
    write with it (path inside the output folder, bytes); None for COCO."""
    entry: dict[str, Any] = {
        "format": spec.format,
        "objects": len(moved.labels.objects),
        "dropped": list(moved.dropped),
    }
    if spec.format == "coco":
        entry["image"] = coco_image(rel, moved.labels)
        return entry, None
    if spec.format == "yolo":
        target, text = label_path(LABEL_FOLDERS["yolo"], rel).as_posix(), yolo_text(moved.labels)
    else:
        target = (Path(LABEL_FOLDERS["voc"]) / Path(rel).with_suffix(".xml")).as_posix()
        text = voc_xml(moved.labels, Path(rel).name, Path(rel).parent.as_posix())
    data = text.encode("utf-8")
    entry.update(path=target, sha256=sha256_hex(data))
    return entry, (target, data)


def write_labels(spec: LabelSpec, out: str, rel: str, moved: MovedLabels) -> dict[str, Any]:
    """Write the YOLO/VOC file of the output ``rel`` (before the image is written); return
    the output's manifest ``annotations`` entry."""
    entry, file = annotation_entry(spec, rel, moved)
    if file is not None:
        destination = os.path.join(out, file[0])
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        write_atomic(destination, file[1])
    return entry


def coco_text(dataset: CocoDataset, manifest: Manifest) -> bytes:
    """The annotations.json of a COCO run from its manifest: outputs ordered by (key, k), so
    neither --jobs nor a resume changes a byte."""
    labelled = [
        entry
        for entry in manifest.entries
        if isinstance(entry.get("annotations"), dict) and "image" in entry["annotations"]
    ]
    labelled.sort(key=lambda entry: (str(entry.get("key")), int(entry.get("k", 0))))
    images = [entry["annotations"]["image"] for entry in labelled]
    return coco_document(dataset.head, dataset.categories, images).encode("utf-8")


def write_coco(out: Path, dataset: CocoDataset, manifest: Manifest) -> Path:
    """Assemble ``out/annotations.json`` from the manifest (``coco_text``)."""
    target = out / COCO_NAME
    write_atomic(str(target), coco_text(dataset, manifest))
    return target


class LabelReplay:
    """``replay``'s check of a labelled run: every output's annotations made again from the
    source's labels and its record, compared with the manifest and the files."""

    def __init__(
        self, header: Mapping[str, Any], keys: Sequence[str], options: TargetOptions
    ) -> None:
        info = header["annotations"]
        self.plan = plan_labels(info["path"], info["format"], keys, options)
        self.resized = header.get("size") is not None

    def problem(self, entry: Mapping[str, Any], shape: tuple[int, ...], out: Path) -> str | None:
        """Why this output's annotations do not match (None when they do)."""
        spec, key, rel = self.plan.spec, str(entry.get("key")), str(entry.get("path"))
        try:
            labels = read_labels(spec, key, self.plan.by_key.get(key), shape, self.resized)
        except AnnotationError as exc:
            return f"{rel}: its annotations cannot be read again ({exc})"
        expected, file = annotation_entry(spec, rel, follow_record(spec, labels, entry["record"]))
        if json.loads(json.dumps(expected)) != entry.get("annotations"):
            return f"{rel}: the recorded annotations are not what its labels and record give"
        if file is not None:
            target = out / file[0]
            if not target.is_file() or target.read_bytes() != file[1]:
                return f"{file[0]}: missing, or not the annotations of {rel}"
        return None

    def coco_problem(self, manifest: Manifest, out: Path) -> str | None:
        """Why ``annotations.json`` differs from what the manifest gives (None if it does not)."""
        if self.plan.coco is None:
            return None
        target = out / COCO_NAME
        if not target.is_file() or target.read_bytes() != coco_text(self.plan.coco, manifest):
            return f"{COCO_NAME}: missing, or not the annotations the manifest records"
        return None
