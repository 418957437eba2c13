"""Labelled datasets on disk: COCO, YOLO and Pascal VOC, read into and written from one model.

``model`` holds the format-free ``ImageLabels`` and ``move_labels``; each format module reads
its files into that model and writes it back (docs/targets.md, "Files").
"""

from __future__ import annotations

from augcore.annotations.coco import AnnotationProblem, CocoDataset, coco_json, read_coco
from augcore.annotations.model import (
    AnnotatedObject,
    ImageLabels,
    MovedLabels,
    flip_pairs_from_names,
    move_labels,
)
from augcore.annotations.voc import read_voc, voc_xml
from augcore.annotations.yolo import label_path, read_yolo, yolo_text

#: The annotation formats the job reads and writes.
ANNOTATION_FORMATS = ("coco", "yolo", "voc")

__all__ = [
    "ANNOTATION_FORMATS",
    "AnnotatedObject",
    "AnnotationProblem",
    "CocoDataset",
    "ImageLabels",
    "MovedLabels",
    "coco_json",
    "flip_pairs_from_names",
    "label_path",
    "move_labels",
    "read_coco",
    "read_voc",
    "read_yolo",
    "voc_xml",
    "yolo_text",
]
