"""Writing the job's results: each output placed atomically, then its manifest line.

Rules: an output appears under its final name all at once (augcore.imageio.write_atomic: a
temporary file in the same folder, then a rename), and the manifest line that records it is
made only after that, in the worker, so the parent appends it once the file is in place.
"""

from __future__ import annotations

import os
from typing import Any

from augcore.imageio import sha256_hex, write_atomic
from augcore.manifest import encode_entry


def write_output(out: str, rel: str, data: bytes, folders: set[str]) -> None:
    """Place ``data`` at ``out/rel``; ``folders`` remembers the folders already made."""
    target = os.path.join(out, rel)  # strings: pathlib costs add up here
    folder = os.path.dirname(target)
    if folder not in folders:
        os.makedirs(folder, exist_ok=True)
        folders.add(folder)
    write_atomic(target, data)


def output_entry(
    rel: str,
    source: str,
    key: str,
    k: int,
    data: bytes,
    record: dict[str, Any],
    annotations: dict[str, Any] | None = None,
) -> bytes:
    """The manifest line of one output written with ``data`` (schema: docs/manifest.md);
    ``annotations``: what its labels became (augcore.job.labels), in labelled runs only."""
    entry: dict[str, Any] = {
        "path": rel,
        "source": source,
        "key": key,
        "k": k,
        "sha256": sha256_hex(data),
        "record": record,
    }
    if annotations is not None:
        entry["annotations"] = annotations
    return encode_entry(entry)
