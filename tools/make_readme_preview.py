"""Regenerate docs/images/preview.png: the preview sheet of the shipped samples in the README.

The sheet is ``augcore.preview`` with ``SETTINGS``; tests/test_preview.py checks that the
committed image is still what these settings give (rerun this script when it says so).
Run: python tools/make_readme_preview.py [--out PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import augcore

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images" / "preview.png"
SETTINGS: dict[str, Any] = {"samples": True, "per_image": 3, "seed": 0, "tile": 192}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"default: {OUT.relative_to(ROOT)}")
    out = parser.parse_args(argv).out
    out.parent.mkdir(parents=True, exist_ok=True)
    augcore.preview(**SETTINGS).save(out, optimize=True)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
