"""The ``augcore`` command line: one sub-command module per concern, loaded on demand.

Each module listed in ``COMMAND_MODULES`` exposes ``register(subparsers)``, which adds its
sub-command(s) and sets ``func`` (taking the parsed ``argparse.Namespace`` and returning an exit
code) as the parser default.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

COMMAND_MODULES = (
    "augcore.cli.job",  # run, plan
    "augcore.cli.audit",  # report, replay
    "augcore.cli.plugins",  # plugins
    "augcore.cli.preview",  # preview
)


def build_parser() -> argparse.ArgumentParser:
    from augcore import __version__

    parser = argparse.ArgumentParser(
        prog="augcore",
        description="Fast, auditable image augmentation: exactly K traceable variants per image.",
    )
    parser.add_argument("--version", action="version", version=f"augcore {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:
        # The reader went away (`augcore plugins | head`): not an error worth a traceback.
        # Point stdout at devnull so the interpreter's final flush cannot raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports it


if __name__ == "__main__":
    sys.exit(main())
