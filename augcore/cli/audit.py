"""``augcore report DIR`` and ``augcore replay DIR [--check]``: audit a run from its manifest."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from augcore.cli.job import EXIT_MISMATCH, EXIT_OK, guarded


def _report(args: argparse.Namespace) -> int:
    from augcore.audit import report

    written = None
    if args.html is not None:
        from augcore.html_report import write_html_report

        written = write_html_report(args.dir, args.html)  # first: it names a damaged line
    print(report(args.dir).table())
    if written is not None:
        print(
            f"augcore: HTML report written to {written.path} ({written.bytes / 1024:.0f} KiB: "
            f"{written.histograms} histograms, {written.thumbnails} thumbnails)"
        )
        for note in written.notes:
            print(f"augcore: note: {note}", file=sys.stderr)
    return EXIT_OK


def _replay(args: argparse.Namespace) -> int:
    from augcore.audit import replay

    result = replay(args.dir, check=args.check)
    for line in result.lines():
        print(line)
    return EXIT_OK if result.ok else EXIT_MISMATCH


def register(subparsers: Any) -> None:
    report_parser = subparsers.add_parser(
        "report",
        help="what augmentation did: per transform, outputs touched and parameter ranges",
        description="Read DIR/manifest.jsonl and print, for each transform, how many outputs it "
        "touched and the min/mean/max of every numeric parameter it drew. With --html, also "
        "write one self-contained page: firing rates against p, a histogram of every sampled "
        "parameter, the most rotated and zoomed outputs, skipped inputs and the run's settings.",
    )
    report_parser.add_argument("dir", metavar="DIR", help="the --out folder (or URL) of a run")
    report_parser.add_argument(
        "--html",
        metavar="FILE",
        help='also write an HTML report to FILE (charts need pip install "augcore[report]")',
    )
    report_parser.set_defaults(func=guarded(_report))

    replay_parser = subparsers.add_parser(
        "replay",
        help="regenerate outputs from the manifest and verify them byte for byte",
        description="Regenerate every output in DIR/manifest.jsonl from its source and record, "
        "and compare with the recorded checksum and the file; re-sample (seed, key, k) and compare "
        "with the record. Tampered, missing, irreproducible and mis-recorded files are named; "
        "exit code 6 if any. Without --check, missing outputs "
        "are written back (never a file that differs).",
    )
    replay_parser.add_argument("dir", metavar="DIR", help="the --out folder (or URL) of a run")
    replay_parser.add_argument("--check", action="store_true", help="only verify; write nothing")
    replay_parser.set_defaults(func=guarded(_replay))
