"""The caller's options to ``run`` and ``plan``, checked before anything is read or written.

Each bad value is a JobOptionError naming the option, what it got and what is allowed. A single
str or path given as the sources is one source; an output size is held to the pixel limit of
inputs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from augcore.errors import JobOptionError
from augcore.imageio import OUTPUT_FORMATS, pixel_limit
from augcore.storage import is_url, local_path, protocol_of
from augcore.validation import is_integer

PathLike = str | os.PathLike[str]
ON_ERROR = ("stop", "skip")
EXECUTORS = ("local", "dask")
SEED_LIMIT = 2**64  # seeds are 64-bit (augcore.seeding)


def parse_size(
    size: str | Sequence[int] | None, max_pixels: int | None = None
) -> tuple[int, int] | None:
    """``"28x28"`` or ``(28, 28)`` -> (width, height); None keeps the input size.

    The size is held to the same pixel limit as inputs (``max_pixels``, else Pillow's), so a
    typo such as ``100000x100000`` is refused instead of exhausting memory.

    Raises:
        JobOptionError: not two positive integers, or more pixels than the limit.
    """
    if size is None:
        return None
    if isinstance(size, str):
        width, _, height = size.lower().partition("x")
        try:
            parsed = (int(width), int(height))
        except ValueError:
            raise JobOptionError(f"size {size!r} is not WIDTHxHEIGHT, e.g. 28x28") from None
    else:
        values = list(size) if isinstance(size, Sequence) else [size]
        if not all(is_integer(value) for value in values):
            raise JobOptionError(f"size {size!r} must be two positive integers (width, height)")
        parsed = tuple(int(value) for value in values)
    if len(parsed) != 2 or min(parsed) < 1:
        raise JobOptionError(f"size {size!r} must be two positive integers WIDTHxHEIGHT")
    limit = pixel_limit(max_pixels)
    if limit is not None and parsed[0] * parsed[1] > limit:
        raise JobOptionError(
            f"size {parsed[0]}x{parsed[1]} = {parsed[0] * parsed[1]} pixels is more than the "
            f"limit of {limit} (the same limit as for inputs); choose a smaller --size, or raise "
            "max_pixels if you have the memory"
        )
    return parsed[0], parsed[1]


def as_sources(sources: PathLike | Sequence[PathLike]) -> list[PathLike]:
    """The sources of a call: a single str or path is ONE source, not a sequence of letters.

    Raises:
        JobOptionError: an entry that is not a str or path.
    """
    if isinstance(sources, (str, os.PathLike)):
        return [sources]
    if isinstance(sources, bytes) or not isinstance(sources, Sequence):
        raise JobOptionError(
            f"sources must be a path or a list of paths, got {type(sources).__name__}"
        )
    for source in sources:
        if not isinstance(source, (str, os.PathLike)):
            raise JobOptionError(f"each source must be a str or path, got {source!r}")
    return list(sources)


def check_job_options(
    per_image: object,
    seed: object,
    fmt: object,
    on_error: object,
    jobs: object,
    max_pixels: object = None,
) -> None:
    """Refuse bad job options before anything is read or written.

    Raises:
        JobOptionError: naming the option, what it got and what is allowed.
    """
    if not is_integer(per_image) or per_image < 1:  # type: ignore[operator]
        raise JobOptionError(f"per_image must be a positive integer, got {per_image!r}")
    if not is_integer(seed) or not 0 <= seed < SEED_LIMIT:  # type: ignore[operator]
        raise JobOptionError(f"seed must be an integer in [0, 2**64), got {seed!r}")
    if fmt not in OUTPUT_FORMATS:
        raise JobOptionError(f"format must be one of {', '.join(OUTPUT_FORMATS)}, got {fmt!r}")
    if on_error not in ON_ERROR:
        raise JobOptionError(f"on_error must be 'stop' or 'skip', got {on_error!r}")
    if jobs is not None and (not is_integer(jobs) or jobs < 1):  # type: ignore[operator]
        raise JobOptionError(f"jobs must be a positive integer, got {jobs!r}")
    if max_pixels is not None and (not is_integer(max_pixels) or max_pixels < 1):  # type: ignore[operator]
        raise JobOptionError(f"max_pixels must be a positive integer, got {max_pixels!r}")


def check_executor(
    executor: object, scheduler: object, out: object, sources: object, annotations: object
) -> None:
    """Refuse an unknown executor, a scheduler without Dask, Dask with ``memory://``, and
    annotations with an fsspec ``--out`` (label files are written to local folders only).

    Raises:
        JobOptionError: naming the option and what to do.
    """
    if executor not in EXECUTORS:
        raise JobOptionError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if scheduler is not None and executor != "dask":
        raise JobOptionError("a scheduler is used only with executor 'dask' (--executor dask)")
    if annotations is not None and is_url(local_path(out)):
        raise JobOptionError(
            "annotations are written to a local --out folder only; write the run to a local "
            "folder (or a shared file system) and copy it to the object store"
        )
    named = [out, *(sources if isinstance(sources, (list, tuple)) else [])]
    if executor == "dask" and any(protocol_of(name) == "memory" for name in named):
        raise JobOptionError(
            "memory:// exists inside one process only, and Dask workers are other processes; "
            "use --executor local with memory://, or a shared file system or object store"
        )


def in_process_only(out: PathLike, sources: Sequence[PathLike]) -> bool:
    """True when a ``memory://`` URL is used: worker processes would not see it."""
    return any(protocol_of(name) == "memory" for name in [out, *sources])
