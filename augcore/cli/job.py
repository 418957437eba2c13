"""``augcore run`` and ``augcore plan``: thin argument layers over augcore.run / augcore.plan.

Exit codes (docs/job.md): 0 all done; 1 another error (config, plugin, manifest, a folder that
cannot be written); 2 bad command line; 3 a bad input stopped the run; 4 refused (the output
folder holds another run, or a path would leave it); 5 finished, but inputs were skipped
(``--on-error skip``); 6 replay found tampered, missing or irreproducible files; 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from augcore.annotations import ANNOTATION_FORMATS
from augcore.errors import (
    AnnotationError,
    AugcoreError,
    InputImageError,
    JobOptionError,
    OutputConflictError,
    ReplayMismatchError,
    UnsafePathError,
)
from augcore.imageio import OUTPUT_FORMATS
from augcore.safefile import explain

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3
EXIT_REFUSED = 4
EXIT_PARTIAL = 5
EXIT_MISMATCH = 6
EXIT_INTERRUPTED = 130

_EXIT_FOR_ERROR: tuple[tuple[type[BaseException], int], ...] = (
    (JobOptionError, EXIT_USAGE),
    (InputImageError, EXIT_BAD_INPUT),
    (AnnotationError, EXIT_BAD_INPUT),
    (OutputConflictError, EXIT_REFUSED),
    (UnsafePathError, EXIT_REFUSED),
    (ReplayMismatchError, EXIT_MISMATCH),
    (AugcoreError, EXIT_ERROR),
    (ValueError, EXIT_USAGE),
    (OSError, EXIT_ERROR),  # e.g. the output folder is not writable
)


def guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn the errors a command expects into one ``augcore: error:`` message and an exit code."""

    def run_guarded(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except KeyboardInterrupt:
            print("augcore: interrupted; rerun the same command to resume", file=sys.stderr)
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            raise  # the reader went away: augcore.cli.main ends quietly
        except (AugcoreError, ValueError, OSError) as exc:
            # A raw OS error (errno text) gets a sentence saying what to do next.
            text = explain(exc) if isinstance(exc, OSError) and exc.errno else str(exc)
            print(f"augcore: error: {text}", file=sys.stderr)
            return next(code for kind, code in _EXIT_FOR_ERROR if isinstance(exc, kind))

    return run_guarded


def source_arguments(parser: argparse.ArgumentParser) -> None:
    """The inputs, as ``run``, ``plan`` and ``preview`` all take them."""
    parser.add_argument("sources", nargs="*", metavar="SOURCE", help="image files or folders")
    parser.add_argument("--from-list", metavar="FILE", help="a text file naming one image a line")
    parser.add_argument(
        "--samples", action="store_true", help="include the sample images shipped with augcore"
    )


def chain_arguments(parser: argparse.ArgumentParser) -> None:
    """What decides each output's pixels (with the sources), shared by ``run`` and ``preview``
    so that a previewed variant is the file ``run`` writes."""
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="run seed (default 0)")
    parser.add_argument(
        "--config", metavar="FILE", help="chain config (.toml/.json); default: the shipped chain"
    )
    parser.add_argument("--size", metavar="WxH", help="resize inputs to WxH before augmenting")


def _job_arguments(parser: argparse.ArgumentParser) -> None:
    source_arguments(parser)
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="output folder, or an fsspec URL (s3://...)"
    )
    parser.add_argument(
        "--per-image", required=True, type=int, metavar="K", help="variants written per input"
    )
    chain_arguments(parser)
    parser.add_argument(
        "--format", choices=OUTPUT_FORMATS, default="same", help="output format (default: same)"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the files of a different earlier run in --out instead of refusing",
    )
    parser.add_argument(
        "--annotations",
        metavar="PATH",
        help="labels to move with the images: a COCO .json, or the folder of YOLO/VOC files",
    )
    parser.add_argument(
        "--annotation-format",
        choices=ANNOTATION_FORMATS,
        help="the format of --annotations, also the format written (docs/targets.md)",
    )


def _shared(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "sources": args.sources,
        "out": args.out,
        "per_image": args.per_image,
        "seed": args.seed,
        "config": args.config,
        "size": args.size,
        "format": args.format,
        "overwrite": args.overwrite,
        "from_list": args.from_list,
        "samples": args.samples,
        "annotations": args.annotations,
        "annotation_format": args.annotation_format,
    }


def _run(args: argparse.Namespace) -> int:
    from augcore.job import run

    quiet = True if args.quiet else None  # None: a progress bar only on a terminal
    summary = run(
        **_shared(args),
        jobs=args.jobs,
        on_error=args.on_error,
        quiet=quiet,
        verify=args.verify,
        executor=args.executor,
        scheduler=args.scheduler,
    )
    for note in summary.notes:
        print(f"augcore: note: {note}", file=sys.stderr)
    for skipped in summary.skipped:
        print(f"augcore: skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    if not args.quiet:
        print(summary.line())
    return EXIT_OK if summary.complete else EXIT_PARTIAL


def _plan(args: argparse.Namespace) -> int:
    from augcore.job import plan

    print(plan(**_shared(args), examples=args.examples).describe())
    return EXIT_OK


def register(subparsers: Any) -> None:
    run_parser = subparsers.add_parser(
        "run",
        help="write K augmented variants of every input, with a manifest",
        description="Write exactly K augmented variants of every readable input into --out, "
        "with --out/manifest.jsonl recording what was done to each. Rerunning the same command "
        "resumes. Exit codes: 0 done, 1 error, 2 usage, 3 bad input, 4 refused, 5 partial.",
    )
    _job_arguments(run_parser)
    run_parser.add_argument(
        "--jobs", type=int, metavar="J", help="worker processes (default: the CPU count)"
    )
    run_parser.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="where batches run: local processes (default) or a Dask cluster "
        '(pip install "augcore[dask]"); outputs are the same either way',
    )
    run_parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --executor dask: the scheduler's address, e.g. tcp://10.0.0.5:8786 "
        "(default: a local cluster of --jobs worker processes)",
    )
    run_parser.add_argument(
        "--on-error",
        choices=("stop", "skip"),
        default="stop",
        help="on a bad input: stop (default) or skip it and list it at the end",
    )
    run_parser.add_argument(
        "--quiet", action="store_true", help="no progress bar and no summary line"
    )
    run_parser.add_argument(
        "--verify",
        action="store_true",
        help="on a resume, check every recorded output's sha256 (not only its size) and "
        "write again any that differs",
    )
    run_parser.set_defaults(func=guarded(_run))

    plan_parser = subparsers.add_parser(
        "plan",
        help="show what `run` would write, without writing",
        description="Count inputs and outputs, show example names, list inputs that would be "
        "skipped and why, and say whether --out is new, resumable or would be refused.",
    )
    _job_arguments(plan_parser)
    plan_parser.add_argument(
        "--examples", type=int, default=5, metavar="N", help="example names to show (default 5)"
    )
    plan_parser.set_defaults(func=guarded(_plan))
