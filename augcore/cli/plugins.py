"""``augcore plugins [--json]``: every transform, its parameters, and where it comes from.

Broken third-party plugins do not hide the working ones: the listing runs the plugin manager
in warn mode and reports each problem (with the plugin and its distribution) on stderr and,
with ``--json``, under ``"problems"``. Exit code 1 when there were problems, else 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from typing import Any

from augcore.errors import PluginWarning
from augcore.manager import PluginManager, TransformInfo


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "plugins",
        help="list every transform, its parameters and the plugin it comes from",
        description=(
            "List the built-in transforms and those of installed plugins (entry point group "
            "'augcore'). AUGCORE_DISABLE_PLUGIN_AUTOLOAD=1 skips installed plugins; "
            "AUGCORE_BLOCK_PLUGINS=name,... skips the named ones."
        ),
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run_plugins)


def run_plugins(args: argparse.Namespace) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)  # reported below, once, in our format
        manager = PluginManager(on_error="warn")
    transforms = manager.transforms()
    if args.json:
        listing = {
            "transforms": [info.to_json() for info in transforms],
            "problems": manager.problems,
        }
        print(json.dumps(listing, indent=2))
    else:
        print("\n\n".join(_describe(info) for info in transforms))
    for problem in manager.problems:
        print(f"augcore: plugin problem: {problem}", file=sys.stderr)
    return 1 if manager.problems else 0


def _describe(info: TransformInfo) -> str:
    lines = [f"{info.name}  [{info.cls.kind}, {info.origin.source}]", f"    {info.cls.summary()}"]
    for param in info.cls.params:
        default = json.dumps(param.to_json()["default"])
        units = f" ({param.units})" if param.units else ""
        lines.append(f"    {param.name} = {default}{units}: {param.doc}; {param.allowed()}")
    return "\n".join(lines)
