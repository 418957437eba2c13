"""Pascal VOC: one XML file per image, boxes in 1-based integer pixel corners.

VOC's (xmin, ymin, xmax, ymax) count pixels from 1 and include both ends, so the continuous
box is (xmin - 1, ymin - 1, xmax, ymax), as Detectron2 reads it; written boxes are rounded
back to whole pixels. An object's other simple fields (pose, truncated, difficult...) are kept.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from augcore.annotations.model import AnnotatedObject, ImageLabels, check_inside
from augcore.errors import AnnotationError


def read_voc(path: str | Path, key: str) -> ImageLabels:
    """The objects of the VOC file ``path`` describing the image ``key``.

    Raises:
        AnnotationError: unreadable or malformed XML, a missing size or box, a degenerate box;
            the message names the file (and the XML line, or the object's index).
    """
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise AnnotationError(f"{path}: malformed XML (line {exc.position[0]}): {exc}") from exc
    except OSError as exc:
        raise AnnotationError(f"{path}: cannot read the annotation ({exc.strerror})") from exc
    try:
        size = root.find("size")
        shape = (int(size.findtext("height")), int(size.findtext("width")))  # type: ignore[union-attr, arg-type]
    except (AttributeError, TypeError, ValueError) as exc:
        raise AnnotationError(f"{path}: needs <size> with integer <width> and <height>") from exc
    depth = root.findtext("size/depth")
    objects = []
    for index, element in enumerate(root.iter("object")):
        name = (element.findtext("name") or "").strip()
        try:
            box = element.find("bndbox")
            xmin, ymin, xmax, ymax = (
                float(box.findtext(tag))  # type: ignore[union-attr, arg-type]
                for tag in ("xmin", "ymin", "xmax", "ymax")
            )
        except (AttributeError, TypeError, ValueError) as exc:
            raise AnnotationError(
                f"{path}: object {index} ({name!r}) needs <bndbox> with numeric xmin, ymin, "
                "xmax, ymax"
            ) from exc
        if not name or xmax < xmin or ymax < ymin:
            raise AnnotationError(
                f"{path}: object {index} ({name!r}) has no name or a degenerate box "
                f"({xmin}, {ymin}, {xmax}, {ymax})"
            )
        fields = {
            child.tag: (child.text or "").strip()
            for child in element
            if child.tag not in ("name", "bndbox") and len(child) == 0
        }
        box = (xmin - 1, ymin - 1, xmax, ymax)
        check_inside(box, shape, f"{path}: object {index} ({name!r})")
        objects.append(AnnotatedObject(name, box, fields=fields))
    fields = {"depth": depth} if depth else {}
    return ImageLabels(key, shape, tuple(objects), fields)


def voc_xml(labels: ImageLabels, filename: str, folder: str = "") -> str:
    """The VOC XML of ``labels`` for the image file ``filename``.

    Example:
        >>> labels = ImageLabels("a.png", (10, 20), (AnnotatedObject("dog", (1.2, 0, 5.6, 9)),))
        >>> "<xmin>2</xmin>" in voc_xml(labels, "a_0.png")
        True
    """
    height, width = labels.shape
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = folder
    ET.SubElement(root, "filename").text = filename
    size = ET.SubElement(root, "size")
    for tag, value in (
        ("width", width),
        ("height", height),
        ("depth", labels.fields.get("depth", "3")),
    ):
        ET.SubElement(size, tag).text = str(value)
    for item in labels.objects:
        element = ET.SubElement(root, "object")
        ET.SubElement(element, "name").text = str(item.category)
        for tag, value in item.fields.items():
            ET.SubElement(element, tag).text = str(value)
        x0, y0, x1, y1 = item.box
        xmin, ymin = round(x0) + 1, round(y0) + 1
        corners = (xmin, ymin, max(round(x1), xmin), max(round(y1), ymin))
        box = ET.SubElement(element, "bndbox")
        for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), corners, strict=True):
            ET.SubElement(box, tag).text = str(value)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"
