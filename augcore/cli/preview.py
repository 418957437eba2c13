"""``augcore preview SOURCE... --out sheet.png``: a contact sheet of what ``run`` would write."""

from __future__ import annotations

import argparse
import io
import os
from typing import Any

from augcore.annotations import ANNOTATION_FORMATS
from augcore.cli.job import EXIT_OK, chain_arguments, guarded, source_arguments
from augcore.errors import PreviewError

_SHEET_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


def _preview(args: argparse.Namespace) -> int:
    from augcore.contact_sheet import preview
    from augcore.safefile import write_atomic

    pillow_format = _SHEET_FORMATS.get(os.path.splitext(args.out)[1].lower())
    if pillow_format is None:
        raise PreviewError(
            f"--out {args.out!r}: a sheet is written as {', '.join(_SHEET_FORMATS)}; "
            "give a file name with one of those extensions"
        )
    if os.path.isdir(args.out):
        raise PreviewError(f"--out {args.out!r} is a folder; give a file name such as sheet.png")
    sheet = preview(
        args.sources,
        per_image=args.per_image,
        seed=args.seed,
        config=args.config,
        size=args.size,
        from_list=args.from_list,
        samples=args.samples,
        limit=args.limit,
        tile=args.tile,
        on_error=args.on_error,
        max_pixels=args.max_pixels,
        annotations=args.annotations,
        annotation_format=args.annotation_format,
    )
    buffer = io.BytesIO()
    sheet.save(buffer, format=pillow_format)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_atomic(args.out, buffer.getvalue())
    print(f"augcore: preview sheet {sheet.width}x{sheet.height} written to {args.out}")
    return EXIT_OK


def register(subparsers: Any) -> None:
    from augcore.contact_sheet import DEFAULT_TILE, MAX_SHEET_PIXELS

    parser = subparsers.add_parser(
        "preview",
        help="draw a contact sheet: each input, then K variants exactly as `run` makes them",
        description="Draw one row per input: the original, then K variants, each captioned "
        "with k and the steps that fired with their values. Variant k is exactly what "
        "`augcore run` with the same sources, --seed, --config and --size writes as output k.",
    )
    source_arguments(parser)
    parser.add_argument(
        "--out", required=True, metavar="FILE", help="the sheet to write (.png, .jpg or .webp)"
    )
    parser.add_argument(
        "--per-image", type=int, default=3, metavar="K", help="variants per input (default 3)"
    )
    chain_arguments(parser)
    parser.add_argument("--limit", type=int, metavar="N", help="show only the first N inputs")
    parser.add_argument(
        "--annotations",
        metavar="PATH",
        help="draw each input's objects, moved: a COCO file, or a YOLO/VOC label folder",
    )
    parser.add_argument(
        "--annotation-format", choices=ANNOTATION_FORMATS, help="the format of --annotations"
    )
    parser.add_argument(
        "--tile",
        type=int,
        default=DEFAULT_TILE,
        metavar="PX",
        help=f"side of each tile in pixels (default {DEFAULT_TILE})",
    )
    parser.add_argument(
        "--on-error",
        choices=("stop", "skip"),
        default="stop",
        help="on an unreadable input: stop (default), or skip it with a row saying why",
    )
    parser.add_argument(
        "--max-pixels",
        type=int,
        default=MAX_SHEET_PIXELS,
        metavar="N",
        help=f"refuse a sheet larger than N pixels (default {MAX_SHEET_PIXELS:,})",
    )
    parser.set_defaults(func=guarded(_preview))
